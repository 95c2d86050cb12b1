"""Refresh by listing on v3 (issue 15): the same plan whichever way the configurations were read, in
the number of requests the cost rule says (v3 lists by cursor and cannot count).

The live state (built once, read by every test; a test that writes works on a copy):

- grant-one: 12 managed configurations among 60 others. Outside provisioner: ``g1/p00`` deleted,
  ``g1/p01`` edited, ``g1/p02`` edited under its ``ignore_changes``; in pages/: ``g1/p03`` renamed
  (a move), ``g1/p04``'s file deleted (a delete: the state still names its grant, so it is listed),
  ``g1/new`` added over a pending create, and a pending create whose file is gone;
- grant-two: 2 managed configurations listed after 400 others (the worst case of ``auto``);
- grant-three: 1 managed configuration.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from provisioner import workflows
from provisioner.apis import Pages, get_api
from provisioner.apis.nylas_v3.api import V3Pages
from provisioner.apis.nylas_v3.client import ConfigurationsClient
from provisioner.changes import Action, RefreshStats
from provisioner.plan import LiveView
from provisioner.ratelimit import account_key
from provisioner.refresh import owners, read_live
from provisioner.render import render_drift, render_plan
from provisioner.settings import EMBEDDED_API_KEY, EMBEDDED_URL
from provisioner.state import current_holder

from .refresh_rig import Quiet, Rig, edit, plan_json, v3_page
from .test_refresh_v2 import Charged

IGNORED = "lifecycle:\n  ignore_changes: [config.appearance]\n"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Rig:
    rig = Rig.make(tmp_path_factory.mktemp("v3") / "project", api="nylas-v3")
    rig.seed_v3("grant-one", 60, "other-one")
    rig.seed_v3("grant-two", 400, "other-two")  # listed before the two managed ones, created after
    for i in range(12):
        rig.write(f"g1/p{i:02d}", v3_page(f"g1-p{i:02d}", "grant-one", IGNORED if i == 2 else ""))
    rig.write("g2/p0", v3_page("g2-p0", "grant-two"))
    rig.write("g2/p1", v3_page("g2-p1", "grant-two"))
    rig.write("g3/p0", v3_page("g3-p0", "grant-three"))
    rig.apply()
    pages = rig.state().resources

    async def outside(client: Pages) -> None:
        await client.delete(pages["g1/p00"].handle)
        await edit(client, pages["g1/p01"].handle, lambda c: c["event_booking"].update(title="edited live"),
                   changed=["event_booking"])
        await edit(client, pages["g1/p02"].handle, lambda c: c["appearance"].update(color="#123456"),
                   changed=["appearance"])

    rig.with_client(outside)
    rig.move("g1/p03", "g1/renamed03")
    rig.remove("g1/p04")
    rig.write("g1/new", v3_page("g1-new", "grant-one"))
    with rig.here(), rig.backend().transaction(rig.settings.target.state_key, current_holder({})) as txn:
        txn.intend_create("g1/new", "g1-new")
        txn.intend_create("g1/lost", "g1-lost")
    return rig


def test_the_plan_is_byte_identical_whichever_way_refresh_read(live: Rig):
    plans = {mode: live.plan(mode) for mode in ("page", "list", "auto")}
    assert plan_json(plans["list"]) == plan_json(plans["page"]) == plan_json(plans["auto"])

    doc = json.loads(plan_json(plans["auto"]))
    actions = {p["address"]: p["action"] for p in doc["pages"] if p["action"] != "noop"}
    assert actions == {"g1/p00": "recreate", "g1/p01": "update", "g1/renamed03": "move", "g1/p04": "delete",
                       "g1/new": "create"}
    drifted = {p["address"]: [(d["path"], d["resolution"]) for d in p["drift"]] for p in doc["pages"] if p["drift"]}
    assert drifted == {"g1/p01": [("config.event_booking.title", "revert")],
                       "g1/p02": [("config.appearance.color", "keep")]}
    assert any("g1/lost" in w for w in doc["warnings"])

    # auto: grant-one in 1 list (72 configurations) + the deleted one alone; grant-two lists 2 batches
    # of others, then stops (2 requests spent = its 2 pages not found) and reads both alone: 4, twice
    # the 2 reads, the worst case; grant-three (1 page) alone.
    assert plans["auto"].refresh == RefreshStats("auto", requests=2 + 4 + 1, listed_groups=2, read_alone=4)
    # list: grant-two's 3rd batch holds its pages; grant-three lists its one.
    assert plans["list"].refresh == RefreshStats("list", requests=2 + 3 + 1, listed_groups=3, read_alone=1)
    assert plans["page"].refresh == RefreshStats("page", requests=15, listed_groups=0, read_alone=15)


def test_drift_lists_with_the_grant_the_state_records(live: Rig):
    with live.here():
        reports = {m: workflows.drift(replace(live.settings, refresh=m)) for m in ("auto", "page")}
    assert reports["auto"].refresh == RefreshStats("auto", requests=7, listed_groups=2, read_alone=4)
    assert reports["page"].refresh == RefreshStats("page", requests=15, listed_groups=0, read_alone=15)
    drop = lambda text: {k: v for k, v in json.loads(text).items() if k != "refresh"}  # noqa: E731
    assert drop(render_drift(reports["auto"], "json")) == drop(render_drift(reports["page"], "json"))


def test_a_targeted_page_is_read_alone(live: Rig):
    assert live.plan("auto", ("g1/p07",)).refresh == RefreshStats("auto", requests=1, listed_groups=0, read_alone=1)
    assert live.plan("list", ("g1/p07",)).refresh == RefreshStats("list", requests=1, listed_groups=1, read_alone=0)


def test_listed_configurations_are_the_configurations_a_read_gives(live: Rig):
    state = live.state()

    async def compare(client: Pages) -> int:
        grants = ("grant-one", "grant-two", "grant-three")
        listed = {p.id: p for grant in grants for p in await client.list_owner(grant)}
        for resource in state.resources.values():
            if resource.id in listed:
                read = await client.get(resource.handle)
                assert listed[resource.id] == read
                assert LiveView.of(listed[resource.id]).fingerprint == LiveView.of(read).fingerprint
        return sum(1 for r in state.resources.values() if r.id in listed)

    assert live.with_client(compare) == 14  # all but the deleted one


class Refusing(httpx.AsyncBaseTransport):
    """The emulator's transport, but a list of configurations is answered ``status``."""

    def __init__(self, inner: httpx.AsyncBaseTransport, status: int) -> None:
        self.inner, self.status = inner, status

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "GET" and request.url.path.endswith("/configurations"):
            return httpx.Response(self.status, json={"request_id": "r", "error": {"type": "x", "message": "no"}})
        return await self.inner.handle_async_request(request)


