"""`provisioner.yaml`: named targets (environments), each with its API, state, key and variables.

```yaml
api: nylas-v2                               # the project's default API (nylas-v2 without it)
targets:
  staging:
    api_url: https://staging-scheduler.internal.example
    state: pages.staging.lock               # a lockfile path ...
    lock_key_env: PROVISIONER_LOCK_KEY_STAGING
    variables: {CALENDAR_OWNER: ops@example.com}
  production:
    api_url: https://api.schedule.nylas.com
    state: {postgres_dsn_env: PROVISIONER_PG_DSN}   # ... or PostgreSQL, DSN from a variable
    rate_limits: {per_account: 50, per_application: 500}
    max_deletes: 2                          # plan/apply safety limits (see provisioner.safety)
    max_changes_percent: 20
  v3:
    api: nylas-v3                           # Scheduler v3: configurations under grants
    api_url: https://api.us.nylas.com
    api_key_env: NYLAS_API_KEY              # the variable holding the API key (a secret; the default)
```

With no file, provisioner has one unnamed target: ``--api-url`` or the embedded emulator.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .errors import ConfigError, Problem, ProvisionerError
from .policy import Policies
from .secrets import KEY_ENV, InterpolationError, interpolate
from .yamlfile import format_path, load_yaml

PROJECT_FILE = Path("provisioner.yaml")
TARGET_ENV = "PROVISIONER_TARGET_ENV"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)


class PostgresState(_Strict):
    postgres_dsn_env: str = Field(description="Environment variable holding the DSN (never a literal credential).")


class RateLimitSettings(_Strict):
    per_account: float | None = Field(50, gt=0, description="Requests per second per account.")
    per_application: float | None = Field(500, gt=0, description="Requests per second in all.")


ApiName = Literal["nylas-v2", "nylas-v3"]
DEFAULT_API: ApiName = "nylas-v2"
API_KEY_ENV = "NYLAS_API_KEY"


class TargetSettings(_Strict):
    api: ApiName | None = Field(None, description="nylas-v2 or nylas-v3 (default: the project's, else nylas-v2).")
    api_key_env: str = Field(API_KEY_ENV, description="Variable holding the v3 API key (a secret).")
    api_url: str | None = Field(None, description="Scheduler API base URL; absent: the embedded emulator.")
    state: str | PostgresState | None = Field(None, description="Lockfile path, or {postgres_dsn_env: VAR}.")
    lock_key_env: str = Field(KEY_ENV, description="Variable holding this target's sealing key.")
    variables: dict[str, str] = Field(default_factory=dict, description="${VAR} values for this target.")
    parallelism: int | None = Field(None, ge=1, le=256)
    rate_limits: RateLimitSettings | None = None
    max_deletes: int | None = Field(None, ge=0, description="Refuse to delete more live pages in one run (5).")
    max_changes_percent: float | None = Field(
        None, ge=0, le=100,
        description="Refuse to update more than this share of the managed pages in one run (30; from 10 pages).",
    )


class ProjectFile(_Strict):
    api: ApiName = Field(DEFAULT_API, description="The API of every target that names none.")
    targets: dict[str, TargetSettings] = Field(default_factory=dict)
    policies: Policies | None = Field(None, description="Rules every page must follow (see provisioner.policy).")


@dataclass(frozen=True)
class ResolvedTarget:
    """The chosen target with its variables interpolated."""

    name: str | None
    settings: TargetSettings
    env: dict[str, str]  # the process environment with this target's variables over it
    api: str = DEFAULT_API  # the target's API, else the project's


    @property
    def postgres_dsn_env(self) -> str | None:
        state = self.settings.state
        return state.postgres_dsn_env if isinstance(state, PostgresState) else None


def load_project(path: Path) -> ProjectFile | None:
    if not path.exists():
        return None
    doc = load_yaml(path)
    try:
        return ProjectFile.model_validate(doc.data or {})
    except ValidationError as exc:
        problems = []
        for error in exc.errors(include_input=False):
            loc = tuple(error["loc"])
            message = error["msg"].removeprefix("Value error, ")
            problems.append(Problem(doc.file, *doc.locate(loc), format_path(loc), message))
        raise ConfigError(problems) from None


def resolve_target(project: ProjectFile | None, name: str | None, env: Mapping[str, str]) -> ResolvedTarget:
    """The target named ``name`` (or the only one); refuses an unknown name or an ambiguous choice."""
    if project is None or not project.targets:
        if name:
            raise ProvisionerError(f"--target-env {name}: no targets are defined (there is no {PROJECT_FILE})")
        return ResolvedTarget(None, TargetSettings(), dict(env), project.api if project else DEFAULT_API)
    names = sorted(project.targets)
    if name is None:
        if len(names) > 1:
            raise ProvisionerError(
                f"{PROJECT_FILE} defines several targets ({', '.join(names)}): choose one with --target-env NAME "
                f"or {TARGET_ENV}"
            )
        name = names[0]
    if name not in project.targets:
        close = [n for n in names if n.startswith(name)] or difflib.get_close_matches(name, names, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ProvisionerError(f"--target-env {name}: no such target in {PROJECT_FILE} ({', '.join(names)}){hint}")
    settings = project.targets[name]
    merged: dict[str, Any] = dict(env)
    for key, value in settings.variables.items():
        try:
            merged[key] = interpolate(value, env)
        except InterpolationError as exc:
            raise ProvisionerError(f"{PROJECT_FILE}: targets.{name}.variables.{key}: {exc}") from None
    return ResolvedTarget(name, settings, merged, settings.api or project.api)
