"""Webhooks both ways: reminder deliveries (captured sender, retries) and calendar notifications in."""

from __future__ import annotations

import copy
from typing import Any

import httpx
import pytest

from provisioner.apis.nylas_v2.emulator.webhooks import DeliveryRefused, loopback_sender
from tests.integration.test_emulator_booking import CONFIG, FRI_1200, HOUR, at, book, make_page, timeslots
from tests.integration.webhook_capture import Capture

pytestmark = pytest.mark.anyio

HOOK = "http://127.0.0.1:9/reminder"


@pytest.fixture
def capture() -> Capture:
    return Capture()


@pytest.fixture
def emu_webhook_sender(capture: Capture) -> Capture:
    return capture


@pytest.fixture
def client(emu_client: httpx.AsyncClient) -> httpx.AsyncClient:
    """`emu_client` over an emulator whose webhook sender is `capture`."""
    return emu_client


def with_reminder(minutes: int = 30, url: str = HOOK) -> dict[str, Any]:
    return copy.deepcopy(CONFIG) | {"reminders": [
        {"delivery_method": "webhook", "delivery_recipient": "owner", "time_before_event": minutes,
         "webhook_url": url},
        {"delivery_method": "email", "delivery_recipient": "both", "time_before_event": 600}]}


async def set_clock(client: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    response = await client.put("/_emulator/clock", json=body)
    assert response.status_code == 200, response.text
    return response.json()


# --- reminders out -------------------------------------------------------------------------------


async def test_reminder_is_posted_once_when_the_clock_passes_it(client: httpx.AsyncClient,
                                                                capture: Capture) -> None:
    page = await make_page(client, "remind", with_reminder(30))
    booking = (await book(client, "remind", at(await timeslots(client, "remind"), FRI_1200 + 2 * HOUR))).json()
    assert (await set_clock(client, now="2024-03-01T13:29:00Z"))["reminders"] == []
    assert capture.calls == []
    answer = await set_clock(client, advance_minutes=1)  # 13:30 = 14:00 - 30 min
    assert answer["now"] == "2024-03-01T13:30:00+00:00" and answer["pinned"] is True
    assert answer["reminders"] == [{"booking_id": booking["id"], "webhook_url": HOOK, "time_before_event": 30,
                                    "attempts": 1, "delivered": True}]
    [(url, payload)] = capture.calls
    assert url == HOOK and set(payload) == {"booking", "page"}
    assert payload["booking"] == booking
    assert payload["page"]["id"] == page["id"] and "edit_token" not in payload["page"]
    assert (await set_clock(client, advance_minutes=10))["reminders"] == []
    assert len(capture.calls) == 1


async def test_failed_reminder_is_retried_three_times_then_given_up(client: httpx.AsyncClient,
                                                                     capture: Capture) -> None:
    await make_page(client, "retry", with_reminder(60))
    await book(client, "retry", at(await timeslots(client, "retry"), FRI_1200 + 2 * HOUR))
    capture.script = [500, httpx.ConnectError("refused"), 404, 503]
    [delivery] = (await set_clock(client, now="2024-03-01T13:00:00Z"))["reminders"]
    assert (delivery["attempts"], delivery["delivered"]) == (4, False)
    assert len(capture.calls) == 4
    assert (await client.post("/_emulator/reminders/run")).json() == {"reminders": []}
    assert len(capture.calls) == 4


async def test_retry_that_succeeds_stops_retrying(client: httpx.AsyncClient, capture: Capture) -> None:
    await make_page(client, "third", with_reminder(60))
    await book(client, "third", at(await timeslots(client, "third"), FRI_1200 + 2 * HOUR))
    capture.script = [502, 502, 200]
    [delivery] = (await set_clock(client, now="2024-03-01T13:10:00Z"))["reminders"]
    assert (delivery["attempts"], delivery["delivered"]) == (3, True)


async def test_no_reminder_for_cancelled_pending_or_finished_bookings(client: httpx.AsyncClient,
                                                                       capture: Capture) -> None:
    await make_page(client, "quiet", with_reminder(30))
    slots = await timeslots(client, "quiet")
    gone = (await book(client, "quiet", at(slots, FRI_1200 + HOUR))).json()
    await client.post(f"/schedule/quiet/{gone['edit_hash']}/cancel", json={"reason": "x"})
    manual = with_reminder(30) | {"booking": CONFIG["booking"] | {"confirmation_method": "manual"}}
    await make_page(client, "manual", manual)
    await book(client, "manual", at(await timeslots(client, "manual"), FRI_1200 + HOUR))
    await make_page(client, "past", with_reminder(30))
    await book(client, "past", at(await timeslots(client, "past"), FRI_1200))  # 12:00-12:30
    # 12:45: every reminder is due (13:00 - 30 min, 12:00 - 30 min), yet none may be sent
    assert (await set_clock(client, now="2024-03-01T12:45:00Z"))["reminders"] == []
    assert capture.calls == []


async def test_loopback_sender_refuses_other_hosts_and_posts_to_loopback() -> None:
    with pytest.raises(DeliveryRefused):
        await loopback_sender("https://example.com/hook", {"booking": {}})
    seen: list[bytes] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.content)
        return httpx.Response(200)

    original = httpx.AsyncClient.__init__

    def patched(self: httpx.AsyncClient, **kwargs: Any) -> None:
        original(self, transport=httpx.MockTransport(handler), **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(httpx.AsyncClient, "__init__", patched)
        assert await loopback_sender("http://127.0.0.1:1/hook", {"booking": {"id": 1}}) == 200
    assert seen == [b'{"booking":{"id":1}}']


# --- calendar notifications in -------------------------------------------------------------------


def delta(kind: str, event_id: str, account_id: str, attributes: Any = None) -> dict[str, Any]:
    return {"deltas": [{"date": FRI_1200, "object": "event", "type": kind, "object_data": {
        "namespace_id": account_id, "account_id": account_id, "object": "event", "attributes": attributes,
        "id": event_id, "metadata": None}}]}


async def bookings(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    return list((await client.get("/_emulator/bookings")).json())


async def test_moving_the_event_through_the_controls_moves_the_booking(client: httpx.AsyncClient) -> None:
    await make_page(client, "moved")
    booking = (await book(client, "moved", at(await timeslots(client, "moved"), FRI_1200 + HOUR))).json()
    response = await client.put(f"/_emulator/events/{booking['calendar_event_id']}",
                                json={"start": FRI_1200 + 3 * HOUR, "end": FRI_1200 + 3 * HOUR + 1800})
    assert response.status_code == 200, response.text
    assert [b["id"] for b in response.json()["bookings"]] == [booking["id"]]
    [moved] = await bookings(client)
    assert (moved["start_time"], moved["status"]) == (FRI_1200 + 3 * HOUR, "confirmed")
    starts = {s["start"] for s in await timeslots(client, "moved")}
    assert FRI_1200 + HOUR in starts and FRI_1200 + 3 * HOUR not in starts


async def test_deleting_the_event_through_the_controls_cancels_the_booking(client: httpx.AsyncClient) -> None:
    await make_page(client, "deleted")
    slot = at(await timeslots(client, "deleted"), FRI_1200 + HOUR)
    booking = (await book(client, "deleted", slot)).json()
    response = await client.delete(f"/_emulator/events/{booking['calendar_event_id']}")
    assert [b["status"] for b in response.json()["bookings"]] == ["cancelled"]
    assert (await bookings(client))[0]["cancel_reason"] == "calendar event deleted"
    assert slot in await timeslots(client, "deleted")


async def test_posted_v2_notifications_update_bookings(client: httpx.AsyncClient) -> None:
    await make_page(client, "hooked")
    slots = await timeslots(client, "hooked")
    first = (await book(client, "hooked", at(slots, FRI_1200 + HOUR))).json()
    second = (await book(client, "hooked", at(slots, FRI_1200 + 2 * HOUR))).json()
    account = first["account_id"]
    when = {"object": "timespan", "start_time": FRI_1200 + 4 * HOUR, "end_time": FRI_1200 + 4 * HOUR + 1800}
    moved = await client.post("/webhook", json=delta("event.updated", first["calendar_event_id"], account,
                                                     {"when": when}))
    assert moved.status_code == 200 and moved.json() == {"success": True}
    deleted = await client.post("/webhook", json=delta("event.deleted", second["calendar_event_id"], account))
    assert deleted.status_code == 200
    by_id = {b["id"]: b for b in await bookings(client)}
    assert by_id[first["id"]]["start_time"] == FRI_1200 + 4 * HOUR
    assert by_id[second["id"]]["status"] == "cancelled"
    # unknown events, other objects and other triggers change nothing
    for body in (delta("event.updated", "no-such-event", account),
                 delta("message.created", first["calendar_event_id"], account),
                 {"deltas": [{"type": "event.deleted", "object_data": {"id": first["calendar_event_id"],
                                                                        "object": "calendar"}}]}):
        assert (await client.post("/webhook", json=body)).status_code == 200
    assert {b["id"]: b for b in await bookings(client)} == by_id


@pytest.mark.parametrize("body", [{}, {"deltas": "x"}, {"deltas": [{"type": "event.updated"}]},
                                  {"deltas": [{"type": "event.updated", "object_data": {"id": "e", "attributes": {
                                      "when": {"start_time": 10, "end_time": 5}}}}]}])
async def test_malformed_notifications_are_refused(client: httpx.AsyncClient, body: dict[str, Any]) -> None:
    response = await client.post("/webhook", json=body)
    assert response.status_code == 400 and set(response.json()) == {"message", "type"}


async def test_webhook_endpoint_answers_the_v2_challenge(client: httpx.AsyncClient) -> None:
    response = await client.get("/webhook", params={"challenge": "abc123"})
    assert (response.status_code, response.text) == (200, "abc123")
    assert (await client.get("/webhook")).status_code == 400
