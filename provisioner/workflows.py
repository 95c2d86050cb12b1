"""One function per command, wiring loader, state, client, plan and apply.

The CLI parses options into `Settings`, calls one function here and renders what it returns.
Nothing here prints except through the `Reporter` and `confirm` callbacks it is given.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

from pydantic import SecretStr

from . import planfile
from .adopt import account_address, page_yaml
from .apply import Applier, ApplyResult, Reporter, check_safety
from .changes import Action, DriftReport, Plan
from .client import SchedulerClient
from .diff import diff, under
from .drift import drift_report
from .errors import Aborted, NotFound, ProvisionerError, StateError
from .fileio import atomic_write
from .load import UNRESOLVED_TOKEN as UNRESOLVED
from .model import Config, Page
from .pagefile import DesiredPage
from .plan import LiveView, desired_document, find_moves, live_document, make_plan
from .preview import Preview, compare, preview_hosts
from .secrets import Sealer
from .settings import Settings, backend, open_client, sealer
from .state import current_holder
from .state.base import Resource, State
from .state.migrate import migrate, open_backend
from .validation import validate


async def refresh(
    client: SchedulerClient, state: State, accounts: Mapping[str, SecretStr], progress: Reporter | None = None
) -> dict[str, LiveView | None]:
    """The live page of every state resource (``None`` when the API says it is gone). ``accounts``
    maps addresses to an access token of the page, the account that rate limits charge; ``progress``
    hears of each page read."""

    async def one(address: str) -> tuple[str, LiveView | None]:
        resource = state.resources[address]
        try:
            page = await client.get_page(resource.id, resource.edit_token, account=accounts.get(address))
            view: LiveView | None = LiveView.of(page, resource)  # the page is not kept: memory is O(pages)
        except NotFound:
            view = None
        if progress is not None:
            progress.step(address, "refreshed" if view else "gone")
        return address, view

    if progress is not None:
        progress.begin(len(state.resources))
    try:
        return dict(await asyncio.gather(*(one(a) for a in state.resources)))
    finally:
        if progress is not None:
            progress.end()


def _select(
    desired: dict[str, DesiredPage], state: State, targets: tuple[str, ...]
) -> tuple[dict[str, DesiredPage], State]:
    """The pages and state resources that ``--target`` names (all of them without it)."""
    if not targets:
        return desired, state
    unknown = [t for t in targets if t not in desired and t not in state.resources]
    if unknown:
        raise ProvisionerError(f"--target {unknown[0]}: no such page in pages/ or in the state")
    chosen = set(targets)
    for new, old in find_moves(desired, state).items():  # a moved page is planned with both its addresses
        if new in chosen or old in chosen:
            chosen |= {new, old}
    resources = {a: r for a, r in state.resources.items() if a in chosen}
    return {a: p for a, p in desired.items() if a in chosen}, replace(state, resources=resources)


async def _plan(
    settings: Settings, client: SchedulerClient, state: State, desired: dict[str, DesiredPage],
    targets: tuple[str, ...], seal: Sealer, progress: Reporter | None = None,
) -> Plan:
    chosen_desired, chosen_state = _select(desired, state, targets)
    accounts = {
        a: p.access_tokens[0] for a, p in chosen_desired.items() if p.access_tokens[0].get_secret_value() != UNRESOLVED
    }
    live = await refresh(client, chosen_state, accounts, progress)
    digests = {a: seal.digest(p.access_tokens) for a, p in chosen_desired.items()}
    return make_plan(settings.target, chosen_desired, chosen_state, live, digests)


# --- commands --------------------------------------------------------------------------------------


def plan(settings: Settings, targets: tuple[str, ...] = (), need_tokens: bool = True,
         progress: Reporter | None = None) -> Plan:
    """`provisioner plan`: read state (no lock), refresh live pages (told to ``progress``), diff."""
    desired = validate(settings, need_tokens=need_tokens)
    seal = sealer(settings)
    state = backend(settings, seal).read(settings.target.api_url)

    async def run() -> Plan:
        async with open_client(settings) as client:
            return await _plan(settings, client, state, desired, targets, seal, progress)

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
    refreshing: Reporter | None = None,
) -> tuple[Plan, ApplyResult | None]:
    """`provisioner apply`: lock, plan, check safety, confirm (``confirm`` shows the plan and may ask), converge.
    ``refreshing`` hears of the refresh, ``reporter`` of each step applied.

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
                fresh = await _plan(settings, client, txn.state, desired, targets, seal, refreshing)
                if saved is not None:
                    planfile.verify(saved, fresh)
                check_safety(fresh, request.max_deletes)
                if not any(p.needs_apply for p in fresh.pages):
                    return fresh, None
                if not confirm(fresh):
                    raise Aborted("apply cancelled; nothing was changed")
                result = await Applier(client, txn, desired, reporter).run(fresh)
                return fresh, result

    return asyncio.run(run())


def drift(settings: Settings, targets: tuple[str, ...] = (), progress: Reporter | None = None) -> DriftReport:
    """`provisioner drift`: live pages against what was last applied."""
    # Drift reads live pages with edit tokens only: the access-token variables need not be set.
    return drift_report(plan(settings, targets, need_tokens=False, progress=progress))


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
    loaded = validate(settings).get(address)
    differing = [leaf.path for leaf in diff(live_document(page), desired_document(loaded))] if loaded else []
    return path, differing


# --- preview --------------------------------------------------------------------------------------


def preview(settings: Settings, addresses: list[str], start: date, days: int) -> list[Preview]:
    """`provisioner preview` (and `plan --preview`): the slots of each page as written, beside the live
    page's when it is live. Pages, state and the client are opened once for all of them."""
    pages = validate(settings)
    missing = [a for a in addresses if a not in pages]
    if missing:
        raise ProvisionerError(f"{missing[0]}: no such page in {settings.pages_dir}/")
    resources = state_read(settings).resources

    async def fetch(address: str, client: SchedulerClient) -> Preview:
        live, accounts = None, []
        if address in resources:
            resource = resources[address]
            try:
                live = await client.get_page(resource.id, resource.edit_token)
                accounts = await client.get_calendars(resource.id, resource.edit_token)
            except NotFound:
                live, accounts = None, []
        desired = Config.model_validate(pages[address].config)
        hosts = preview_hosts(desired, accounts, len(pages[address].access_tokens))
        return compare(address, desired, live.config if live else None, hosts, start, days)

    async def run() -> list[Preview]:
        async with open_client(settings) as client:
            return [await fetch(address, client) for address in addresses]

    return asyncio.run(run()) if addresses else []


SLOT_PATHS = ("config.booking", "config.event", "config.timezone", "config.calendar_ids", "config.expire_after")


def slot_changes(plan: Plan) -> list[str]:
    """Addresses of pages whose planned changes can move bookable slots (for `plan --preview`)."""
    return [
        p.address for p in plan.pages
        if p.action in (Action.UPDATE, Action.CREATE) and any(under(c.path, SLOT_PATHS) for c in p.changes)
    ]


def state_migrate(settings: Settings, to: str) -> State:
    """`provisioner state migrate --to DSN-or-FILE`: copy the state losslessly; the target must be empty."""
    seal = sealer(settings)  # one sealer for both sides: sealed tokens are copied as they are
    source = backend(settings, seal)
    target = open_backend(to, seal, target=settings.target_name or "default")
    return migrate(source, target, settings.target.api_url, current_holder(settings.env))
