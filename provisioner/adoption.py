"""Adoption commands: `import` (one page, or every page of an account or grant) and `pull`.

Apart from `workflows` (which re-exports them) to keep each module to one job: a live page becomes a
state record and, for whole accounts and `pull`, a page file, without breaking pages/ or the state.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from provisioner.apis import V3, Api, Handle, LivePage, Owner

from .addresses import address_problem, parse_file_address, parse_folder, shown
from .adopt import account_address, page_yaml
from .diff import diff
from .errors import ProvisionerError, StateError
from .pagefile import page_slug_problem
from .plan import desired_document, live_document
from .settings import Settings, backend, open_client
from .state import current_holder
from .state.base import NO_TOKEN, Resource, State
from .tree import page_file_of, page_slugs, write_page_file
from .validation import validate


@contextmanager
def _state_txn(settings: Settings) -> Iterator:
    with backend(settings).transaction(settings.target.state_key, current_holder(settings.env)) as txn:
        yield txn


def state_read(settings: Settings) -> State:
    return backend(settings).read(settings.target.state_key)



def _adopted(address: str, page: LivePage, prevent_destroy: bool, api: Api | None = None) -> Resource:
    doc = live_document(page, api)
    # tokens_digest None: the tokens are unknown until provisioner first writes them.
    return Resource(address, page.id, page.slug, page.handle.edit_token or NO_TOKEN, doc["name"], doc["config"], None,
                    prevent_destroy, grant=page.handle.grant)


def import_page(settings: Settings, address: str, handle: Handle) -> LivePage:
    """`provisioner import`: record an existing live page under ADDRESS, without changing it
    (``handle``: v2 page id and edit token; v3 configuration id and grant)."""
    address = parse_file_address(address)

    async def fetch() -> LivePage:
        async with open_client(settings) as client:
            return await client.get(handle)

    with _state_txn(settings) as txn:
        _refuse_managed(txn.state, address, handle.id)
        page = asyncio.run(fetch())
        txn.record(_adopted(address, page, False, settings.api))
    return page


def _refuse_managed(state: State, address: str, page_id: int | str) -> None:
    if address in state.resources:
        raise StateError(f"{address} is already managed (page {state.resources[address].id})")
    for other in state.resources.values():
        if other.id == page_id:
            raise StateError(f"page {page_id} is already managed as {other.address}")


@dataclass(frozen=True)
class AccountImport:
    """What `import --account-token-env` did: pages adopted, and pages left alone with the reason."""

    adopted: list[tuple[str, LivePage]]
    skipped: list[tuple[LivePage, str]]


def import_account(settings: Settings, owner: Owner, folder: str) -> AccountImport:
    """Adopt every page an account (v2: its access token; v3: a grant) lists, at FOLDER/SLUG, and write
    each page file.

    Adoption never breaks the tree: a page already managed, whose slug a file in pages/ already
    has, whose address is taken (in the state or by a file) or is no valid address, is skipped and
    named. Each page file is written before its state entry, and removed again if that fails.
    """
    folder = parse_folder(folder)

    async def fetch() -> list[LivePage]:
        async with open_client(settings) as client:
            return await client.list_owner(owner)

    adopted: list[tuple[str, LivePage]] = []
    skipped: list[tuple[LivePage, str]] = []
    with _state_txn(settings) as txn:
        slugs = page_slugs(settings.pages_dir)
        for page in sorted(asyncio.run(fetch()), key=lambda p: p.slug):
            address = account_address(folder, page)
            reason = _adoption_conflict(settings, txn.state, address, page, slugs)
            if reason is not None:
                skipped.append((page, reason))
                continue
            path = _write_page_file(settings, address, page, overwrite=False)
            try:
                txn.record(_adopted(address, page, False, settings.api))
            except BaseException:
                path.unlink(missing_ok=True)  # no page file without its state entry
                raise
            slugs[page.slug] = path
            adopted.append((address, page))
    return AccountImport(adopted, skipped)


def _adoption_conflict(
    settings: Settings, state: State, address: str, page: LivePage, slugs: dict[str, Path]
) -> str | None:
    """Why ``page`` cannot be adopted at ``address`` without breaking pages/ or the state, if it cannot."""
    managed = next((r.address for r in state.resources.values() if r.id == page.id), None)
    if managed is not None:
        return f"already managed as {managed}"
    if page.slug in slugs:
        return f"its slug is already used by {slugs[page.slug]}"
    slug_problem = page_slug_problem(page.slug)
    if slug_problem is not None:
        return slug_problem + "; rename it in the Scheduler first"
    problem = address_problem(address)
    if problem is not None:
        return f"{shown(address)} is no valid address ({problem})"
    if address in state.resources:
        return f"{address} is already managed (page {state.resources[address].id})"
    existing = page_file_of(settings.pages_dir, address)
    if existing is not None:
        return f"{existing} already exists"
    return None


def _write_page_file(settings: Settings, address: str, page: LivePage, overwrite: bool) -> Path:
    return write_page_file(settings.pages_dir, address, page_yaml(page, address, settings.api), overwrite)


def pull(settings: Settings, address: str, overwrite: bool) -> tuple[Path, list[str]]:
    """`provisioner pull`: write the live page at ADDRESS as YAML. Returns the file and the paths that
    still differ once loaded (values merged in from a `_defaults.yaml`), which the caller reports."""
    address = parse_file_address(address)
    state = state_read(settings)
    if address not in state.resources:
        flags = "--configuration-id ID --grant GRANT" if settings.api_name == V3 else "--page-id ID"
        raise StateError(f"{address} is not managed; adopt it first with `provisioner import {address} {flags}`")
    resource = state.resources[address]

    async def fetch() -> LivePage:
        async with open_client(settings) as client:
            return await client.get(resource.handle)

    page = asyncio.run(fetch())
    slug_problem = page_slug_problem(page.slug)
    if slug_problem is not None:
        raise ProvisionerError(f"{address}: the live page's {slug_problem.removeprefix('its ')}; rename it in the "
                               f"Scheduler first")
    own = page_file_of(settings.pages_dir, address)
    clash = page_slugs(settings.pages_dir).get(page.slug)
    if clash is not None and clash != own:
        raise ProvisionerError(f"the live page's slug {page.slug!r} is already used by {clash}; pulling it to "
                               f"{address} would define it twice. Rename that file, or `provisioner state mv` "
                               f"{address} to its address")
    path = _write_page_file(settings, address, page, overwrite)
    loaded = validate(settings).get(address)
    api = settings.api
    differing = [leaf.path for leaf in diff(live_document(page, api), desired_document(loaded, api))] if loaded else []
    return path, differing
