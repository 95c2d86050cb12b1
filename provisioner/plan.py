"""Desired pages + state + live pages -> a `Plan`. Pure: no I/O, no clock.

Three documents per page are compared, each ``{"name", "slug", "config"}`` with configs normalized:

- desired: the YAML;
- last applied: the state's record of what apply last wrote;
- live: what the API returns now.

Apply's work is ``live -> desired`` (with ``lifecycle.ignore_changes`` paths keeping their live
values); each changed field is labelled as a YAML edit, drift (edited live outside provisioner), or
both. Drift itself is ``last applied -> live``.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from provisioner.apis import V2, Api, LivePage, get_api

from .changes import (
    HOSTS,
    Action,
    DriftItem,
    FieldChange,
    Hosts,
    Origin,
    PageChange,
    Plan,
    Resolution,
    Target,
)
from .diff import Leaf, diff, get_path, leaves, set_path, under
from .pagefile import DesiredPage
from .state.base import Resource, State

Document = dict[str, Any]


def document(name: str | None, slug: str, config: dict[str, Any], api: Api | None = None) -> Document:
    """The comparable form of a page: name, slug and normalized config (v2 unless ``api`` says)."""
    return {"name": name, "slug": slug, "config": (api or get_api(V2)).normalize(config)}


def desired_document(page: DesiredPage, api: Api | None = None, last: Resource | None = None) -> Document:
    """The page file's document; its config shared with ``last`` (the state's record) when equal, so that
    a converged page's documents held at once for a whole plan cost no second copy (as `LiveView.of`)."""
    doc = document(page.name, page.slug, page.config, api)
    if last is not None and doc["config"] == last.config:
        doc["config"] = last.config
    return doc


def live_document(page: LivePage, api: Api | None = None) -> Document:
    return document(page.name, page.slug, page.config, api)


def state_document(resource: Resource) -> Document:
    return {"name": resource.name, "slug": resource.slug, "config": resource.config}


