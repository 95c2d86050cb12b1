"""Bookings: create, find, reschedule, confirm/decline, cancel, with their ``booking.*`` webhooks."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from tests.integration.v3.conftest import (
    HOUR,
    MON_0900,
    Capture,
    advance,
    book,
    config,
    create,
    error,
    session,
    slots,
)

pytestmark = pytest.mark.anyio
HOOK = "http://127.0.0.1:9/v3-hook"


async def subscribe(client: httpx.AsyncClient, *triggers: str) -> None:
    body: dict[str, Any] = {"webhook_url": HOOK} | ({"trigger_types": list(triggers)} if triggers else {})
    response = await client.post("/_emulator/v3/webhooks", json=body)
    assert response.status_code == 201, response.text


def starts(data: dict) -> list[int]:
    return [s["start_time"] for s in data["time_slots"]]


async def salt_of(client: httpx.AsyncClient, booking_id: str) -> str:
    listed = (await client.get("/_emulator/v3/bookings")).json()
    return next(b["salt"] for b in listed if b["booking_id"] == booking_id)


async def test_booking_takes_the_slot_and_sends_booking_created(client: httpx.AsyncClient, capture: Capture) -> None:
    await subscribe(client)
    made = await create(client)
    response = await book(client, made["id"], MON_0900)
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert data["status"] == "booked" and data["title"] == "Intro call"
    assert data["organizer"] == {"email": "alice@example.com", "name": "Alice"}
    assert set(data) == {"booking_id", "event_id", "title", "organizer", "status"}
    assert MON_0900 not in starts(await slots(client, made["id"], hours=1))
    ((url, payload),) = capture.calls
    assert url == HOOK and payload["type"] == "booking.created"
    assert payload["data"]["object"]["booking_id"] == data["booking_id"]
    assert payload["data"]["object"]["booking_info"]["start_time"] == MON_0900
    found = await client.get(f"/v3/scheduling/bookings/{data['booking_id']}")
    assert found.status_code == 200 and found.json()["data"] == data


async def test_a_slot_cannot_be_booked_twice_or_off_the_grid(client: httpx.AsyncClient) -> None:
    made = await create(client)
    assert (await book(client, made["id"], MON_0900)).status_code == 200
    assert "not available" in error(await book(client, made["id"], MON_0900), 400)
    error(await book(client, made["id"], MON_0900 + 600), 400)  # 09:10 is not a slot start
    error(await book(client, made["id"], MON_0900 + HOUR, minutes=45), 400)  # not the duration
    error(await book(client, made["id"], MON_0900 - 2 * HOUR), 400)  # 07:00: outside the open hours


async def test_a_public_booking_needs_no_bearer_but_a_private_one_needs_a_session(
        client: httpx.AsyncClient, anon: httpx.AsyncClient) -> None:
    public = await create(client, config(slug="open"))
    private = await create(client, config(slug="closed", requires_session_auth=True))
    assert (await book(anon, public["id"], MON_0900)).status_code == 200
    error(await book(anon, private["id"], MON_0900), 401)
    session_id = await session(client, private["id"])
    bearer = {"Authorization": f"Bearer {session_id}"}
    guest = {"email": "g@example.org"}
    # Both live on Alice's primary calendar: the public booking made her busy at 09:00 here too.
    taken = await anon.post("/v3/scheduling/bookings", headers=bearer, json={
        "start_time": MON_0900, "end_time": MON_0900 + 1800, "guest": guest})
    error(taken, 400)
    booked = await anon.post("/v3/scheduling/bookings", headers=bearer, json={
        "start_time": MON_0900 + HOUR, "end_time": MON_0900 + HOUR + 1800, "guest": guest})
    assert booked.status_code == 200, booked.text


async def test_reschedule_moves_the_booking_and_frees_the_old_slot(client: httpx.AsyncClient, capture: Capture) -> None:
    await subscribe(client, "booking.rescheduled")
    made = await create(client)
    booking = (await book(client, made["id"], MON_0900)).json()["data"]
    url = f"/v3/scheduling/bookings/{booking['booking_id']}"
    moved = await client.patch(url, json={"start_time": str(MON_0900 + HOUR), "end_time": MON_0900 + HOUR + 1800})
    assert moved.status_code == 200, moved.text
    free = starts(await slots(client, made["id"], hours=2))
    assert MON_0900 in free and MON_0900 + HOUR not in free
    assert [p["type"] for _, p in capture.calls] == ["booking.rescheduled"]
    error(await client.patch(url, json={"start_time": MON_0900 + HOUR, "end_time": MON_0900 + HOUR + 1800,
                                        "note": "x"}), 400)
    error(await client.patch(url, json={"start_time": "tomorrow", "end_time": 1}), 400)


async def test_organizer_confirmation_holds_the_slot_until_confirmed(client: httpx.AsyncClient,
                                                                     capture: Capture) -> None:
    await subscribe(client)
    made = await create(client, config(event_booking={"title": "Review", "booking_type": "organizer-confirmation"}))
    booking = (await book(client, made["id"], MON_0900)).json()["data"]
    assert booking["status"] == "pending"
    assert MON_0900 not in starts(await slots(client, made["id"], hours=1))
    url = f"/v3/scheduling/bookings/{booking['booking_id']}"
    error(await client.put(url, json={"salt": "wrong", "status": "confirmed"}), 400)
    salt = await salt_of(client, booking["booking_id"])
    assert capture.calls[0][1]["data"]["object"]["salt"] == salt
    confirmed = await client.put(url, json={"salt": salt, "status": "confirmed"})
    assert confirmed.status_code == 200 and confirmed.json()["data"]["status"] == "booked"
    error(await client.put(url, json={"salt": salt, "status": "confirmed"}), 400)  # no longer pending
    assert [p["type"] for _, p in capture.calls] == ["booking.pending", "booking.created"]


async def test_declining_a_pending_booking_frees_its_slot(client: httpx.AsyncClient, capture: Capture) -> None:
    await subscribe(client, "booking.cancelled")
    made = await create(client, config(event_booking={"title": "Review", "booking_type": "organizer-confirmation"}))
    booking = (await book(client, made["id"], MON_0900)).json()["data"]
    salt = await salt_of(client, booking["booking_id"])
    declined = await client.put(f"/v3/scheduling/bookings/{booking['booking_id']}",
                                json={"salt": salt, "status": "cancelled", "cancellation_reason": "Busy"})
    assert declined.status_code == 200 and declined.json()["data"]["status"] == "cancelled"
    assert MON_0900 in starts(await slots(client, made["id"], hours=1))
    assert capture.calls[0][1]["data"]["object"]["booking_info"]["cancellation_reason"] == "Busy"


async def test_cancel_frees_the_slot_once(client: httpx.AsyncClient, capture: Capture) -> None:
    await subscribe(client, "booking.cancelled")
    made = await create(client)
    booking = (await book(client, made["id"], MON_0900)).json()["data"]
    url = f"/v3/scheduling/bookings/{booking['booking_id']}"
    cancelled = await client.request("DELETE", url, json={"cancellation_reason": "Changed plans"})
    assert cancelled.status_code == 200 and set(cancelled.json()) == {"request_id"}
    assert (await client.get(url)).json()["data"]["status"] == "cancelled"
    assert MON_0900 in starts(await slots(client, made["id"], hours=1))
    error(await client.delete(url), 400)
    assert [p["type"] for _, p in capture.calls] == ["booking.cancelled"]


async def test_min_cancellation_notice_refuses_late_changes(client: httpx.AsyncClient) -> None:
    made = await create(client, config(scheduler={"min_cancellation_notice": 120, "min_booking_notice": 0}))
    booking = (await book(client, made["id"], MON_0900)).json()["data"]
    await advance(client, 90)  # 07:30: 90 minutes before the start, less than 120
    url = f"/v3/scheduling/bookings/{booking['booking_id']}"
    assert "notice" in error(await client.delete(url), 400)
    error(await client.patch(url, json={"start_time": MON_0900 + HOUR, "end_time": MON_0900 + HOUR + 1800}), 400)


async def test_additional_fields_are_checked(client: httpx.AsyncClient) -> None:
    made = await create(client, config(scheduler={"additional_fields": {
        "company": {"label": "Company", "type": "text", "required": True},
        "code": {"label": "Code", "type": "text", "required": False, "pattern": "[A-Z]{3}"},
        "size": {"label": "Size", "type": "dropdown", "required": False, "options": ["S", "M"]}}}))
    message = error(await book(client, made["id"], MON_0900, additional_fields={"code": "abc", "size": "XL",
                                                                                 "extra": "1"}), 400)
    for part in ("company: required", "code: does not match", "size: not one of", "extra: not a field"):
        assert part in message
    ok = await book(client, made["id"], MON_0900, additional_fields={"company": "Acme", "code": "ABC", "size": "M"})
    assert ok.status_code == 200, ok.text


async def test_booking_ids_are_scoped_to_their_configuration(client: httpx.AsyncClient,
                                                             anon: httpx.AsyncClient) -> None:
    first, second = await create(client, config(slug="one")), await create(client, config(slug="two"))
    booking = (await book(client, first["id"], MON_0900)).json()["data"]
    error(await anon.get(f"/v3/scheduling/bookings/{booking['booking_id']}",
                         params={"configuration_id": second["id"]}), 404)
    error(await client.get("/v3/scheduling/bookings/not-a-booking"), 404)


@pytest.mark.parametrize("body", [{"start_time": MON_0900, "end_time": MON_0900 + 1800},
                                  {"start_time": MON_0900, "end_time": MON_0900 + 1800, "guest": {"email": "no"}},
                                  {"start_time": "9", "end_time": MON_0900, "guest": {"email": "g@example.org"}},
                                  {"start_time": MON_0900, "end_time": MON_0900 + 1800,
                                   "guest": {"email": "g@example.org"}, "email_language": "xx"}])
async def test_bad_booking_bodies_are_400(client: httpx.AsyncClient, body: dict) -> None:
    made = await create(client)
    error(await client.post("/v3/scheduling/bookings", params={"configuration_id": made["id"]}, json=body), 400)


async def test_failed_webhook_deliveries_are_retried_and_recorded(client: httpx.AsyncClient,
                                                                  capture: Capture) -> None:
    await subscribe(client, "booking.created")
    capture.script = [500, ConnectionError("refused"), 200]
    made = await create(client)
    assert (await book(client, made["id"], MON_0900)).status_code == 200
    assert len(capture.calls) == 3
    (delivery,) = (await client.get("/_emulator/v3/webhooks/deliveries")).json()
    assert delivery["results"] == [{"url": HOOK, "status": 200, "error": None, "attempts": 3, "delivered": True}]


async def test_webhook_reminders_are_sent_once_when_due(client: httpx.AsyncClient, capture: Capture) -> None:
    await subscribe(client, "booking.reminder")
    made = await create(client, config(event_booking={"title": "Call", "reminders": [
        {"type": "webhook", "minutes_before_event": 60}, {"type": "email", "minutes_before_event": 600}]}))
    assert (await book(client, made["id"], MON_0900)).status_code == 200
    await advance(client, 90)  # 07:30: not due yet (due at 08:00)
    assert (await client.post("/_emulator/v3/reminders/run")).json()["reminders"] == []
    await advance(client, 30)
    sent = (await client.post("/_emulator/v3/reminders/run")).json()["reminders"]
    assert [s["type"] for s in sent] == ["booking.reminder"]
    assert (await client.post("/_emulator/v3/reminders/run")).json()["reminders"] == []
    assert [p["type"] for _, p in capture.calls] == ["booking.reminder"]


async def test_moving_or_deleting_a_bookings_event_takes_the_booking_along(client: httpx.AsyncClient,
                                                                          capture: Capture) -> None:
    await subscribe(client)
    made = await create(client)
    booking = (await book(client, made["id"], MON_0900)).json()["data"]
    url = f"/_emulator/v3/events/{booking['event_id']}"
    moved = await client.put(url, json={"start": MON_0900 + 2 * HOUR, "end": MON_0900 + 2 * HOUR + 1800})
    assert moved.status_code == 200 and moved.json()["booking"]["start_time"] == MON_0900 + 2 * HOUR
    assert MON_0900 in starts(await slots(client, made["id"], hours=3))
    assert MON_0900 + 2 * HOUR not in starts(await slots(client, made["id"], hours=3))
    deleted = await client.delete(url)
    assert deleted.json()["booking"]["status"] == "cancelled"
    found = await client.get(f"/v3/scheduling/bookings/{booking['booking_id']}")
    assert found.json()["data"]["status"] == "cancelled"
    assert [p["type"] for _, p in capture.calls] == ["booking.created", "booking.rescheduled", "booking.cancelled"]
    error(await client.delete(url), 404)


async def test_a_busy_block_can_be_moved_and_deleted(client: httpx.AsyncClient) -> None:
    made = await create(client)
    block = (await client.post("/_emulator/v3/grants/grant-organizer/events",
                               json={"start": "2026-03-02T09:00:00", "end": "2026-03-02T10:00:00"})).json()
    assert MON_0900 not in starts(await slots(client, made["id"], hours=2))
    moved = await client.put(f"/_emulator/v3/events/{block['id']}",
                             json={"start": MON_0900 + HOUR, "end": MON_0900 + 2 * HOUR})
    assert moved.json() == {"event": block | {"start": MON_0900 + HOUR, "end": MON_0900 + 2 * HOUR}, "booking": None}
    assert starts(await slots(client, made["id"], hours=2)) == [MON_0900, MON_0900 + 1800]
    assert (await client.delete(f"/_emulator/v3/events/{block['id']}")).status_code == 200
    assert len(starts(await slots(client, made["id"], hours=2))) == 4
    error(await client.put(f"/_emulator/v3/events/{block['id']}", json={"start": 1, "end": 0}), 400)


async def test_concurrent_bookings_of_one_slot_make_one_booking(client: httpx.AsyncClient) -> None:
    made = await create(client)
    answers = await asyncio.gather(*(book(client, made["id"], MON_0900, email=f"g{i}@example.org") for i in range(6)))
    assert sorted(a.status_code for a in answers) == [200, 400, 400, 400, 400, 400]
    assert len((await client.get("/_emulator/v3/bookings")).json()) == 1
