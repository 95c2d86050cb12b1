"""The ``/_emulator/`` test controls: clock, calendars, busy blocks, bookings; never faulted."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import pytest

from provisioner.emulator import Emulator, FaultConfig, account_id_for, primary_calendar_id_for
from provisioner.emulator import serve as serve_module
from tests.integration.conftest import EmuClock
from tests.integration.test_emulator_booking import FRI_1200, HOST_A, HOUR, NOW, book, make_page, timeslots

pytestmark = pytest.mark.anyio

ACCOUNT = account_id_for(HOST_A)


def error_of(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"message", "type"}
    return str(body["message"])


async def test_clock_follows_the_base_until_pinned(emu_client: httpx.AsyncClient, emu_clock: EmuClock,
                                                   emu_emulator: Emulator) -> None:
    assert (await emu_client.get("/_emulator/clock")).json() == {"now": NOW.isoformat(), "pinned": False}
    emu_clock.now = NOW + timedelta(hours=1)
    assert emu_emulator.clock() == NOW + timedelta(hours=1)
    pinned = await emu_client.put("/_emulator/clock", json={"now": "2024-03-04T08:00:00+01:00"})
    assert pinned.json() == {"now": "2024-03-04T07:00:00+00:00", "pinned": True, "reminders": []}
    emu_clock.now = NOW  # the base no longer matters
    assert (await emu_client.put("/_emulator/clock", json={"advance_minutes": 90})).json()["now"] == \
        "2024-03-04T08:30:00+00:00"
    assert (await emu_client.delete("/_emulator/clock")).json() == {"now": NOW.isoformat(), "pinned": False}


@pytest.mark.parametrize("body", [{}, {"now": "tomorrow"}, {"advance_minutes": -5}, {"advance_minutes": True},
                                  {"now": "2024-03-01T00:00:00Z", "advance_minutes": 1}, {"later": 1}])
async def test_bad_clock_requests_are_refused(emu_client: httpx.AsyncClient, body: dict[str, Any]) -> None:
    error_of(await emu_client.put("/_emulator/clock", json=body), 400)
    assert (await emu_client.get("/_emulator/clock")).json()["pinned"] is False


async def test_the_clock_moves_the_slots(emu_client: httpx.AsyncClient) -> None:
    await make_page(emu_client, "clocked")
    assert (await timeslots(emu_client, "clocked"))[0]["start"] == FRI_1200
    await emu_client.put("/_emulator/clock", json={"now": FRI_1200 + 2 * HOUR + 60})
    assert (await timeslots(emu_client, "clocked"))[0]["start"] == FRI_1200 + 2 * HOUR + 1800


async def test_calendars_and_busy_blocks(emu_client: httpx.AsyncClient) -> None:
    url = f"/_emulator/accounts/{ACCOUNT}"
    assert "access token" in error_of(await emu_client.get(f"{url}/calendars"), 404)
    await make_page(emu_client, "world")
    primary = primary_calendar_id_for(ACCOUNT)
    created = await emu_client.post(f"{url}/calendars", json={"name": "Holidays", "read_only": True})
    assert created.status_code == 201
    holidays = created.json()
    assert (holidays["name"], holidays["read_only"], holidays["is_primary"]) == ("Holidays", True, False)
    assert [c["id"] for c in (await emu_client.get(f"{url}/calendars")).json()] == [primary, holidays["id"]]
    event = await emu_client.post(f"{url}/events", json={"start": "2024-03-01T13:00:00", "end": FRI_1200 + 2 * HOUR,
                                                         "title": "Dentist"})
    assert event.status_code == 201
    assert event.json() | {"id": "x"} == {"id": "x", "calendar_id": primary, "account_id": ACCOUNT,
                                          "title": "Dentist", "start": FRI_1200 + HOUR, "end": FRI_1200 + 2 * HOUR,
                                          "booking_id": None}
    assert FRI_1200 + HOUR not in {s["start"] for s in await timeslots(emu_client, "world")}
    moved = await emu_client.put(f"/_emulator/events/{event.json()['id']}",
                                 json={"start": FRI_1200 + 3 * HOUR, "end": FRI_1200 + 4 * HOUR})
    assert moved.json() == {"event": event.json() | {"start": FRI_1200 + 3 * HOUR, "end": FRI_1200 + 4 * HOUR},
                            "bookings": []}
    starts = {s["start"] for s in await timeslots(emu_client, "world")}
    assert FRI_1200 + HOUR in starts and FRI_1200 + 3 * HOUR not in starts
    assert (await emu_client.delete(f"/_emulator/events/{event.json()['id']}")).status_code == 200
    assert (await emu_client.get(f"{url}/events")).json() == []
    assert FRI_1200 + 3 * HOUR in {s["start"] for s in await timeslots(emu_client, "world")}


@pytest.mark.parametrize("body", [{"start": FRI_1200}, {"start": FRI_1200, "end": FRI_1200},
                                  {"start": "noon", "end": FRI_1200}, {"start": 1, "end": 2, "calendar_id": "zzz"},
                                  {"start": 1, "end": 2, "colour": "red"}, {"start": 1, "end": 2, "title": 5}])
async def test_bad_busy_blocks_are_refused(emu_client: httpx.AsyncClient, body: dict[str, Any]) -> None:
    await make_page(emu_client, "bad-blocks")
    error_of(await emu_client.post(f"/_emulator/accounts/{ACCOUNT}/events", json=body), 400)


async def test_unknown_events_and_pages(emu_client: httpx.AsyncClient) -> None:
    error_of(await emu_client.put("/_emulator/events/nope", json={"start": 1, "end": 2}), 404)
    error_of(await emu_client.delete("/_emulator/events/nope"), 404)
    error_of(await emu_client.get("/_emulator/bookings", params={"slug": "nope"}), 404)
    error_of(await emu_client.post(f"/_emulator/accounts/{ACCOUNT}/calendars", json={"name": ""}), 404)


async def test_bookings_list_by_page(emu_client: httpx.AsyncClient) -> None:
    await make_page(emu_client, "one")
    await make_page(emu_client, "two")
    mine = (await book(emu_client, "one", (await timeslots(emu_client, "one"))[0])).json()
    listed = (await emu_client.get("/_emulator/bookings", params={"slug": "one"})).json()
    assert listed == [mine | {"page_id": listed[0]["page_id"], "status": "confirmed", "additional_emails": [],
                              "replaced_by": None, "cancel_reason": None}]
    assert (await emu_client.get("/_emulator/bookings", params={"slug": "two"})).json() == []
    # the second page's slots are blocked by the first page's booking (same host calendar)
    assert mine["start_time"] not in {s["start"] for s in await timeslots(emu_client, "two")}


async def test_controls_are_never_faulted(emu_client: httpx.AsyncClient, emu_emulator: Emulator) -> None:
    emu_emulator.faults = FaultConfig(error_rate=1.0)
    assert (await emu_client.get("/_emulator/clock")).status_code == 200
    assert (await emu_client.get("/_emulator/bookings")).status_code == 200
    assert (await emu_client.get("/schedule/any/timeslots")).status_code == 503


def test_serve_now_pins_the_clock(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[dict[str, Any]] = []

    def fake_run(app: Any, **kwargs: Any) -> None:  # stands in for uvicorn.run: one request, then stop
        async def ask() -> dict[str, Any]:
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://e") as client:
                return dict((await client.get("/_emulator/clock")).json())

        seen.append(asyncio.run(ask()))

    monkeypatch.setattr(serve_module.uvicorn, "run", fake_run)
    serve_module.serve(db=tmp_path / "emu.db", now=NOW.replace(tzinfo=None) + timedelta(days=3))
    assert seen == [{"now": "2024-03-04T12:00:00+00:00", "pinned": True}]
