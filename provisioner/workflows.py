"""One function per command, wiring loader, state, client, plan and apply.

The CLI parses options into `Settings`, calls one function here and renders what it returns.
Nothing here prints except through the `Reporter` and `confirm` callbacks it is given.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr

from . import planfile
from .adopt import account_address, page_yaml
from .apply import Applier, ApplyResult, Reporter, check_safety
from .changes import Action, DriftReport, Plan, Target
from .client import SchedulerClient
from .diff import diff
from .drift import drift_report
from .errors import Aborted, ConfigError, NotFound, Problem, ProvisionerError, StateError
from .fileio import atomic_write
from .load import UNRESOLVED_TOKEN as UNRESOLVED
from .load import load_pages
from .model import Config, Page
from .pagefile import DesiredPage
from .plan import LiveView, desired_document, find_moves, live_document, make_plan
from .preview import Preview, compare
from .project import PROJECT_FILE, RateLimitSettings, load_project, resolve_target
from .ratelimit import RateLimits
from .secrets import KEY_ENV, Sealer, load_key
from .slots import Host
from .state import current_holder
from .state.base import Resource, State, StateBackend
from .state.migrate import migrate, open_backend

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
    rate_limits: RateLimitSettings | None = None

    @property
    def embedded(self) -> bool:
        return not self.api_url

    @property
    def target(self) -> Target:
        if self.api_url:
            return Target(api_url=self.api_url.rstrip("/"), name=self.target_name)
        return Target(api_url=f"emulator:{self.state_dir / 'emulator.db'}", name=self.target_name, emulator=True)


def settings_for(
    *,
    pages_dir: Path,
    lockfile: Path | None,
    api_url: str | None,
    target_env: str | None,
    parallelism: int | None,
    env: Mapping[str, str],
    project_file: Path = PROJECT_FILE,
) -> Settings:
    """Settings from the command line over the chosen target of provisioner.yaml over the defaults."""
    project = load_project(project_file)
    target = resolve_target(project, target_env, env)
    chosen = target.settings
    state_file = chosen.state if isinstance(chosen.state, str) else None
    default_lockfile = Path(f"pages.{target.name}.lock") if target.name else Path("pages.lock")
    return Settings(
        pages_dir=pages_dir,
        lockfile=lockfile or (Path(state_file) if state_file else default_lockfile),
        api_url=check_api_url(api_url or chosen.api_url),
        parallelism=parallelism or chosen.parallelism or 8,
        env=target.env,
        target_name=target.name,
        known_targets=tuple(sorted(project.targets)) if project else (),
        lock_key_env=chosen.lock_key_env,
        state_dsn_env=None if lockfile else target.postgres_dsn_env,
        rate_limits=chosen.rate_limits,
    )


LOOPBACK = ("localhost", "127.0.0.1", "::1")


def check_api_url(url: str | None) -> str | None:
    """Refuse an API URL that cannot work or would leak: not http(s), no host, credentials in it, or
    plain http to anything but this machine (tokens would cross the network in clear)."""
    if not url:
        return None
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError):
        raise ProvisionerError("the API URL is not a valid URL") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ProvisionerError(f"the API URL must be https://HOST[/PATH], got {parsed.scheme or 'no'} scheme")
    if parsed.userinfo:
        raise ProvisionerError("the API URL must not contain credentials; tokens come from page files")
    if parsed.scheme == "http" and parsed.host not in LOOPBACK and not parsed.host.startswith("127."):
        raise ProvisionerError(f"plain http is only allowed to this machine (the emulator), not to {parsed.host}")
    return url


# --- building blocks ------------------------------------------------------------------------------


def validate(settings: Settings, need_tokens: bool = False) -> dict[str, DesiredPage]:
    """Load and check every page offline; ConfigError lists every problem. Pages limited to other
    targets (``targets:`` in the page file) are left out."""
    pages = load_pages(settings.pages_dir, settings.env, need_tokens=need_tokens)
    problems = [
        Problem(str(page.file), None, None, "targets",
                f"unknown target {name!r}", f"targets of {PROJECT_FILE}: {', '.join(settings.known_targets) or 'none'}")
        for page in pages.values()
        for name in page.targets
        if name not in settings.known_targets
    ]
    if problems:
        raise ConfigError(problems)
    return {a: p for a, p in pages.items() if not p.targets or settings.target_name in p.targets}


def sealer(settings: Settings) -> Sealer:
    local_key = settings.state_dir / "lock.key" if settings.embedded else None
    return Sealer(load_key(settings.env, local_key, settings.lock_key_env))


def backend(settings: Settings, seal: Sealer | None = None) -> StateBackend:
    """The target's state: PostgreSQL when it names a DSN, else the lockfile."""
    spec = str(settings.lockfile)
    if settings.state_dsn_env:  # read only when the state is needed: `validate` works without it
        spec = settings.env.get(settings.state_dsn_env, "")
        if not spec:
            raise ProvisionerError(f"environment variable {settings.state_dsn_env} (the PostgreSQL DSN) is not set")
    return open_backend(spec, seal or sealer(settings), target=settings.target_name or "default")


