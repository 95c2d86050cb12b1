"""Refresh by listing on v2 (issue 15): the same plan whichever way the live pages were read, in the
number of requests the cost rule says.

The live state (built once, read by every test; a test that writes works on a copy):

- account A: 20 managed pages and 232 unmanaged ones (250 in its list at plan time). Outside
  provisioner: ``a/p00`` deleted, ``a/p01`` edited, ``a/p02`` given other hosts (it leaves A's list),
  ``a/p03`` edited under its ``ignore_changes``; in pages/: ``a/p04`` renamed to ``a/renamed04`` (a
  move), ``a/p05``'s file deleted (a delete: no token names its account any more), ``a/new`` added
  over a pending create, and a pending create whose file is gone (``a/lost``);
- account B: 3 managed pages among 200 unmanaged (listing costs 3 requests: no cheaper);
- account C: ``c/p0`` and the round-robin ``c/rr`` (hosts C and D): two pages, listing cannot win;
- account D: ``d/p0`` alone.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from provisioner import workflows
from provisioner.apis import Pages, get_api
from provisioner.apis.nylas_v2.api import V2Pages
from provisioner.apis.nylas_v2.client import SchedulerClient
from provisioner.changes import Action, RefreshStats
from provisioner.errors import ApiError, PlanRefused
from provisioner.plan import LiveView
from provisioner.ratelimit import RateLimiter, RateLimits, account_key
from provisioner.refresh import owners, read_live
from provisioner.render import render_drift, render_plan
from provisioner.settings import EMBEDDED_URL
from provisioner.state import current_holder
from provisioner.validation import validate

from .refresh_rig import TOKENS, Quiet, Rig, edit, plan_json, v2_page

IGNORED = "lifecycle:\n  ignore_changes: [config.appearance]\n"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Rig:
    rig = Rig.make(tmp_path_factory.mktemp("v2") / "project")
    rig.seed_v2(TOKENS["A"], 232, "other-a")
    rig.seed_v2(TOKENS["B"], 200, "other-b")
    for i in range(20):
        extra = {"lifecycle": IGNORED, "config": "  appearance: {color: '#0b5fff'}\n"} if i == 3 else {}
        rig.write(f"a/p{i:02d}", v2_page(f"a-p{i:02d}", "A", **extra))
    for i in range(3):
        rig.write(f"b/p{i}", v2_page(f"b-p{i}", "B"))
    rig.write("c/p0", v2_page("c-p0", "C"))
    rig.write("c/rr", v2_page("c-rr", "C", "D"))
    rig.write("d/p0", v2_page("d-p0", "D"))
    rig.apply()
    pages = rig.state().resources

    async def outside(client: Pages) -> None:
        await client.delete(pages["a/p00"].handle)
        await edit(client, pages["a/p01"].handle, lambda c: c["event"].update(title="edited live"))
        await edit(client, pages["a/p02"].handle, lambda c: None, owner=(SecretStr(TOKENS["X"]),))
        await edit(client, pages["a/p03"].handle, lambda c: c["appearance"].update(color="#123456"))

    rig.with_client(outside)
    rig.move("a/p04", "a/renamed04")
    rig.remove("a/p05")
    rig.write("a/new", v2_page("a-new", "A"))
    with rig.here(), rig.backend().transaction(rig.settings.target.state_key, current_holder({})) as txn:
        txn.intend_create("a/new", "a-new")
        txn.intend_create("a/lost", "a-lost")
    return rig


def test_the_plan_is_byte_identical_whichever_way_refresh_read(live: Rig):
    plans = {mode: live.plan(mode) for mode in ("page", "list", "auto")}
    assert plan_json(plans["list"]) == plan_json(plans["page"]) == plan_json(plans["auto"])

    doc = json.loads(plan_json(plans["auto"]))
    actions = {p["address"]: p["action"] for p in doc["pages"] if p["action"] != "noop"}
    assert actions == {"a/p00": "recreate", "a/p01": "update", "a/renamed04": "move", "a/p05": "delete",
                       "a/new": "create"}
    drifted = {p["address"]: [(d["path"], d["resolution"]) for d in p["drift"]] for p in doc["pages"] if p["drift"]}
    assert drifted == {"a/p01": [("config.event.title", "revert")], "a/p03": [("config.appearance.color", "keep")]}
    assert any("a/lost" in w for w in doc["warnings"])

    # Requests: A lists (1 count + 3 lists of 100 for its 250 pages) and reads alone the two pages its
    # list lacks (deleted; hosts changed); a/p05 has no token left: read alone; B counts 203 pages,
    # 3 lists would cost as much as its 3 reads: read alone; C (2 pages) and D (1) read alone at once.
    assert plans["auto"].refresh == RefreshStats("auto", requests=6 + 1 + 4 + 2 + 1, listed_groups=1, read_alone=9)
    # list: every account with a token lists (B 1 + 3, C 1 + 1, D 1 + 1); only the 3 pages no list holds alone.
    assert plans["list"].refresh == RefreshStats("list", requests=6 + 1 + 4 + 2 + 2, listed_groups=4, read_alone=3)
    assert plans["page"].refresh == RefreshStats("page", requests=26, listed_groups=0, read_alone=26)


def test_auto_reads_alone_an_account_of_far_more_other_pages_and_a_targeted_page(live: Rig):
    b_pages = ("b/p0", "b/p1", "b/p2")
    assert live.plan("auto", b_pages).refresh == RefreshStats("auto", requests=4, listed_groups=0, read_alone=3)
    assert live.plan("list", b_pages).refresh == RefreshStats("list", requests=4, listed_groups=1, read_alone=0)
    # --target of one page never lists its account (that would cost more than the one read).
    assert live.plan("auto", ("a/p10",)).refresh == RefreshStats("auto", requests=1, listed_groups=0, read_alone=1)
    # A's pages alone, targeted: 1 count + 3 lists, and the two its list lacks.
    a_pages = tuple(f"a/p{i:02d}" for i in range(6, 20)) + ("a/p00", "a/p02")
    assert live.plan("auto", a_pages).refresh == RefreshStats("auto", requests=6, listed_groups=1, read_alone=2)


def test_an_account_that_lists_nothing_leaves_its_pages_to_reads_alone(live: Rig, tmp_path: Path):
    """The emulator lists nothing for a token it has never seen (v2's "unknown token is []"): a count
    of 0, no list, and the pages are read alone by their edit tokens."""
    rig = live.copy(tmp_path / "copy")
    b_pages = ("b/p0", "b/p1", "b/p2")
    for address in b_pages:
        rig.write(address, v2_page(address.replace("/", "-"), "Z"))
    auto, page = rig.plan("auto", b_pages), rig.plan("page", b_pages)
    assert plan_json(auto) == plan_json(page)
    assert [c.path for p in auto.pages for c in p.changes] == ["hosts"] * 3  # the new token is sent by apply
    assert auto.refresh == RefreshStats("auto", requests=1 + 3, listed_groups=0, read_alone=3)


def test_drift_reads_by_edit_token_without_access_tokens(live: Rig):
    with live.here():
        reports = {m: workflows.drift(replace(live.settings, refresh=m)) for m in ("auto", "list", "page")}
    assert {m: r.refresh for m, r in reports.items()} == {
        m: RefreshStats(m, requests=26, listed_groups=0, read_alone=26) for m in reports}
    texts = {json.dumps({k: v for k, v in json.loads(render_drift(r, "json")).items() if k != "refresh"})
             for r in reports.values()}
    assert len(texts) == 1 and "a/p01" in texts.pop()


def test_listed_pages_are_the_pages_a_read_gives(live: Rig):
    """Per-page live fingerprints (saved plans) are the same from a list and from a GET."""
    state = live.state()

    async def compare(client: Pages) -> int:
        listed = {p.id: p for token in ("A", "B", "C", "D")
                  for p in await client.list_owner((SecretStr(TOKENS[token]),))}
        same = 0
        for resource in state.resources.values():
            if resource.id in listed and resource.address != "a/p02":
                read = await client.get(resource.handle)
                assert listed[resource.id] == read
                assert LiveView.of(listed[resource.id]).fingerprint == LiveView.of(read).fingerprint
                same += 1
        return same

    assert live.with_client(compare) == 24  # every managed page but the deleted one and a/p02 (hosts X)


class Recording(httpx.AsyncBaseTransport):
    """The emulator's transport, recording each request's path and bearer (hashed); list and count
    requests (``GET /manage/pages``; only counts with ``counts_only``) answered ``refuse`` instead when
    it is set."""

    def __init__(self, inner: httpx.AsyncBaseTransport, refuse: int | None = None, counts_only: bool = False) -> None:
        self.inner, self.refuse, self.counts_only = inner, refuse, counts_only
        self.seen: list[tuple[str, str]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        bearer = request.headers.get("authorization", "").removeprefix("Bearer ")
        self.seen.append((request.url.path, hashlib.sha256(bearer.encode()).hexdigest()))
        listing = request.url.path == "/manage/pages" and request.method == "GET"
        if self.refuse is not None and listing and (request.url.params.get("view") or not self.counts_only):
            return httpx.Response(self.refuse, json={"message": "refused", "type": "invalid_request_error"})
        return await self.inner.handle_async_request(request)


class Charged(RateLimiter):
    """A real limiter (unlimited) that remembers which account each request was charged to."""

    def __init__(self) -> None:
        super().__init__(RateLimits(per_account=None, per_application=None))
        self.keys: Counter[str] = Counter()

    async def acquire(self, token: SecretStr) -> float:
        self.keys[account_key(token)] += 1
        return await super().acquire(token)


async def _no_sleep(_seconds: float) -> None:
    return None


def _read(rig: Rig, mode: str, transport: Callable[[httpx.AsyncBaseTransport], httpx.AsyncBaseTransport],
          limiter: RateLimiter | None = None) -> tuple[dict[str, LiveView | None], RefreshStats]:
    state, api = rig.state(), get_api("nylas-v2")
    with rig.here():
        groups = owners(state, validate(rig.settings, need_tokens=True), api)

    async def run() -> tuple[dict[str, LiveView | None], RefreshStats]:
        emulator = rig.emulator()
        try:
            async with SchedulerClient(EMBEDDED_URL, transport=transport(emulator.transport()), limiter=limiter,
                                       sleep=_no_sleep) as client:
                done = await read_live(V2Pages(client), state, groups, mode=mode, api=api)
                return done.live, done.stats
        finally:
            emulator.close()

    return asyncio.run(run())


def test_rate_limits_are_charged_to_the_account_that_lists(live: Rig):
    limiter = Charged()
    recorders: list[Recording] = []

    def recording(inner: httpx.AsyncBaseTransport) -> httpx.AsyncBaseTransport:
        recorders.append(Recording(inner))
        return recorders[-1]

    _read(live, "list", recording, limiter)
    key = {name: account_key(SecretStr(token)) for name, token in TOKENS.items()}
    p05 = live.state().resources["a/p05"].handle.edit_token
    assert p05 is not None
    # Reads alone of A's pages (deleted, hosts changed) are charged to A too; a/p05, whose file is
    # gone, to its edit token (no account is known), as before.
    assert limiter.keys == {key["A"]: 6, key["B"]: 4, key["C"]: 2, key["D"]: 2, account_key(p05): 1}
    digest = {hashlib.sha256(t.encode()).hexdigest(): name for name, t in TOKENS.items()}
    list_bearers = Counter(digest.get(h, "?") for path, h in recorders[0].seen if path == "/manage/pages")
    assert list_bearers == {"A": 4, "B": 4, "C": 2, "D": 2}  # the emulator charges the bearer: the account


@pytest.fixture(scope="module")
def by_page(live: Rig) -> dict[str, LiveView | None]:
    """Every managed page as read alone, each by its own request."""
    return _read(live, "page", lambda inner: inner)[0]


@pytest.mark.parametrize("status", [401, 403])
def test_a_list_refused_falls_back_to_reads_alone(live: Rig, by_page: dict[str, LiveView | None], status: int):
    refused, stats = _read(live, "list", lambda inner: Recording(inner, refuse=status))
    assert refused == by_page and refused["a/p00"] is None
    assert stats == RefreshStats("list", requests=4 + 26, listed_groups=0, read_alone=26)


def test_a_server_that_cannot_count_is_listed_by_offset_until_the_cost_rule_stops(
    live: Rig, by_page: dict[str, LiveView | None]
):
    listed, stats = _read(live, "auto", lambda inner: Recording(inner, refuse=400, counts_only=True))
    assert listed == by_page
    # A: refused count + 3 lists (its pages come after 232 others: 19 unfound after 2) + its 2 missing
    # pages; B's 3 pages come after its 200 others: 3 lists (spent 1 and 2 < 3 unfound, the 3rd finds
    # them); C (2 pages), D and a/p05 read alone.
    assert stats == RefreshStats("auto", requests=6 + 4 + 2 + 1 + 1, listed_groups=2, read_alone=6)


def test_a_list_failing_otherwise_fails_the_refresh_like_a_read(live: Rig):
    with pytest.raises(ApiError, match=r"GET /manage/pages\?view=count: gave up after \d attempt"):
        _read(live, "auto", lambda inner: Recording(inner, refuse=503))


def test_a_saved_plan_applies_whichever_mode_refreshed_it(live: Rig, tmp_path: Path):
    rig = live.copy(tmp_path / "copy")
    saved = tmp_path / "plan.json"
    made = rig.plan("page")
    with rig.here():
        workflows.save_plan(rig.settings, saved, made, render_plan(made, "json"), ())
        shown, result = workflows.apply(replace(rig.settings, refresh="list"),
                                        workflows.ApplyRequest(plan_file=saved), lambda _plan: True, Quiet())
    assert result is not None and not result.failed and shown.refresh is not None
    assert shown.refresh.mode == "list"
    after = rig.plan("auto")
    assert not after.has_changes and not any(p.drift for p in after.pages)
    assert next(p for p in after.pages if p.address == "a/p00").action is Action.NOOP  # recreated


def test_a_stale_saved_plan_is_refused_alike_in_every_mode(live: Rig, tmp_path: Path):
    rig = live.copy(tmp_path / "copy")
    saved = tmp_path / "plan.json"
    made = rig.plan("list")
    with rig.here():
        workflows.save_plan(rig.settings, saved, made, render_plan(made, "json"), ())
    pages = rig.state().resources
    rig.with_client(lambda client: edit(client, pages["a/p07"].handle, lambda c: c["event"].update(title="again")))
    refusals = set()
    for mode in ("page", "list", "auto"):
        with rig.here(), pytest.raises(PlanRefused) as refused:
            workflows.apply(replace(rig.settings, refresh=mode), workflows.ApplyRequest(plan_file=saved),
                            lambda _plan: True, Quiet())
        refusals.add(str(refused.value))
    assert refusals == {"changed since the plan was made: a/p07 (its live page changed outside provisioner); "
                        "nothing was applied, run plan again"}


def test_a_page_whose_file_names_its_hosts_in_another_order_is_listed_by_the_first(live: Rig, tmp_path: Path):
    """``c/rr`` (live hosts C, D) written as D, C: it joins D's group, whose list holds it too; C's list
    (``c/p0``) holds it as well. Both ways, the plan says the same: the hosts are sent again in order."""
    rig = live.copy(tmp_path / "copy")
    rig.write("c/rr", v2_page("c-rr", "D", "C"))
    chosen = ("c/p0", "c/rr", "d/p0")
    plans = {mode: rig.plan(mode, chosen) for mode in ("page", "list")}
    assert plan_json(plans["list"]) == plan_json(plans["page"])
    assert [(p.address, c.path) for p in plans["list"].pages for c in p.changes] == [("c/rr", "hosts")]
    # C counts and lists (c/p0), D counts and lists (d/p0, c/rr): nothing is read alone.
    assert plans["list"].refresh == RefreshStats("list", requests=4, listed_groups=2, read_alone=0)
