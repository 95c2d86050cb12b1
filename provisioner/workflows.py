"""One function per command, wiring loader, state, client, plan and apply.

The CLI parses options into `Settings`, calls one function here and renders what it returns.
Nothing here prints except through the `Reporter` and `confirm` callbacks it is given.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from provisioner.apis import Pages, get_api

from . import planfile
from .addresses import parse_address
from .apply import Applier, ApplyResult, Reporter, check_safety
from .changes import Action, DriftReport, Plan
from .diff import under
from .drift import drift_report
from .errors import Aborted, NotFound, Problem, ProvisionerError, StateError
from .fairness import notes as fairness_notes
from .fileio import is_within, same_file
from .pagefile import DesiredPage
from .plan import LiveView, desired_document, find_moves, make_plan
from .project import PROJECT_FILE
from .refresh import owners, read_live
from .safety import refusals
from .secrets import Sealer
from .settings import Settings, backend, open_client, sealer
from .state import current_holder
from .state.base import Resource, State, StateBackend
from .state.migrate import migrate, open_backend
from .validation import validate

if TYPE_CHECKING:
    from .preview import Preview

T = TypeVar("T")

TURN = 25
"""Pages worked through between two looks at the network in `while_waiting` (~1.5 ms of work)."""


def _parse_targets(targets: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(parse_address(t, "--target") for t in targets)


def _select(
    desired: dict[str, DesiredPage], state: State, targets: tuple[str, ...]
) -> tuple[dict[str, DesiredPage], State, int]:
    """The pages and state resources that ``--target`` names (all of them without it), and how many
    other addresses were left out."""
    if not targets:
        return desired, state, 0
    unknown = [t for t in targets if t not in desired and t not in state.resources]
    if unknown:
        raise ProvisionerError(f"--target {unknown[0]}: no such page in pages/ or in the state")
    chosen = set(targets)
    for new, old in find_moves(desired, state).items():  # a moved page is planned with both its addresses
        if new in chosen or old in chosen:
            chosen |= {new, old}
    resources = {a: r for a, r in state.resources.items() if a in chosen}
    others = len((set(desired) | set(state.resources)) - chosen)
    return {a: p for a, p in desired.items() if a in chosen}, replace(state, resources=resources), others


async def hosts_verified(
    client: Pages, state: State, desired: Mapping[str, DesiredPage], live: Mapping[str, LiveView | None]
) -> frozenset[str]:
    """Imported pages (no tokens recorded yet) whose tokens in pages/ are already their live hosts:
    each token opens the page and there are as many distinct tokens as hosts. Their tokens need not
    be sent; every other imported page gets a hosts line in the plan."""

    async def check(address: str) -> str | None:
        resource, view, page = state.resources[address], live.get(address), desired[address]
        tokens = page.access_tokens
        distinct = {t.get_secret_value() for t in tokens}
        if view is None or len(distinct) != len(tokens) or len(tokens) != len(view.hosts):
            return None
        results = await asyncio.gather(*(client.opens(resource.handle, t) for t in tokens))
        return address if all(results) else None

    unknown = [a for a, r in state.resources.items() if r.tokens_digest is None and a in desired]
    return frozenset(a for a in await asyncio.gather(*(check(a) for a in unknown)) if a is not None)


async def while_waiting(work: Callable[[DesiredPage], T], pages: Mapping[str, DesiredPage]) -> dict[str, T]:
    """``{address: work(page)}``, computed in turns of `TURN` pages that leave the event loop to the
    requests in flight between them: what a plan needs of the page files alone is done while the refresh
    waits on the network, not after it (at 1,000 pages, ~60 ms of a plan)."""
    out: dict[str, T] = {}
    for i, (address, page) in enumerate(pages.items(), 1):
        out[address] = work(page)
        if i % TURN == 0:
            await asyncio.sleep(0)
    return out


async def _plan(
    settings: Settings, client: Pages, state: State, desired: dict[str, DesiredPage],
    targets: tuple[str, ...], seal: Sealer, need_tokens: bool = True, progress: Reporter | None = None,
) -> Plan:
    chosen_desired, chosen_state, others = _select(desired, state, targets)
    api = settings.api
    _refuse_grant_changes(chosen_desired, chosen_state)
    groups = owners(chosen_state, chosen_desired, api, tokens=need_tokens)
    hosts = need_tokens and api.owner_is_secret  # v2 plan or apply: tokens to know and send (not drift, not v3)
    refresh = asyncio.ensure_future(
        read_live(client, chosen_state, groups, mode=settings.refresh, progress=progress, api=api))
    try:
        documents, digests = await asyncio.gather(
            while_waiting(lambda page: desired_document(page, api, chosen_state.resources.get(page.address)),
                          chosen_desired),
            while_waiting(lambda page: seal.digest(page.access_tokens), chosen_desired if hosts else {}))
    except Exception:
        await refresh  # as when this work came after it: the refresh ends (its error first), no read cut off
        raise
    except BaseException:  # Ctrl-C: the refresh stops with the plan
        refresh.cancel()
        raise
    refreshed = await refresh
    live = refreshed.live
    verified = await hosts_verified(client, chosen_state, chosen_desired, live) if hosts else frozenset()
    made = make_plan(settings.target, chosen_desired, chosen_state, live, digests, verified, others, api, documents)
    made = replace(made, refresh=refreshed.stats)
    return replace(made, refusals=refusals(made, settings.limits)) if need_tokens else made  # drift refuses nothing


def _refuse_grant_changes(desired: Mapping[str, DesiredPage], state: State) -> None:
    """A v3 configuration lives under one grant: a page file naming another grant for a managed
    configuration is refused (moving it is a delete and a create, which provisioner does not guess)."""
    moves = find_moves(desired, state)
    for address, page in desired.items():
        resource = state.resources.get(moves.get(address, address))
        if resource is not None and page.grant is not None and resource.grant != page.grant:
            raise ProvisionerError(
                f"{page.file}: grant {page.grant!r} differs from {resource.grant!r}, the grant configuration "
                f"{resource.id} lives under; a configuration cannot move between grants: restore the grant, "
                f"or give the page a new address (the old configuration is deleted, a new one created)")


# --- commands --------------------------------------------------------------------------------------


@contextmanager
def _settled() -> Iterator[None]:
    """What is loaded by now (modules, the validated pages) lives until the command ends, so the garbage
    collector stops walking it (`gc.freeze`): at 1,000 pages those walks were ~0.1 s of a plan. It takes
    it back at the end, for a process that runs many commands (the tests)."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def plan(settings: Settings, targets: tuple[str, ...] = (), need_tokens: bool = True,
         progress: Reporter | None = None, policies: bool = True) -> Plan:
    """`provisioner plan`: read state (no lock), refresh live pages (told to ``progress``), diff."""
    targets = _parse_targets(targets)  # before anything is read or locked
    policy_warnings: list[Problem] = []
    desired = validate(settings, need_tokens=need_tokens, warnings=policy_warnings, policies=policies)

    async def run(state: State, seal: Sealer) -> Plan:
        async with open_client(settings) as client:
            return await _plan(settings, client, state, desired, targets, seal, need_tokens, progress)

    with _settled():
        seal = sealer(settings)
        state = backend(settings, seal).read(settings.target.state_key)
        made = asyncio.run(run(state, seal))
    notes = tuple(f"policy: {w.render()}" for w in policy_warnings) + fairness_notes(made, desired, state)
    return replace(made, warnings=made.warnings + notes) if notes else made