@asynccontextmanager
async def open_client(settings: Settings) -> AsyncIterator[SchedulerClient]:
    if settings.embedded:
        from .emulator import Emulator  # the embedded default target, in-process

        emulator = Emulator(settings.state_dir / "emulator.db")
        try:
            async with SchedulerClient(
                EMBEDDED_URL, transport=emulator.transport(), parallelism=settings.parallelism
            ) as client:
                yield client
        finally:
            emulator.close()
    else:
        limits = settings.rate_limits
        async with SchedulerClient(
            settings.target.api_url,
            parallelism=settings.parallelism,
            limits=RateLimits(limits.per_account, limits.per_application) if limits else None,
        ) as client:
            yield client


async def refresh(
    client: SchedulerClient, state: State, addresses: set[str] | None, accounts: Mapping[str, SecretStr]
) -> dict[str, LiveView | None]:
    """The live page of every state resource (``None`` when the API says it is gone). ``accounts``
    maps addresses to an access token of the page, the account that rate limits charge."""

    async def one(address: str) -> tuple[str, LiveView | None]:
        resource = state.resources[address]
        try:
            page = await client.get_page(resource.id, resource.edit_token, account=accounts.get(address))
            return address, LiveView.of(page, resource)  # the page itself is not kept: memory is O(pages)
        except NotFound:
            return address, None

    wanted = [a for a in state.resources if addresses is None or a in addresses]
    return dict(await asyncio.gather(*(one(a) for a in wanted)))


def _select(desired: dict[str, DesiredPage], state: State, targets: tuple[str, ...]) -> tuple[
    dict[str, DesiredPage], State, set[str] | None
]:
    if not targets:
        return desired, state, None
    unknown = [t for t in targets if t not in desired and t not in state.resources]
    if unknown:
        raise ProvisionerError(f"--target {unknown[0]}: no such page in pages/ or in the state")
    chosen = set(targets)
    for new, old in find_moves(desired, state).items():  # a moved page is planned with both its addresses
        if new in chosen or old in chosen:
            chosen |= {new, old}
    resources = {a: r for a, r in state.resources.items() if a in chosen}
    return (
        {a: p for a, p in desired.items() if a in chosen},
        State(state.lineage, state.serial, state.api_url, resources, state.pending_creates),
        chosen,
    )


async def _plan(
    settings: Settings, client: SchedulerClient, state: State, desired: dict[str, DesiredPage],
    targets: tuple[str, ...], seal: Sealer,
) -> Plan:
    chosen_desired, chosen_state, addresses = _select(desired, state, targets)
    accounts = {
        a: p.access_tokens[0] for a, p in chosen_desired.items() if p.access_tokens[0].get_secret_value() != UNRESOLVED
    }
    live = await refresh(client, chosen_state, addresses, accounts)
    digests = {a: seal.digest(p.access_tokens) for a, p in chosen_desired.items()}
    return make_plan(settings.target, chosen_desired, chosen_state, live, digests)


# --- commands --------------------------------------------------------------------------------------


