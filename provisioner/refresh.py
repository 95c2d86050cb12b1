"""Refresh: the live page of every state resource, read by listing where that costs fewer requests.

A plan needs each managed page as it is live. Reading them one request each costs a request per page;
both APIs also list a whole owner's pages a batch at a time (v2: an account's pages, 100 a request,
through one of its access tokens; v3: a grant's configurations, 200 a request). This module chooses,
per owner, by the number of requests each way costs (anchors: Terraform refreshes resource by
resource, octoDNS lists a whole zone).

Groups. The state resources are grouped by the owner that can list them: v2 the first access token
of the page's file (found through a move, `plan.find_moves`; pages sharing that token share the
group), v3 the grant the state records. A resource with no usable owner (v2: its page file is gone,
its token is unresolved, or ``drift``, which reads no access tokens) is read alone by its handle.

Modes (`changes.REFRESH_MODES`):

- ``page``: every page read alone (one ``GET`` each), as before listing existed.
- ``list``: every group is listed in full (no cost check).
- ``auto``: per group, whichever costs fewer requests. A group listing cannot win is read alone
  without asking anything: one managed page, or two where the API counts (a count and a list cost
  two requests already). Where the API counts (v2 ``view=count``, one request), the group is listed
  when ``ceil(count / list_limit)`` is below its number of managed pages, else read alone. Where it
  cannot (v3), the list is read batch by batch and abandoned once the list requests spent reach the
  managed pages of the group still not found; those are then read alone. Worst case (the group's
  pages at the end of a long list of others): about twice the requests of reading alone.

Counted lists are read in parallel, `WINDOW` batches at a time (bounded further by the client's
parallelism), until every managed page of the group is found or the counted batches end; duplicates from
pages that shifted while listing are dropped by id, and a page shifted past the counted batches is
simply not found. Only managed pages are kept from a list (matched by id; a v2 page in several accounts'
lists: the first copy found wins), turned at once into the `LiveView` a plan keeps. A managed page a
list did not hold is read alone: it may be gone (``None``: the plan recreates it) or, on v2, moved
outside provisioner to other hosts (its edit token still reads it, and the plan shows the hosts). A list
refused with 401, 403 or 404 (a token or grant that cannot list) leaves its group to reads alone; any
other error fails the refresh as a failed read does (the client has already retried it within its
deadlines). Rate limits are charged to the account or grant that lists, as the client keys them.

The plan is the same whichever way a page was read: a listed page and a read page are the same
object (per-page live fingerprints of saved plans included).
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable, Mapping, Sequence
from contextlib import aclosing
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from provisioner.apis import Api, LivePage, Owner, Pages

from .changes import REFRESH_MODES, RefreshStats
from .errors import ApiError, NotFound, ProvisionerError
from .load import UNRESOLVED_TOKEN
from .pagefile import DesiredPage
from .plan import LiveView, find_moves
from .state.base import State

if TYPE_CHECKING:
    from .apply import Reporter

WINDOW = 16
"""Counted list batches requested at once (the client's parallelism bounds them further)."""

FALLBACK_STATUSES = frozenset({401, 403, 404})
"""A list answered so cannot serve its group (a token or grant that cannot list): its pages are read
alone, which says what each of them is."""


@runtime_checkable
class ShowsRequests(Protocol):
    """A progress reporter that can show how many requests the refresh has sent so far."""

    def show_requests(self, requests: Callable[[], int]) -> None: ...


@dataclass(frozen=True)
class Refreshed:
    live: dict[str, LiveView | None]  # per state address; None: the API says the page is gone
    stats: RefreshStats


def owners(state: State, desired: Mapping[str, DesiredPage], api: Api, *, tokens: bool = True) -> dict[str, Owner]:
    """The owner whose list holds each state resource (see the module docstring, "Groups"); resources
    without one are left out. ``tokens`` is False for ``drift`` (v2 access tokens are not read)."""
    if not api.owner_is_secret:
        return {a: r.grant for a, r in state.resources.items() if r.grant is not None}
    if not tokens:
        return {}
    file_of = {old: new for new, old in find_moves(desired, state).items()}
    out: dict[str, Owner] = {}
    for address in state.resources:
        page = desired.get(file_of.get(address, address))
        if page is not None and page.access_tokens and page.access_tokens[0].get_secret_value() != UNRESOLVED_TOKEN:
            out[address] = (page.access_tokens[0],)
    return out


async def read_live(
    client: Pages, state: State, owner_of: Mapping[str, Owner], *, mode: str = "auto",
    progress: Reporter | None = None, api: Api | None = None,
) -> Refreshed:
    """Every state resource's live page, read as ``mode`` says; ``owner_of`` as `owners` gives (it also
    names the account a read alone is charged to); ``progress`` hears of each page."""
    if mode not in REFRESH_MODES:
        raise ProvisionerError(f"refresh mode {mode!r} is not one of {', '.join(REFRESH_MODES)}")
    run = _Run(client, state, api, progress, mode)
    start = client.requests
    if isinstance(progress, ShowsRequests):
        progress.show_requests(lambda: client.requests - start)
    groups: dict[Owner, list[str]] = {}
    alone: list[str] = []
    for address in state.resources:
        owner = owner_of.get(address)
        if owner is None or mode == "page":
            alone.append(address)
        else:
            groups.setdefault(owner, []).append(address)
    if progress is not None:
        progress.begin(len(state.resources))
    try:
        await asyncio.gather(*(run.read(a, owner_of.get(a)) for a in alone),
                             *(run.group(owner, addresses) for owner, addresses in groups.items()))
    finally:
        if progress is not None:
            progress.end()
    stats = RefreshStats(mode=mode, requests=client.requests - start, listed_groups=run.listed,
                         read_alone=run.alone)
    return Refreshed({a: run.live[a] for a in state.resources}, stats)


class _Run:
    """One refresh: the pages found so far (first found wins) and its counters."""

    def __init__(self, client: Pages, state: State, api: Api | None, progress: Reporter | None, mode: str) -> None:
        self.client, self.state, self.api, self.progress, self.mode = client, state, api, progress, mode
        self.live: dict[str, LiveView | None] = {}
        self.ids: dict[int | str, str] = {r.id: a for a, r in state.resources.items()}  # what a list keeps
        self.listed = 0  # groups refreshed by listing (a list request of theirs answered)
        self.alone = 0  # pages read by their own request

    def found(self, address: str, view: LiveView | None) -> None:
        if address in self.live:
            return
        self.live[address] = view
        if self.progress is not None:
            self.progress.step(address, "refreshed" if view else "gone")

    def take(self, batch: Sequence[LivePage]) -> None:
        """Keep the managed pages of a list's batch, as views (the batch itself is dropped)."""
        for page in batch:
            address = self.ids.get(page.id)
            if address is not None and address not in self.live:
                self.found(address, LiveView.of(page, self.state.resources[address], self.api))

    async def read(self, address: str, owner: Owner | None) -> None:
        """One page read alone, by its handle; ``owner`` names the account the read is charged to."""
        if address in self.live:  # another list found it meanwhile
            return
        resource = self.state.resources[address]
        self.alone += 1
        try:
            view: LiveView | None = LiveView.of(await self.client.get(resource.handle, owner=owner), resource, self.api)
        except NotFound:
            view = None
        self.found(address, view)

    async def group(self, owner: Owner, addresses: list[str]) -> None:
        """One owner's managed pages: listed when the mode and the cost say so; the rest read alone."""
        try:
            await self._list(owner, addresses)
        except ApiError as exc:
            if not _fallback(exc):
                raise
        await asyncio.gather(*(self.read(a, owner) for a in addresses if a not in self.live))

    async def _list(self, owner: Owner, addresses: list[str]) -> None:
        client, auto, managed = self.client, self.mode == "auto", len(addresses)
        if auto and managed < (3 if client.can_count else 2):
            return  # a count and a list, or one list, cost as much as reading them alone
        count = await client.count_owner(owner) if client.can_count else None
        if count is not None:
            batches = math.ceil(count / client.list_limit)
            if batches == 0 or (auto and batches >= managed):
                return
            await self._list_counted(owner, addresses, batches)
            return
        spent = 0
        async with aclosing(client.list_batches(owner, self.ids)) as listing:
            async for batch in listing:
                spent += 1
                if spent == 1:
                    self.listed += 1
                self.take(batch)
                left = sum(1 for a in addresses if a not in self.live)
                if not left or (auto and spent >= left):  # the rest costs no more read alone
                    break

    async def _list_counted(self, owner: Owner, addresses: list[str], batches: int) -> None:
        """A counted list, `WINDOW` batches at a time, until it ends or holds every managed page of the
        group (a huge count from a faulty server costs requests in windows, never a burst of them)."""
        listed = False
        try:
            for start in range(0, batches, WINDOW):
                indexes = range(start, min(start + WINDOW, batches))
                answers = await asyncio.gather(*(self.client.list_at(owner, i, self.ids) for i in indexes),
                                               return_exceptions=True)
                for answer in answers:
                    if not isinstance(answer, BaseException):
                        listed = True  # a batch answered: the group was listed (in part, at least)
                        self.take(answer)
                failures = [a for a in answers if isinstance(a, BaseException)]
                if failures:
                    raise next((f for f in failures if not _fallback(f)), failures[0])
                if all(a in self.live for a in addresses):
                    break
        finally:
            self.listed += int(listed)


def _fallback(error: BaseException) -> bool:
    return isinstance(error, ApiError) and error.status in FALLBACK_STATUSES
