"""Where a command works: settings from flags, environment and provisioner.yaml; the sealing key,
the state backend and the API client they select."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from provisioner.apis import Api, ClientOptions, Pages, get_api

from .errors import ProvisionerError, StateError
from .fileio import is_within
from .policy import Policies
from .project import PROJECT_FILE, RateLimitSettings, TargetSettings, load_project, resolve_target
from .safety import Limits
from .secrets import KEY_ENV, Sealer, load_key

if TYPE_CHECKING:  # imported where used: `validate` and `--help` need no HTTP, state backend or emulator
    from .changes import Target  # nor the plan's types
    from .state.base import StateBackend

EMBEDDED_URL = "http://emulator.local"  # base URL of the in-process emulator (never on the network)


@dataclass(frozen=True)
class Settings:
    """What every command is told: where pages, state and the API are."""

    pages_dir: Path = Path("pages")
    lockfile: Path = Path("pages.lock")
    api_url: str | None = None
    parallelism: int = 8
    state_dir: Path = Path(".provisioner")  # the embedded emulator's data and local key
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    target_name: str | None = None  # a target of provisioner.yaml
    known_targets: tuple[str, ...] = ()
    lock_key_env: str = KEY_ENV
    state_dsn_env: str | None = None  # PostgreSQL state (its DSN in this variable) instead of the lockfile
    state_chosen: bool = True  # False when the lockfile is only the default (see state.switch)
    other_states: tuple[Path, ...] = ()  # the lockfiles of the other targets of provisioner.yaml
    rate_limits: RateLimitSettings | None = None
    limits: Limits = Limits()  # plan/apply safety limits: flags over the target's over the defaults
    policies: Policies | None = None  # policies: of provisioner.yaml (checked by validate and plan)
    api_name: str = "nylas-v2"  # which Scheduler API (`provisioner.apis`), from provisioner.yaml
    api_key_env: str = "NYLAS_API_KEY"  # v3: the variable holding the API key (a secret)
    refresh: str = "auto"  # how live pages are read: `changes.REFRESH_MODES` (`provisioner.refresh`)

    @property
    def api(self) -> Api:
        return get_api(self.api_name)

    @property
    def embedded(self) -> bool:
        return not self.api_url

    @property
    def target(self) -> Target:
        from .changes import Target

        if self.api_url:
            return Target(api_url=self.api_url.rstrip("/"), name=self.target_name, api=self.api_name)
        return Target(api_url=f"emulator:{self.state_dir / 'emulator.db'}", name=self.target_name, emulator=True,
                      api=self.api_name)


def settings_for(
    *,
    pages_dir: Path,
    lockfile: Path | None,
    api_url: str | None,
    target_env: str | None,
    parallelism: int | None,
    env: Mapping[str, str],
    project_file: Path = PROJECT_FILE,
    max_deletes: int | None = None,
    max_changes_percent: float | None = None,
    refresh: str | None = None,
) -> Settings:
    """Settings from the command line over the chosen target of provisioner.yaml over the defaults."""
    project = load_project(project_file)
    target = resolve_target(project, target_env, env)
    chosen = target.settings
    return Settings(
        pages_dir=pages_dir,
        lockfile=lockfile or _lockfile_of(target.name, chosen.state),
        api_url=check_api_url(api_url or chosen.api_url),
        parallelism=parallelism or chosen.parallelism or 8,
        env=target.env,
        target_name=target.name,
        known_targets=tuple(sorted(project.targets)) if project else (),
        lock_key_env=chosen.lock_key_env,
        state_dsn_env=None if lockfile else target.postgres_dsn_env,
        state_chosen=bool(lockfile or chosen.state),
        other_states=tuple(_lockfile_of(name, t.state) for name, t in (project.targets if project else {}).items()
                           if name != target.name),
        rate_limits=chosen.rate_limits,
        limits=_limits(chosen, max_deletes, max_changes_percent),
        policies=project.policies if project else None,
        api_name=target.api,
        api_key_env=chosen.api_key_env,
        refresh=refresh or "auto",
    )


def _limits(chosen: TargetSettings, max_deletes: int | None, max_changes_percent: float | None) -> Limits:
    default = Limits()
    deletes = next(v for v in (max_deletes, chosen.max_deletes, default.max_deletes) if v is not None)
    percent = next(
        v for v in (max_changes_percent, chosen.max_changes_percent, default.max_changes_percent) if v is not None
    )
    return Limits(max_deletes=deletes, max_changes_percent=percent)


def is_loopback(host: str) -> bool:
    """``localhost`` or a loopback IP address (127.0.0.0/8, ::1); never a name such as ``127.evil.com``."""
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
def _lockfile_of(target: str | None, state: object) -> Path:
    """A target's lockfile: its ``state:`` path, else ``pages.NAME.lock`` (``pages.lock`` with no target)."""
    if isinstance(state, str):
        return Path(state)
    return Path(f"pages.{target}.lock") if target else Path("pages.lock")