def plan(settings: Settings, targets: tuple[str, ...] = (), need_tokens: bool = True) -> Plan:
    """`provisioner plan`: read state (no lock), refresh live pages, diff."""
    desired = validate(settings, need_tokens=need_tokens)
    seal = sealer(settings)
    state = backend(settings, seal).read(settings.target.api_url)

    async def run() -> Plan:
        async with open_client(settings) as client:
            return await _plan(settings, client, state, desired, targets, seal)

    return asyncio.run(run())


@dataclass(frozen=True)
class ApplyRequest:
    plan_file: Path | None = None
    targets: tuple[str, ...] = ()
    max_deletes: int = 5


def apply(
    settings: Settings,
    request: ApplyRequest,
    confirm: Callable[[Plan], bool],
    reporter: Reporter,
) -> tuple[Plan, ApplyResult | None]:
    """`provisioner apply`: lock, plan, check safety, confirm (``confirm`` shows the plan and may ask), converge.

    Returns the plan and the result (``None`` when there was nothing to do or it was declined).
    """
    saved = planfile.load(request.plan_file) if request.plan_file else None
    targets = saved.targets if saved else request.targets
    desired = validate(settings, need_tokens=True)
    seal = sealer(settings)
    store = backend(settings, seal)
    store.read(settings.target.api_url)  # a broken or foreign state fails here, before anything is touched

    async def run() -> tuple[Plan, ApplyResult | None]:
        with store.transaction(settings.target.api_url, current_holder(settings.env)) as txn:
            async with open_client(settings) as client:
                fresh = await _plan(settings, client, txn.state, desired, targets, seal)
                if saved is not None:
                    planfile.verify(saved, fresh)
                check_safety(fresh, request.max_deletes)
                pending = any(p.action is not Action.NOOP or p.drift for p in fresh.pages)
                if not pending:
                    return fresh, None
                if not confirm(fresh):
                    raise Aborted("apply cancelled; nothing was changed")
                result = await Applier(client, txn, seal, desired, reporter).run(fresh)
                return fresh, result

    return asyncio.run(run())


def drift(settings: Settings, targets: tuple[str, ...] = ()) -> DriftReport:
    """`provisioner drift`: live pages against what was last applied."""
    # Drift reads live pages with edit tokens only: the access-token variables need not be set.
    return drift_report(plan(settings, targets, need_tokens=False))


# --- state commands -------------------------------------------------------------------------------


def state_read(settings: Settings) -> State:
    return backend(settings).read(settings.target.api_url)


@contextmanager
def _state_txn(settings: Settings) -> Iterator:
    with backend(settings).transaction(settings.target.api_url, current_holder(settings.env)) as txn:
        yield txn


def state_mv(settings: Settings, old: str, new: str) -> None:
    with _state_txn(settings) as txn:
        txn.move(old, new)  # refuses an unknown OLD or a taken NEW


def state_rm(settings: Settings, address: str) -> None:
    with _state_txn(settings) as txn:
        txn.forget(address)  # refuses an unknown address


# --- adoption -------------------------------------------------------------------------------------


def _adopted(address: str, page: Page, prevent_destroy: bool) -> Resource:
    doc = live_document(page)
    # tokens_digest None: the tokens are unknown until provisioner first writes them.
    return Resource(address, page.id, page.slug, page.edit_token, doc["name"], doc["config"], None, prevent_destroy)


def import_page(settings: Settings, address: str, page_id: int, edit_token: SecretStr) -> Page:
    """`provisioner import`: record an existing live page under ADDRESS, without changing it."""

    async def fetch() -> Page:
        async with open_client(settings) as client:
            return await client.get_page(page_id, edit_token)

    with _state_txn(settings) as txn:
        _refuse_managed(txn.state, address, page_id)
        page = asyncio.run(fetch())
        txn.record(_adopted(address, page, False))
    return page


def _refuse_managed(state: State, address: str, page_id: int) -> None:
    if address in state.resources:
        raise StateError(f"{address} is already managed (page {state.resources[address].id})")
    for other in state.resources.values():
        if other.id == page_id:
            raise StateError(f"page {page_id} is already managed as {other.address}")