def _read(rig: Rig, mode: str, transport: Callable[[httpx.AsyncBaseTransport], httpx.AsyncBaseTransport],
          limiter: Charged | None = None) -> tuple[dict[str, LiveView | None], RefreshStats]:
    state, api = rig.state(), get_api("nylas-v3")

    async def run() -> tuple[dict[str, LiveView | None], RefreshStats]:
        emulator = rig.emulator()
        try:
            async with ConfigurationsClient(EMBEDDED_URL, api_key=SecretStr(EMBEDDED_API_KEY), limiter=limiter,
                                            transport=transport(emulator.transport())) as client:
                done = await read_live(V3Pages(client), state, owners(state, {}, api), mode=mode, api=api)
                return done.live, done.stats
        finally:
            emulator.close()

    return asyncio.run(run())


@pytest.fixture(scope="module")
def by_page(live: Rig) -> dict[str, LiveView | None]:
    """Every managed page as read alone, each by its own request."""
    return _read(live, "page", lambda inner: inner)[0]


@pytest.mark.parametrize("status", [401, 403])
def test_a_list_refused_falls_back_to_reads_alone(live: Rig, by_page: dict[str, LiveView | None], status: int):
    refused, stats = _read(live, "list", lambda inner: Refusing(inner, status))
    assert refused == by_page and refused["g1/p00"] is None
    assert stats == RefreshStats("list", requests=3 + 15, listed_groups=0, read_alone=15)


def test_every_request_is_charged_to_the_api_key(live: Rig):
    """v3 has one bearer, the application's API key: lists and reads alike are charged to it (the
    emulator and the client's limiter keep one bucket per bearer; there is no per-grant limit)."""
    limiter = Charged()
    _, stats = _read(live, "auto", lambda inner: inner, limiter)
    assert limiter.keys == {account_key(SecretStr(EMBEDDED_API_KEY)): stats.requests} and stats.requests == 7


def test_a_saved_plan_applies_whichever_mode_refreshed_it(live: Rig, tmp_path: Path):
    rig = live.copy(tmp_path / "copy")
    saved = tmp_path / "plan.json"
    made = rig.plan("auto")
    with rig.here():
        workflows.save_plan(rig.settings, saved, made, render_plan(made, "json"), ())
        shown, result = workflows.apply(replace(rig.settings, refresh="page"),
                                        workflows.ApplyRequest(plan_file=saved), lambda _plan: True, Quiet())
    assert result is not None and not result.failed
    after = rig.plan("page")
    assert not after.has_changes and not any(p.drift for p in after.pages)
    assert next(p for p in after.pages if p.address == "g1/p00").action is Action.NOOP  # recreated