def save_plan(settings: Settings, out: Path, result: Plan, rendered_json: str, targets: tuple[str, ...]) -> None:
    """`plan --out FILE`: save the plan, never over the state, the key, the emulator's database,
    provisioner.yaml or anything under pages/ (`planfile.save` also keeps any file that is not a plan)."""
    state = backend(settings)
    journal, lock = (getattr(state, name, None) for name in ("journal_path", "lock_path"))
    protected = {
        settings.lockfile: "the state", journal: "the state's journal", lock: "the state's lock",
        settings.state_dir / "lock.key": "the local sealing key", PROJECT_FILE: "the project file",
        settings.state_dir / "emulator.db": "the emulator's database",
    }
    for path, what in protected.items():
        if path is not None and same_file(out, path):
            raise ProvisionerError(f"--out {out} is {what}; save the plan to another file")
    if is_within(out, settings.pages_dir):
        raise ProvisionerError(f"--out {out} is inside {settings.pages_dir}/, where every file is a page; "
                               f"save the plan elsewhere")
    planfile.save(out, result, rendered_json, targets)


@dataclass(frozen=True)
class ApplyRequest:
    plan_file: Path | None = None
    targets: tuple[str, ...] = ()


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
    targets = _parse_targets(saved.targets if saved else request.targets)  # before anything is read or locked
    desired = validate(settings, need_tokens=True)

    async def run(seal: Sealer, store: StateBackend) -> tuple[Plan, ApplyResult | None]:
        with store.transaction(settings.target.state_key, current_holder(settings.env)) as txn:
            async with open_client(settings) as client:
                fresh = await _plan(settings, client, txn.state, desired, targets, seal, progress=refreshing)
                if saved is not None:
                    planfile.verify(saved, fresh)
                check_safety(fresh, settings.limits)
                if not fresh.blocked and not any(p.needs_apply for p in fresh.pages):
                    return fresh, None
                if not confirm(fresh):
                    raise Aborted("apply cancelled; nothing was changed")
                result = await Applier(client, txn, desired, reporter, settings.api).run(fresh)
                return fresh, result

    with _settled():
        seal = sealer(settings)
        store = backend(settings, seal)
        store.read(settings.target.state_key)  # a broken or foreign state fails here, before anything is touched
        return asyncio.run(run(seal, store))


