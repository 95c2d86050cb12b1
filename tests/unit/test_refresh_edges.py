"""Refresh by listing at its edges (issue 15 review), against a small v2 server on `httpx.MockTransport`
whose list changes between requests: what a list misses is read alone, never reported gone; an
unmanaged page the list holds cannot fail the plan; a failing list fails cleanly."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from provisioner.apis.nylas_v2.api import V2Pages
from provisioner.apis.nylas_v2.client import SchedulerClient
from provisioner.changes import RefreshStats
from provisioner.errors import ApiError
from provisioner.refresh import Refreshed, read_live
from provisioner.retry import RetryPolicy
from provisioner.state.base import Resource, State

from .test_client import BASE, page_json

ACCOUNT = SecretStr("tok-account-edges-0123456789")
EDIT = SecretStr("edit-edges-0123456789")


class Server:
    """An account's pages by id (``GET /manage/pages`` with ``view=count`` or ``offset``/``limit``, and
    ``GET /manage/pages/{id}``); ``after_list[offset]`` runs once that batch is answered."""

    def __init__(self, ids: range, extra: list[dict[str, Any]] | None = None) -> None:
        self.pages: dict[int, dict[str, Any]] = {i: page_json(i, f"p-{i}", edit_token=EDIT.get_secret_value())
                                                 for i in ids}
        self.extra = extra or []
        self.after_list: dict[int, Any] = {}
        self.status: dict[int, int] = {}  # offset -> an error status that batch answers
        self.counts, self.offsets = True, True  # False: view=count refused (400); offset ignored
        self.claimed: int | None = None  # a count the server claims instead of the true one
        self.seen: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(str(request.url))
        if request.url.path != "/manage/pages":
            found = self.pages.get(int(request.url.path.rsplit("/", 1)[1]))
            return httpx.Response(200, json=found) if found else httpx.Response(404, json={"message": "gone"})
        listed = [self.pages[i] for i in sorted(self.pages)] + self.extra
        if request.url.params.get("view") == "count":
            count = len(listed) if self.claimed is None else self.claimed
            return httpx.Response(200, json={"count": count}) if self.counts else httpx.Response(400, json={})
        if len(self.seen) > 20:
            raise RuntimeError("the client keeps listing")
        offset, limit = int(request.url.params["offset"]), int(request.url.params["limit"])
        offset = offset if self.offsets else 0
        if offset in self.status:
            return httpx.Response(self.status[offset], json={"message": "down", "type": "api_error"})
        answer = httpx.Response(200, json=listed[offset:offset + limit])
        self.after_list.pop(offset, lambda: None)()
        return answer


def _state(ids: list[int]) -> State:
    resources = {f"p/{i}": Resource(f"p/{i}", i, f"p-{i}", EDIT, None, {}) for i in ids}
    return State("lineage", 1, BASE, resources)


def _refresh(server: Server, managed: list[int], mode: str = "list", parallelism: int = 1) -> Refreshed:
    state = _state(managed)

    async def _no_sleep(_seconds: float) -> None:
        return None

    async def run() -> Refreshed:
        async with SchedulerClient(BASE, transport=httpx.MockTransport(server), parallelism=parallelism,
                                   retry=RetryPolicy(max_attempts=2), sleep=_no_sleep) as client:
            return await read_live(V2Pages(client), state, dict.fromkeys(state.resources, (ACCOUNT,)), mode=mode)

    return asyncio.run(run())


@pytest.mark.parametrize("mode", ["list", "auto"])
def test_a_page_skipped_by_a_list_that_shifted_between_batches_is_read_alone_not_gone(mode: str):
    """150 pages counted; once the first batch is answered an unmanaged page is deleted, so page 101
    moves into the first batch, already read: the second batch starts at 102. Page 101 is read alone."""
    server = Server(range(1, 151))
    server.after_list[0] = lambda: server.pages.pop(10)
    done = _refresh(server, [20, 101, 140], mode=mode)
    assert {a: v.id if v else None for a, v in done.live.items()} == {"p/20": 20, "p/101": 101, "p/140": 140}
    assert done.stats == RefreshStats(mode, requests=1 + 2 + 1, listed_groups=1, read_alone=1)
    assert server.seen[-1].endswith("/manage/pages/101")


def test_an_unmanaged_page_with_an_odd_id_cannot_fail_the_refresh():
    """A list holds pages provisioner does not manage: whatever their id (here a superscript digit,
    which ``str.isdigit`` accepts and ``int`` refuses), they are dropped, not a crash."""
    server = Server(range(1, 4), extra=[page_json(0, "odd", id="\u00b2"), page_json(0, "odder", id="\u0663")])
    done = _refresh(server, [1, 2, 3])
    assert [v.id if v else None for v in done.live.values()] == [1, 2, 3]
    assert done.stats == RefreshStats("list", requests=2, listed_groups=1, read_alone=0)


def test_a_list_batch_failing_midway_fails_the_refresh_cleanly_without_the_token():
    server = Server(range(1, 251))
    server.status[100] = 503
    with pytest.raises(ApiError) as failed:
        _refresh(server, [5, 150, 240], parallelism=4)
    message = str(failed.value)
    assert message.startswith("GET /manage/pages?offset=100&limit=100: gave up after 2 attempt(s); last: HTTP 503")
    assert ACCOUNT.get_secret_value() not in message and EDIT.get_secret_value() not in message


def test_a_server_that_ignores_offset_is_an_unexpected_response_not_an_endless_list():
    """Without a count the list is read until a short answer; a server answering every offset with
    the same full batch would never give one (v3's cursor that repeats is the same error)."""
    server = Server(range(1, 251))
    server.counts = server.offsets = False
    with pytest.raises(ApiError, match=r"^GET /manage/pages\?offset=100&limit=100: unexpected response \(the same "
                                       r"pages as at offset 0: the server ignores offset\)$"):
        _refresh(server, [5, 150, 240])
    assert len(server.seen) == 3  # the refused count and two lists

    async def import_all() -> None:
        async with SchedulerClient(BASE, transport=httpx.MockTransport(server)) as client:
            await client.list_pages(ACCOUNT)

    server.seen.clear()
    with pytest.raises(ApiError, match="the server ignores offset"):
        asyncio.run(import_all())


def test_a_group_partly_listed_counts_as_listed_as_on_v3():
    """A batch refused (403) leaves what it held to reads alone; the batches that answered were used, so
    the group counts among ``listed_groups`` (v3's cursor list counts a group once a batch answered)."""
    server = Server(range(1, 251))
    server.status[100] = 403
    done = _refresh(server, [5, 150, 240])
    assert {a: v.id if v else None for a, v in done.live.items()} == {"p/5": 5, "p/150": 150, "p/240": 240}
    assert done.stats == RefreshStats("list", requests=1 + 3 + 1, listed_groups=1, read_alone=1)


def test_a_huge_count_lists_in_windows_and_stops_once_every_managed_page_is_found():
    """A faulty count (a million pages for an account of 150) costs a window of batches, not ten thousand
    requests at once: the managed pages are all in the first window, so listing stops there."""
    server = Server(range(1, 151))
    server.claimed = 1_000_000
    refreshed = _refresh(server, [5, 120], mode="list", parallelism=4)
    assert set(refreshed.live) == {"p/5", "p/120"} and all(refreshed.live.values())
    lists = [u for u in server.seen if "offset=" in u]
    assert len(lists) == 16  # one window (refresh.WINDOW)
    assert refreshed.stats == RefreshStats(mode="list", requests=17, listed_groups=1, read_alone=0)