def check_api_url(url: str | None) -> str | None:
    """Refuse an API URL that cannot work or would leak: not http(s), no host, credentials in it, or
    plain http to anything but this machine (tokens would cross the network in clear)."""
    if not url:
        return None
    import httpx

    try:
        parsed = httpx.URL(url)
        host = parsed.host  # decoded here, lazily: a malformed international name (`xn--`) fails only now
    except (httpx.InvalidURL, ValueError) as exc:  # idna's IDNAError is a ValueError too
        raise ProvisionerError(f"the API URL is not a valid URL ({_reason(exc)})") from None
    if parsed.port is not None and not 0 < parsed.port < 65536:
        raise ProvisionerError(f"the API URL's port {parsed.port} is not between 1 and 65535")
    if parsed.scheme not in ("http", "https") or not host:
        raise ProvisionerError(f"the API URL must be https://HOST[/PATH], got {parsed.scheme or 'no'} scheme")
    if parsed.userinfo:
        raise ProvisionerError("the API URL must not contain credentials; tokens come from page files")
    if parsed.scheme == "http" and not is_loopback(host):
        raise ProvisionerError(f"plain http is only allowed to this machine (the emulator), not to {host}")
    return url


# --- building blocks ------------------------------------------------------------------------------


def _reason(exc: Exception) -> str:
    """A foreign error's message, cut short and without control characters (never a secret here)."""
    text = str(exc)[:80]
    return text if text.isprintable() else ascii(text)


def sealer(settings: Settings) -> Sealer:
    """The sealer of the state's tokens. The embedded emulator keeps its key in `.provisioner/lock.key`
    when ``PROVISIONER_LOCK_KEY`` is unset; a damaged key file is named with the way out."""
    local_key = settings.state_dir / "lock.key" if settings.embedded else None
    if local_key is None or settings.env.get(settings.lock_key_env):
        return Sealer(load_key(settings.env, local_key, settings.lock_key_env))
    fix = (f"restore it, or set {settings.lock_key_env} to the key {settings.lockfile} was sealed with; "
           f"if the lockfile holds no pages yet, delete {local_key} and a new key is made")
    try:
        return Sealer(load_key(settings.env, local_key, settings.lock_key_env))
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not a text file"
        raise StateError(f"{local_key}: cannot read the local key ({why}); {fix}") from None
    except StateError:  # Sealer refused what the file holds
        raise StateError(f"{local_key}: not a valid key (made by `provisioner keygen`); {fix}") from None


@contextmanager
def emulator_database(db: Path) -> Iterator[None]:
    """Opening the embedded or served emulator over `db`: a file that is not its database (damaged,
    or something else) is an error naming it, never a traceback."""
    import sqlite3

    try:
        yield
    except sqlite3.DatabaseError as exc:
        raise ProvisionerError(
            f"{db}: not a usable emulator database ({_reason(exc)}); move it aside "
            "(the emulator starts a new one) or restore it from a copy"
        ) from None
    except IsADirectoryError:
        raise ProvisionerError(f"{db}: is a directory, not the emulator's database; move it aside") from None


def backend(settings: Settings, seal: Sealer | None = None) -> StateBackend:
    """The target's state: PostgreSQL when it names a DSN, else the lockfile."""
    from .state.migrate import is_dsn, open_backend
    from .state.switch import refuse_silent_switch

    spec = str(settings.lockfile)
    if settings.state_dsn_env:  # read only when the state is needed: `validate` works without it
        spec = settings.env.get(settings.state_dsn_env, "")
        if not spec:
            raise ProvisionerError(f"environment variable {settings.state_dsn_env} (the PostgreSQL DSN) is not set")
        if not is_dsn(spec):  # never a lockfile's name: an empty state, and a password in the file name
            raise ProvisionerError(f"environment variable {settings.state_dsn_env} does not hold a PostgreSQL DSN "
                                   f"(postgresql://HOST/DB or host=... dbname=...); its value is not shown")
    elif is_within(settings.lockfile, settings.pages_dir):
        raise ProvisionerError(f"the lockfile {settings.lockfile} is inside {settings.pages_dir}/, where every file "
                               f"is a page; keep it elsewhere")
    elif not settings.state_chosen:
        refuse_silent_switch(settings.lockfile, settings.target_name, settings.target.state_key, settings.other_states)
    return open_backend(spec, seal or sealer(settings), target=settings.target_name or "default")


EMBEDDED_API_KEY = "embedded-emulator-key"  # the in-process emulator's placeholder API key (not a secret)


@asynccontextmanager
async def open_client(settings: Settings) -> AsyncIterator[Pages]:
    """The target API's client (`provisioner.apis.Pages`): the in-process emulator, or the API URL."""
    api = settings.api
    if settings.embedded:
        from .emulator import Emulator  # the embedded default target, in-process

        db = settings.state_dir / "emulator.db"
        with emulator_database(db):
            emulator = Emulator(db)
        try:
            options = ClientOptions(EMBEDDED_URL, transport=emulator.transport(), parallelism=settings.parallelism,
                                    env={settings.api_key_env: EMBEDDED_API_KEY}, api_key_env=settings.api_key_env,
                                    embedded=True)
            async with api.open_client(options) as client:
                yield client
        finally:
            emulator.close()
    else:
        from .ratelimit import RateLimits

        limits = settings.rate_limits
        options = ClientOptions(
            settings.target.api_url, parallelism=settings.parallelism,
            rate_limits=RateLimits(limits.per_account, limits.per_application) if limits else None,
            env=settings.env, api_key_env=settings.api_key_env,
        )
        async with api.open_client(options) as client:
            yield client