def import_account(settings: Settings, access_token: SecretStr, folder: str) -> list[tuple[str, Page]]:
    """Adopt every page an account lists, at FOLDER/SLUG, and write each page file."""

    async def fetch() -> list[Page]:
        async with open_client(settings) as client:
            return await client.list_pages(access_token)

    adopted = []
    with _state_txn(settings) as txn:
        for page in sorted(asyncio.run(fetch()), key=lambda p: p.slug):
            if any(r.id == page.id for r in txn.state.resources.values()):
                continue  # already managed: leave it where it is
            address = account_address(folder, page)
            _refuse_managed(txn.state, address, page.id)
            _write_page_file(settings, address, page, overwrite=False)
            txn.record(_adopted(address, page, False))
            adopted.append((address, page))
    return adopted


def _write_page_file(settings: Settings, address: str, page: Page, overwrite: bool) -> Path:
    path = settings.pages_dir / f"{address}.yaml"
    if path.exists() and not overwrite:
        raise ProvisionerError(f"{path} exists; pass --force to overwrite it")
    atomic_write(path, page_yaml(page, address))
    return path


def pull(settings: Settings, address: str, overwrite: bool) -> tuple[Path, list[str]]:
    """`provisioner pull`: write the live page at ADDRESS as YAML. Returns the file and the paths that
    still differ once loaded (values merged in from a `_defaults.yaml`), which the caller reports."""
    state = state_read(settings)
    if address not in state.resources:
        raise StateError(f"{address} is not managed; adopt it first with `provisioner import {address} --page-id ID`")
    resource = state.resources[address]

    async def fetch() -> Page:
        async with open_client(settings) as client:
            return await client.get_page(resource.id, resource.edit_token)

    page = asyncio.run(fetch())
    path = _write_page_file(settings, address, page, overwrite)
    loaded = load_pages(settings.pages_dir, settings.env, need_tokens=False).get(address)
    differing = [leaf.path for leaf in diff(live_document(page), desired_document(loaded))] if loaded else []
    return path, differing


# --- preview --------------------------------------------------------------------------------------


def preview(settings: Settings, address: str, start: date, days: int) -> Preview:
    """`provisioner preview`: the slots of the page as written, beside the live page's when it is live."""
    page = validate(settings, need_tokens=False).get(address)
    if page is None:
        raise ProvisionerError(f"{address}: no such page in {settings.pages_dir}/")
    resource = state_read(settings).resources.get(address)

    async def fetch() -> tuple[Page | None, list[dict[str, Any]]]:
        async with open_client(settings) as client:
            try:
                live = await client.get_page(resource.id, resource.edit_token)
                return live, await client.get_calendars(resource.id, resource.edit_token)
            except NotFound:
                return None, []

    live, accounts = asyncio.run(fetch()) if resource else (None, [])
    desired = Config.model_validate(page.config)
    return compare(address, desired, live.config if live else None, preview_hosts(desired, accounts, page), start, days)


def preview_hosts(config: Config, accounts: list[dict[str, Any]], page: DesiredPage) -> list[Host]:
    """The page's hosts: the live accounts when known, else one placeholder per access token (rules
    scoped to an ``account_id`` then match nobody; the preview says so through its host names)."""
    if accounts:
        chosen = config.calendar_ids or {}
        return [
            Host(
                account_id=a["id"], name=a.get("name") or a["id"], email=a.get("email", ""),
                booking_calendar_id=(chosen[a["id"]].booking if a["id"] in chosen else None)
                or next((c["id"] for c in a.get("calendars", []) if not c.get("read_only")), ""),
            )
            for a in accounts
        ]
    ids = list(config.calendar_ids or {})
    return [
        Host(account_id=ids[i] if i < len(ids) else f"account-{i + 1}", name=f"host {i + 1}", email="",
             booking_calendar_id="")
        for i in range(len(page.access_tokens))
    ]


def state_migrate(settings: Settings, to: str) -> State:
    """`provisioner state migrate --to DSN-or-FILE`: copy the state losslessly; the target must be empty."""
    seal = sealer(settings)  # one sealer for both sides: sealed tokens are copied as they are
    source = backend(settings, seal)
    target = open_backend(to, seal, target=settings.target_name or "default")
    return migrate(source, target, settings.target.api_url, current_holder(settings.env))