def drift(settings: Settings, targets: tuple[str, ...] = (), progress: Reporter | None = None) -> DriftReport:
    """`provisioner drift`: live pages against what was last applied."""
    # Drift reads live pages with edit tokens only: the access-token variables need not be set.
    return drift_report(plan(settings, targets, need_tokens=False, progress=progress, policies=False))


# --- state commands -------------------------------------------------------------------------------


def state_read(settings: Settings) -> State:
    return backend(settings).read(settings.target.state_key)


def state_show(settings: Settings, address: str) -> Resource:
    """`provisioner state show`: one managed page as recorded."""
    address = parse_address(address)
    resources = state_read(settings).resources
    if address not in resources:
        raise StateError(f"{address}: not in {backend(settings).location}")
    return resources[address]


@contextmanager
def _state_txn(settings: Settings) -> Iterator:
    with backend(settings).transaction(settings.target.state_key, current_holder(settings.env)) as txn:
        yield txn


def state_mv(settings: Settings, old: str, new: str) -> None:
    old, new = parse_address(old, "OLD"), parse_address(new, "NEW")
    with _state_txn(settings) as txn:
        txn.move(old, new)  # refuses an unknown OLD or a taken NEW


def state_rm(settings: Settings, address: str) -> None:
    address = parse_address(address)
    with _state_txn(settings) as txn:
        txn.forget(address)  # refuses an unknown address




# --- preview --------------------------------------------------------------------------------------


def preview(settings: Settings, addresses: list[str], start: date, days: int) -> list[Preview]:
    """`provisioner preview` (and `plan --preview`): the slots of each page as written, beside the live
    page's when it is live. Pages, state and the client are opened once for all of them."""
    from .preview import compare_views  # only here: the slot engine is no plan's business

    addresses = [parse_address(a) for a in addresses]
    pages = validate(settings)
    missing = [a for a in addresses if a not in pages]
    if missing:
        raise ProvisionerError(f"{missing[0]}: no such page in {settings.pages_dir}/")
    resources = state_read(settings).resources
    api = settings.api

    async def fetch(address: str, client: Pages) -> Preview:
        live, accounts = None, []
        if address in resources:
            resource = resources[address]
            try:
                live = await client.get(resource.handle)
                accounts = await client.calendars(resource.handle)
            except NotFound:
                live, accounts = None, []
        desired, current = api.slot_views(pages[address].config, live.config if live else None,
                                          pages[address].owner, accounts)
        return compare_views(address, desired, current, start, days)

    async def run() -> list[Preview]:
        async with open_client(settings) as client:
            return [await fetch(address, client) for address in addresses]

    return asyncio.run(run()) if addresses else []


def slot_changes(plan: Plan) -> list[str]:
    """Addresses of pages whose planned changes can move bookable slots (for `plan --preview`)."""
    paths = get_api(plan.target.api).slot_paths()
    return [
        p.address for p in plan.pages
        if p.action in (Action.UPDATE, Action.CREATE) and any(under(c.path, paths) for c in p.changes)
    ]


def state_migrate(settings: Settings, to: str) -> State:
    """`provisioner state migrate --to DSN-or-FILE`: copy the state losslessly; the target must be empty."""
    if is_within(Path(to), settings.pages_dir):
        raise StateError(f"--to {to} is inside {settings.pages_dir}/, where every file is a page; keep state elsewhere")
    seal = sealer(settings)  # one sealer for both sides: sealed tokens are copied as they are
    source = backend(settings, seal)
    target = open_backend(to, seal, target=settings.target_name or "default")
    return migrate(source, target, settings.target.state_key, current_holder(settings.env))
