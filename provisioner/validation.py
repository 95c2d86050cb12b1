"""`provisioner validate`: every page loaded and checked offline (no network, state or secrets).

Apart from `workflows` so that validating, which every CI job runs first, imports neither HTTP, the
state backends nor cryptography; `workflows` uses it for every command that reads pages.
"""

from __future__ import annotations

from dataclasses import replace

from .errors import ConfigError, Problem
from .load import load_pages
from .pagefile import DesiredPage
from .policy import check
from .project import PROJECT_FILE
from .settings import Settings


def validate(settings: Settings, need_tokens: bool = False,
             warnings: list[Problem] | None = None, policies: bool = True) -> dict[str, DesiredPage]:
    """Load and check every page offline; ConfigError lists every problem. Pages limited to other
    targets (``targets:`` in the page file) are left out. Policy rules (`policy`) are checked on the
    pages of this target (unless ``policies`` is false: drift reports live edits whatever the rules):
    errors are problems; warnings go to ``warnings`` when given."""
    api_key = settings.api_key_env if not settings.api.owner_is_secret else None  # v3: the API key's variable
    rules = settings.policies if policies else None
    pages = load_pages(settings.pages_dir, settings.env, need_tokens=need_tokens,
                       secret_variables=(settings.lock_key_env, settings.state_dsn_env, api_key), api=settings.api,
                       origins=rules is not None and bool(rules.rules))
    problems = [
        Problem(str(page.file), None, None, "targets",
                f"unknown target {name!r}", f"targets of {PROJECT_FILE}: {', '.join(settings.known_targets) or 'none'}")
        for page in pages.values()
        for name in page.targets
        if name not in settings.known_targets
    ]
    chosen = {a: p for a, p in pages.items() if not p.targets or settings.target_name in p.targets}
    violations = check(chosen.values(), rules)
    problems += [v.problem for v in violations if v.severity == "error"]
    if problems:
        raise ConfigError(problems)
    if warnings is not None:
        warnings += [v.problem for v in violations if v.severity == "warning"]
    # Where each value was written served the checks above; nothing after validation reads it, and at
    # 10,000 pages it is ~60 MB a plan would otherwise carry through its refresh.
    return {a: replace(p, origins=None, value_sources=None) for a, p in chosen.items()}