def state_fingerprint(resource: Resource | None) -> str | None:
    """A digest of what the state records about a page (its edit token left out), so that a stale
    saved plan can name the pages whose lockfile record moved."""
    if resource is None:
        return None
    record = [resource.address, resource.id, state_document(resource), resource.tokens_digest, resource.prevent_destroy]
    return hashlib.sha256(json.dumps(record, sort_keys=True).encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class LiveView:
    """What a plan needs of a live page: its id, comparable document, hosts' e-mails and content
    fingerprint."""

    id: int | str
    doc: Document
    fingerprint: str
    hosts: tuple[str, ...] = ()  # account e-mail of each access token, in order (not secret)

    @classmethod
    def of(cls, page: LivePage, last: Resource | None = None, api: Api | None = None) -> LiveView:
        doc = live_document(page, api)
        if last is not None and doc["config"] == last.config:
            doc["config"] = last.config  # share it: a converged page costs no second copy in memory
        hosts = page.hosts
        body = json.dumps({"id": page.id, "hosts": hosts, **doc}, sort_keys=True)
        return cls(page.id, doc, hashlib.sha256(body.encode()).hexdigest()[:16], hosts)


def fingerprint(page: LivePage, api: Api | None = None) -> str:
    """A digest of a live page's content, to detect that it changed after a plan was made."""
    return LiveView.of(page, api=api).fingerprint


def _view(live: LivePage | LiveView | None, api: Api | None) -> LiveView | None:
    return LiveView.of(live, api=api) if isinstance(live, LivePage) else live


def _related(path: str, paths: set[str]) -> bool:
    """``path`` is one of ``paths``, lies below one, or holds one."""
    return under(path, tuple(paths)) or any(under(q, (path,)) for q in paths)


def _with_ignored(desired: Document, live: Document, ignored: tuple[str, ...]) -> Document:
    """The desired document with every ignored path holding its live value instead."""
    if not ignored:
        return desired  # nothing to overlay: no copy (a plan's hot path; neither document is mutated)
    effective = copy.deepcopy(desired)
    for path in ignored:
        found, value = get_path(live, path)
        set_path(effective, path, found, value)
    return effective


def _field_changes(work: list[Leaf], yaml_paths: set[str], drift_paths: set[str]) -> list[FieldChange]:
    out = []
    for leaf in work:
        in_yaml, in_drift = _related(leaf.path, yaml_paths), _related(leaf.path, drift_paths)
        origin = Origin.BOTH if in_yaml and in_drift else Origin.DRIFT if in_drift else Origin.YAML
        out.append(
            FieldChange(leaf.path, leaf.old, leaf.new, origin, leaf.old_present, leaf.new_present)
        )
    return out


def _drift_items(
    last: Document, live: Document, ignored: tuple[str, ...], changed: set[str]
) -> list[DriftItem]:
    items = []
    for leaf in diff(last, live):
        if under(leaf.path, ignored):
            resolution = Resolution.KEEP
        elif _related(leaf.path, changed):
            resolution = Resolution.REVERT
        else:
            resolution = Resolution.ADOPT
        items.append(
            DriftItem(leaf.path, leaf.old, leaf.new, resolution, leaf.old_present, leaf.new_present)
        )
    return items


def _creation(
    page: DesiredPage, action: Action, resource: Resource | None, digest: str | None, api: Api | None = None,
    doc: Document | None = None,
) -> PageChange:
    doc = doc or desired_document(page, api)
    written = {"name": page.name, "slug": page.slug, "config": page.config}  # listed as written
    changes = tuple(
        FieldChange(path, None, value, Origin.YAML, before_present=False)
        for path, value in leaves(written)
        if value is not None
    )
    if page.grant is None:  # v2: the page's hosts are its access tokens (v3: the grant, in the state)
        changes += (FieldChange(HOSTS, None, Hosts(len(page.access_tokens)), Origin.YAML, before_present=False),)
    return PageChange(
        address=page.address,
        action=action,
        slug=page.slug,
        page_id=resource.id if resource else None,
        changes=changes,
        prevent_destroy=page.prevent_destroy,
        state_record=resource,
        body=doc,
        tokens_digest=digest,
    )


def _convergence(
    page: DesiredPage,
    resource: Resource,
    live: LiveView,
    token_digest: str | None,
    moved_from: str | None,
    hosts_verified: bool,
    api: Api | None = None,
    desired: Document | None = None,
) -> PageChange:
    desired, last, now = desired or desired_document(page, api), state_document(resource), live.doc
    # A page file without `name:` leaves the name to the server and the editor (the API cannot unset it).
    ignored = page.ignore_changes + (("name",) if page.name is None else ())
    effective = _with_ignored(desired, now, ignored)
    work = diff(now, effective)
    yaml_paths = {leaf.path for leaf in diff(last, desired)}
    drift_paths = {leaf.path for leaf in diff(last, now)}
    changes = _field_changes(work, yaml_paths, drift_paths)
    if _hosts_change(token_digest, resource.tokens_digest, hosts_verified):
        before, after = Hosts(len(live.hosts), live.hosts), Hosts(len(page.access_tokens))
        changes.append(FieldChange(HOSTS, before, after, Origin.YAML))
    drift = _drift_items(last, now, ignored, {leaf.path for leaf in work})
    api_changes = bool(changes)
    if page.prevent_destroy != resource.prevent_destroy:  # recorded in the state only, no API call
        changes.append(
            FieldChange("lifecycle.prevent_destroy", resource.prevent_destroy, page.prevent_destroy, Origin.YAML)
        )
    if moved_from is not None:
        action = Action.MOVE
    else:
        action = Action.UPDATE if changes else Action.NOOP
    return PageChange(
        address=page.address,
        action=action,
        slug=page.slug,
        page_id=resource.id,
        moved_from=moved_from,
        changes=tuple(changes),
        drift=tuple(drift),
        prevent_destroy=page.prevent_destroy,
        live_fingerprint=live.fingerprint,
        state_record=resource,
        body=effective if api_changes else None,
        tokens_digest=token_digest,
        refresh_record=hosts_verified and resource.tokens_digest is None and token_digest is not None,
    )


def _hosts_change(desired: str | None, recorded: str | None, verified: bool) -> bool:
    """Whether apply must send the page's access tokens (and so the plan shows a hosts line).

    ``desired`` is the keyed digest of the tokens in pages/ (None: not known, as in `drift`, which
    never sends them); ``recorded`` the digest last written. An imported page has none recorded: its
    tokens are sent unless ``verified`` (each token in pages/ already opens the live page and their
    number is the page's number of hosts).
    """
    if desired is None:
        return False
    if recorded is None:
        return not verified
    return desired != recorded


def find_moves(desired: Mapping[str, DesiredPage], state: State) -> dict[str, str]:
    """new address -> old address, for pages whose file moved: same slug, old address gone; or whose
    roster entry was renamed (`DesiredPage.renamed_from`, old address gone)."""
    orphans = {r.slug: r.address for r in state.resources.values() if r.address not in desired}
    renamed = {
        address: page.renamed_from
        for address, page in desired.items()
        if page.renamed_from and address not in state.resources and page.renamed_from in state.resources
        and page.renamed_from not in desired
    }
    return renamed | {
        address: orphans[page.slug]
        for address, page in desired.items()
        if address not in state.resources and page.slug in orphans and address not in renamed
        and orphans[page.slug] not in renamed.values()
    }


def make_plan(
    target: Target,
    desired: Mapping[str, DesiredPage],
    state: State,
    live: Mapping[str, LivePage | LiveView | None],
    token_digests: Mapping[str, str] | None = None,
    hosts_verified: frozenset[str] = frozenset(),
    unchecked: int = 0,
    api: Api | None = None,
    documents: Mapping[str, Document] | None = None,
) -> Plan:
    """The plan that converges the live pages to ``desired``.

    ``live`` maps each state address to its live page, or ``None`` when the API says it is gone.
    ``token_digests`` maps desired addresses to the keyed digest of their access tokens; a digest
    different from the state's plans an update of the hosts (see `_hosts_change`, and
    ``hosts_verified`` for imported pages). ``unchecked`` counts the pages ``--target`` left out.
    ``documents`` holds desired documents already made (`desired_document`; by address), if any.
    """
    digests = token_digests or {}
    made = documents or {}
    moves = find_moves(desired, state)
    pages: list[PageChange] = []
    for address, page in desired.items():
        old_address = moves.get(address, address)
        resource = state.resources.get(old_address)
        if resource is None:
            pages.append(_creation(page, Action.CREATE, None, digests.get(address), api, made.get(address)))
            continue
        current = _view(live.get(old_address), api)
        if current is None:
            pages.append(_creation(page, Action.RECREATE, resource, digests.get(address), api, made.get(address)))
        else:
            moved_from = old_address if old_address != address else None
            verified = address in hosts_verified
            pages.append(_convergence(page, resource, current, digests.get(address), moved_from, verified, api,
                                      made.get(address)))
    moved = set(moves.values())
    for address, resource in state.resources.items():
        if address in desired or address in moved:
            continue
        current = _view(live.get(address), api)
        pages.append(
            PageChange(
                address=address,
                action=Action.DELETE,
                slug=resource.slug,
                page_id=resource.id,
                changes=tuple(
                    FieldChange(path, value, None, Origin.YAML, after_present=False)
                    for path, value in leaves(state_document(resource))
                    if value is not None
                ),
                prevent_destroy=resource.prevent_destroy,
                live_fingerprint=current.fingerprint if current else None,
                state_record=resource,
            )
        )
    pages.sort(key=PageChange.sort_key)
    warnings = tuple(
        f"{address}: an interrupted apply sent a create (slug {slug!r}) and its page file is gone; if that page "
        f"exists, adopt it with `provisioner import` or delete it, then run `provisioner state rm {address}`"
        for address, slug in sorted(state.pending_creates.items())
        if address not in desired and address not in state.resources
    )
    return Plan(
        target=target, lineage=state.lineage, serial=state.serial, pages=tuple(pages), warnings=warnings,
        unchecked=unchecked,
    )
