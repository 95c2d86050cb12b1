"""Round robin as the v3 guide describes it: hosts ordered by when they were last booked (never-booked
first, alphabetically); max-fairness offers the less recently booked half, falling back to everyone
when that half has no slot; max-availability offers every host; collective needs everyone free."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.integration.v3.conftest import HOUR, MON_0900, book, config, create, host, slots

pytestmark = pytest.mark.anyio

HOSTS = [host("cat@example.com", "g-cat"), host("ann@example.com", "g-ann"), host("bob@example.com", "g-bob")]


def round_robin(method: str, hosts: list[dict[str, Any]] = HOSTS, **rules: Any) -> dict[str, Any]:
    return config(participants=hosts, availability={"duration_minutes": 30, "availability_rules": {
        "availability_method": method, **rules}})


async def busy(client: httpx.AsyncClient, grant: str, start: int, end: int) -> None:
    response = await client.post(f"/_emulator/v3/grants/{grant}/events", json={"start": start, "end": end})
    assert response.status_code == 201, response.text


async def booked_host(client: httpx.AsyncClient, config_id: str, start: int) -> str:
    response = await book(client, config_id, start)
    assert response.status_code == 200, response.text
    return str(response.json()["data"]["organizer"]["email"])


def by_start(data: dict[str, Any]) -> dict[int, list[str]]:
    return {s["start_time"]: s["emails"] for s in data["time_slots"]}


@pytest.mark.parametrize("method", ["max-fairness", "max-availability"])
async def test_bookings_rotate_in_last_booked_order(client: httpx.AsyncClient, method: str) -> None:
    made = await create(client, round_robin(method))
    assert (await slots(client, made["id"], hours=1))["order"] == [
        "ann@example.com", "bob@example.com", "cat@example.com"]  # never booked: alphabetical
    hosts = [await booked_host(client, made["id"], MON_0900 + i * 1800) for i in range(4)]
    assert hosts == ["ann@example.com", "bob@example.com", "cat@example.com", "ann@example.com"]
    assert (await slots(client, made["id"], hours=1))["order"] == [
        "bob@example.com", "cat@example.com", "ann@example.com"]


async def test_max_fairness_drops_the_most_recently_booked_half(client: httpx.AsyncClient) -> None:
    made = await create(client, round_robin("max-fairness"))
    await booked_host(client, made["id"], MON_0900)  # ann; order now bob, cat, ann: the pool is bob, cat
    await busy(client, "g-bob", MON_0900 + 2 * HOUR, MON_0900 + 3 * HOUR)
    await busy(client, "g-cat", MON_0900 + 2 * HOUR, MON_0900 + 3 * HOUR)
    offered = by_start(await slots(client, made["id"], hours=4))
    # 11:00-12:00: only ann is free, and she is in the dropped half: no slot there.
    assert MON_0900 + 2 * HOUR not in offered and MON_0900 + 2 * HOUR + 1800 not in offered
    assert offered[MON_0900 + HOUR] == ["bob@example.com"]
    assert (await book(client, made["id"], MON_0900 + 2 * HOUR)).status_code == 400


async def test_max_availability_offers_every_host(client: httpx.AsyncClient) -> None:
    made = await create(client, round_robin("max-availability"))
    await booked_host(client, made["id"], MON_0900)
    await busy(client, "g-bob", MON_0900 + 2 * HOUR, MON_0900 + 3 * HOUR)
    await busy(client, "g-cat", MON_0900 + 2 * HOUR, MON_0900 + 3 * HOUR)
    offered = by_start(await slots(client, made["id"], hours=4))
    assert offered[MON_0900 + 2 * HOUR] == ["ann@example.com"]
    assert await booked_host(client, made["id"], MON_0900 + 2 * HOUR) == "ann@example.com"


async def test_max_fairness_falls_back_to_everyone_when_the_half_has_no_slot(client: httpx.AsyncClient) -> None:
    hosts = [host("ann@example.com", "g-ann"), host("bob@example.com", "g-bob")]
    made = await create(client, round_robin("max-fairness", hosts, default_open_hours=[
        {"days": [1], "start": "09:00", "end": "10:00", "timezone": "UTC"}]))
    await booked_host(client, made["id"], MON_0900)  # ann; the pool is now bob alone
    for week in range(5):  # bob is busy on every Monday of the horizon
        await busy(client, "g-bob", MON_0900 + week * 7 * 24 * HOUR, MON_0900 + week * 7 * 24 * HOUR + HOUR)
    offered = by_start(await slots(client, made["id"], hours=1))
    assert offered == {MON_0900 + 1800: ["ann@example.com"]}
    assert await booked_host(client, made["id"], MON_0900 + 1800) == "ann@example.com"


async def test_participants_in_the_booking_narrow_the_hosts(client: httpx.AsyncClient) -> None:
    made = await create(client, round_robin("max-availability"))
    response = await book(client, made["id"], MON_0900, participants=[{"email": "cat@example.com"}])
    assert response.json()["data"]["organizer"]["email"] == "cat@example.com"
    assert (await book(client, made["id"], MON_0900 + HOUR, participants=[{"email": "zed@example.com"}])
            ).status_code == 400


async def test_collective_needs_every_participant_free(client: httpx.AsyncClient) -> None:
    organizer = config()["participants"][0]
    made = await create(client, config(participants=[organizer, host("bob@example.com", "g-bob")]))
    await busy(client, "g-bob", MON_0900, MON_0900 + HOUR)
    offered = by_start(await slots(client, made["id"], hours=2))
    assert sorted(offered) == [MON_0900 + HOUR, MON_0900 + HOUR + 1800]
    assert offered[MON_0900 + HOUR] == ["alice@example.com", "bob@example.com"]
    assert (await book(client, made["id"], MON_0900)).status_code == 400
    booking = (await book(client, made["id"], MON_0900 + HOUR)).json()["data"]
    assert booking["organizer"]["email"] == "alice@example.com"
    # The booking is on both calendars: Bob is now busy at 10:00 for his other configurations too.
    events = (await client.get("/_emulator/v3/grants/g-bob/events")).json()
    assert [e["start"] for e in events if e["booking_id"] == booking["booking_id"]] == [MON_0900 + HOUR]
