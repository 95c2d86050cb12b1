"""Endpoints 6-12 of the emulator through the in-process transport: shapes, bookings, errors."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from provisioner.emulator import Emulator, account_id_for, primary_calendar_id_for

pytestmark = pytest.mark.anyio

HOST_A = "token-booking-host-a-0123"
HOST_B = "token-booking-host-b-0123"
NOW = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)  # a Friday (the conftest clock)
FRI_1200 = int(NOW.timestamp())
HOUR = 3600

CONFIG: dict[str, Any] = {
    "timezone": "UTC",
    "event": {"title": "Coffee", "duration": 30, "location": "Café"},
    "booking": {
        "opening_hours": [{"days": ["M", "T", "W", "R", "F"], "start": "09:00", "end": "17:00"}],
        "available_days_in_future": 7,
        "additional_fields": [
            {"name": "food", "label": "Food", "type": "dropdown", "required": True,
             "dropdown_options": ["tea", "cake"]},
            {"name": "team", "label": "Team size", "type": "number"},
        ],
    },
}
VALUES = {"food": "cake"}


def config_with(**booking: Any) -> dict[str, Any]:
    out = copy.deepcopy(CONFIG)
    out["booking"].update(booking)
    return out


async def make_page(client: httpx.AsyncClient, slug: str, config: dict[str, Any] | None = None,
                    tokens: tuple[str, ...] = (HOST_A,)) -> dict[str, Any]:
    body = {"access_tokens": list(tokens), "slug": slug, "name": slug, "config": config or CONFIG}
    response = await client.post("/manage/pages", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def timeslots(client: httpx.AsyncClient, slug: str) -> list[dict[str, Any]]:
    response = await client.get(f"/schedule/{slug}/timeslots")
    assert response.status_code == 200, response.text
    return response.json()


def request_for(slot: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"slot": slot, "name": "Ada Booker", "email": "ada@example.com", "timezone": "Europe/Paris",
            "locale": "en", "additional_values": dict(VALUES), "additional_emails": [], **extra}


async def book(client: httpx.AsyncClient, slug: str, slot: dict[str, Any], **extra: Any) -> httpx.Response:
    return await client.post(f"/schedule/{slug}/timeslots", json=request_for(slot, **extra))


def at(slots: list[dict[str, Any]], start: int) -> dict[str, Any]:
    return next(s for s in slots if s["start"] == start)


def assert_error(response: httpx.Response, status: int, *hidden: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"message", "type"}
    for secret in hidden:
        assert secret not in response.text
    return str(body["message"])


# --- endpoints 6 and 7 ---------------------------------------------------------------------------


async def test_calendars_of_a_page_one_entry_per_account(emu_client: httpx.AsyncClient) -> None:
    page = await make_page(emu_client, "cals", tokens=(HOST_A, HOST_B))
    response = await emu_client.get(f"/manage/pages/{page['id']}/calendars",
                                     headers={"Authorization": f"Bearer {HOST_B}"})
    assert response.status_code == 200
    accounts = response.json()
    assert [a["id"] for a in accounts] == [account_id_for(HOST_A), account_id_for(HOST_B)]
    first = accounts[0]
    assert set(first) == {"id", "name", "email", "calendars"}
    assert first["email"] == page["access_token_infos"][0]["account_email"]
    assert first["calendars"] == [{"id": primary_calendar_id_for(first["id"]), "name": "Calendar",
                                   "read_only": False}]
    assert_error(await emu_client.get(f"/manage/pages/{page['id']}/calendars"), 401)
    assert_error(await emu_client.get("/manage/pages/999/calendars", headers={"Authorization": f"Bearer {HOST_A}"}),
                 404)


async def test_upload_image_answers_where_to_put_it(emu_client: httpx.AsyncClient) -> None:
    page = await make_page(emu_client, "img")
    url, auth = f"/manage/pages/{page['id']}/upload-image", {"Authorization": f"Bearer {page['edit_token']}"}
    response = await emu_client.put(url, headers=auth, json={"contentType": "image/png", "objectName": "logo.png"})
    assert response.status_code == 200
    answer = response.json()
    assert set(answer) == {"filename", "originalFilename", "publicUrl", "signedUrl"}
    assert answer["originalFilename"] == "logo.png" and answer["filename"].endswith("-logo.png")
    assert answer["publicUrl"].endswith(answer["filename"]) and answer["signedUrl"].startswith(answer["publicUrl"])
    message = assert_error(await emu_client.put(url, headers=auth, json={"contentType": "text/plain"}), 400)
    assert "contentType" in message and "objectName" in message
    assert_error(await emu_client.put(url, headers=auth, json={"contentType": "image/png", "objectName": "a",
                                                               "extra": 1}), 400)
    assert_error(await emu_client.put(url, json={"contentType": "image/png", "objectName": "a"}), 401)


# --- endpoints 8 and 9 ---------------------------------------------------------------------------


async def test_public_info_has_no_edit_token_nor_webhook_urls(emu_client: httpx.AsyncClient) -> None:
    config = copy.deepcopy(CONFIG) | {"reminders": [{"delivery_method": "webhook", "delivery_recipient": "owner",
                                                     "time_before_event": 10,
                                                     "webhook_url": "http://127.0.0.1:9/hook"}]}
    page = await make_page(emu_client, "public", config)
    response = await emu_client.get("/schedule/public/info")
    assert response.status_code == 200
    info = response.json()
    assert "edit_token" not in info and page["edit_token"] not in response.text
    assert "127.0.0.1" not in response.text
    assert (info["id"], info["slug"], info["config"]["event"]["title"]) == (page["id"], "public", "Coffee")
    assert_error(await emu_client.get("/schedule/nope/info"), 404)
    assert_error(await emu_client.get("/schedule/nope/timeslots"), 404)


async def test_timeslots_shape_and_window(emu_client: httpx.AsyncClient) -> None:
    await make_page(emu_client, "slots")
    slots = await timeslots(emu_client, "slots")
    account = account_id_for(HOST_A)
    assert slots[0] == {"account_id": account, "calendar_id": primary_calendar_id_for(account),
                        "host_name": slots[0]["host_name"], "emails": slots[0]["emails"],
                        "start": FRI_1200, "end": FRI_1200 + 1800}
    assert isinstance(slots[0]["host_name"], str) and slots[0]["emails"] == [slots[0]["emails"][0]]
    friday = [s for s in slots if s["start"] < FRI_1200 + 5 * HOUR]
    assert len(friday) == 10  # 12:00 .. 16:30
    assert all(s["end"] - s["start"] == 1800 for s in slots)
    assert max(s["end"] for s in slots) <= FRI_1200 + 7 * 24 * HOUR


async def test_busy_blocks_and_other_calendars_remove_slots(emu_client: httpx.AsyncClient) -> None:
    account = account_id_for(HOST_A)
    await make_page(emu_client, "seed")  # the account exists once a page used its token
    extra = (await emu_client.post(f"/_emulator/accounts/{account}/calendars", json={"name": "Work"})).json()
    config = copy.deepcopy(CONFIG) | {"calendar_ids": {account: {"availability": [extra["id"]],
                                                                 "booking": primary_calendar_id_for(account)}}}
    await make_page(emu_client, "busy", config)
    blocked = await emu_client.post(f"/_emulator/accounts/{account}/events",
                                    json={"calendar_id": extra["id"], "start": FRI_1200 + HOUR,
                                          "end": FRI_1200 + 2 * HOUR})
    assert blocked.status_code == 201
    await emu_client.post(f"/_emulator/accounts/{account}/events",
                          json={"start": "2024-03-01T15:00:00Z", "end": "2024-03-01T15:30:00Z"})
    starts = {s["start"] for s in await timeslots(emu_client, "busy")}
    for hidden in (FRI_1200 + HOUR, FRI_1200 + HOUR + 1800, FRI_1200 + 3 * HOUR):
        assert hidden not in starts
    assert {FRI_1200, FRI_1200 + 2 * HOUR, FRI_1200 + 3 * HOUR + 1800} <= starts


# --- endpoint 10 ---------------------------------------------------------------------------------


async def test_booking_confirmation_shape_and_the_slot_leaves(emu_client: httpx.AsyncClient) -> None:
    await make_page(emu_client, "book")
    slot = at(await timeslots(emu_client, "book"), FRI_1200 + HOUR)
    response = await book(emu_client, "book", slot, additional_emails=["guest@example.com"])
    assert response.status_code == 200, response.text
    confirmation = response.json()
    assert set(confirmation) == {
        "id", "account_id", "calendar_id", "calendar_event_id", "edit_hash", "is_confirmed", "location",
        "title", "recipient_email", "recipient_name", "recipient_locale", "recipient_tz",
        "additional_field_values", "start_time", "end_time"}
    assert confirmation["is_confirmed"] is True
    assert (confirmation["start_time"], confirmation["end_time"]) == (slot["start"], slot["end"])
    assert (confirmation["account_id"], confirmation["calendar_id"]) == (slot["account_id"], slot["calendar_id"])
    assert (confirmation["title"], confirmation["location"]) == ("Coffee", "Café")
    assert confirmation["recipient_tz"] == "Europe/Paris" and confirmation["additional_field_values"] == VALUES
    assert isinstance(confirmation["id"], int) and len(confirmation["edit_hash"]) >= 16
    assert slot["start"] not in {s["start"] for s in await timeslots(emu_client, "book")}
    # the booking is an event on the host's booking calendar
    events = (await emu_client.get(f"/_emulator/accounts/{slot['account_id']}/events")).json()
    assert [(e["id"], e["calendar_id"], e["start"]) for e in events] == [
        (confirmation["calendar_event_id"], slot["calendar_id"], slot["start"])]
    # and the same slot cannot be booked again
    assert "not available" in assert_error(await book(emu_client, "book", slot), 400)


async def test_template_title_is_filled(emu_client: httpx.AsyncClient) -> None:
    config = copy.deepcopy(CONFIG)
    config["event"]["template_title"] = "$[duration] min with $[invitee]"
    await make_page(emu_client, "titled", config)
    slot = (await timeslots(emu_client, "titled"))[0]
    assert (await book(emu_client, "titled", slot)).json()["title"] == "30 min with Ada Booker"


@pytest.mark.parametrize(("change", "field"), [
    ({"additional_values": None}, "additional_values"),
    ({"additional_emails": None}, "additional_emails"),
    ({"email": "not-an-address"}, "email"),
    ({"timezone": "Mars/Base"}, "timezone"),
    ({"surprise": 1}, "surprise"),
    ({"name": "  "}, "name"),
    ({"additional_values": {}}, "additional_values.food"),
    ({"additional_values": {"food": "soup"}}, "additional_values.food"),
    ({"additional_values": {"food": "tea", "team": "three"}}, "additional_values.team"),
    ({"slot": {"start": 10**15}}, "slot.start"),
    ({"slot": {"start": -1}}, "slot.start"),
    ({"slot": {"end": 253402300800}}, "slot.end"),
    ({"additional_emails": ["nope"]}, "additional_emails"),
    ({"locale": ""}, "locale"),
])
async def test_booking_body_is_validated_strictly(emu_client: httpx.AsyncClient, change: dict[str, Any],
                                                  field: str) -> None:
    await make_page(emu_client, "strict")
    body = request_for((await timeslots(emu_client, "strict"))[0])
    for key, value in change.items():
        if value is None:
            body.pop(key)
        elif key == "slot":
            body[key] = body[key] | value
        else:
            body[key] = value
    message = assert_error(await emu_client.post("/schedule/strict/timeslots", json=body), 400)
    assert field in message
    assert (await emu_client.get("/_emulator/bookings")).json() == []


async def test_values_of_keys_the_page_does_not_define_are_kept(emu_client: httpx.AsyncClient) -> None:
    """Nylas's SDK examples book ``{"important": true}`` on pages without such a field: the API took them."""
    await make_page(emu_client, "extra")
    slot = (await timeslots(emu_client, "extra"))[0]
    answer = await emu_client.post("/schedule/extra/timeslots", json=request_for(
        slot, additional_values={"food": "tea", "important": True, "note": ["a", 1]}))
    assert answer.status_code == 200, answer.text
    assert answer.json()["additional_field_values"] == {"food": "tea", "important": True, "note": ["a", 1]}


async def test_only_offered_slots_can_be_booked(emu_client: httpx.AsyncClient) -> None:
    await make_page(emu_client, "offered")
    slot = (await timeslots(emu_client, "offered"))[0]
    for bad in ({"start": slot["start"] + 600, "end": slot["end"] + 600},  # off the grid
                {"start": FRI_1200 - HOUR, "end": FRI_1200 - HOUR + 1800},  # in the past
                {"end": slot["end"] + 1800},  # wrong length
                {"account_id": "someone-else"}, {"calendar_id": "not-the-booking-calendar"}):
        assert_error(await book(emu_client, "offered", slot | bad), 400)
    assert_error(await book(emu_client, "offered", slot | {"start": "soon"}), 400)
    assert_error(await book(emu_client, "nope", slot), 404)
    assert_error(await emu_client.post("/schedule/offered/timeslots", content=b"[1]"), 400)


async def test_group_slot_stays_open_until_full(emu_client: httpx.AsyncClient) -> None:
    config = copy.deepcopy(CONFIG)
    config["event"]["capacity"] = 2
    await make_page(emu_client, "group", config)
    slot = (await timeslots(emu_client, "group"))[0]
    assert (await book(emu_client, "group", slot)).status_code == 200
    assert slot["start"] in {s["start"] for s in await timeslots(emu_client, "group")}
    assert (await book(emu_client, "group", slot, email="bo@example.com")).status_code == 200
    assert slot["start"] not in {s["start"] for s in await timeslots(emu_client, "group")}
    assert_error(await book(emu_client, "group", slot, email="cy@example.com"), 400)


async def test_round_robin_fairness_alternates_hosts(emu_client: httpx.AsyncClient) -> None:
    config = config_with(scheduling_method="round-robin-maximize-fairness")
    await make_page(emu_client, "rr", config, tokens=(HOST_A, HOST_B))
    hosts = []
    for _ in range(4):
        slot = (await timeslots(emu_client, "rr"))[0]
        assert len({s["account_id"] for s in await timeslots(emu_client, "rr")}) == 1  # only the host in turn
        hosts.append((await book(emu_client, "rr", slot)).json()["account_id"])
    assert hosts.count(account_id_for(HOST_A)) == hosts.count(account_id_for(HOST_B)) == 2


async def test_expired_page_offers_and_books_nothing(emu_client: httpx.AsyncClient) -> None:
    config = copy.deepcopy(CONFIG) | {"expire_after": {"uses": 1}}
    await make_page(emu_client, "once", config)
    first, second = (await timeslots(emu_client, "once"))[:2]
    assert (await book(emu_client, "once", first)).status_code == 200
    assert await timeslots(emu_client, "once") == []
    assert_error(await book(emu_client, "once", second), 400)


# --- rescheduling, endpoints 11 and 12 -----------------------------------------------------------


async def test_reschedule_replaces_the_booking(emu_client: httpx.AsyncClient) -> None:
    await make_page(emu_client, "move")
    slots = await timeslots(emu_client, "move")
    old = (await book(emu_client, "move", at(slots, FRI_1200 + HOUR))).json()
    new_slot = at(await timeslots(emu_client, "move"), FRI_1200 + 2 * HOUR)
    response = await book(emu_client, "move", new_slot, replaces_booking_hash=old["edit_hash"])
    assert response.status_code == 200, response.text
    new = response.json()
    assert new["id"] != old["id"] and new["edit_hash"] != old["edit_hash"]
    starts = {s["start"] for s in await timeslots(emu_client, "move")}
    assert FRI_1200 + HOUR in starts and FRI_1200 + 2 * HOUR not in starts
    listed = {b["id"]: b for b in (await emu_client.get("/_emulator/bookings?slug=move")).json()}
    assert (listed[old["id"]]["status"], listed[old["id"]]["replaced_by"]) == ("cancelled", new["id"])
    assert listed[new["id"]]["status"] == "confirmed"
    events = (await emu_client.get(f"/_emulator/accounts/{new['account_id']}/events")).json()
    assert [e["id"] for e in events] == [new["calendar_event_id"]]
    # the replaced booking cannot be replaced again
    again = await book(emu_client, "move", at(slots, FRI_1200 + 3 * HOUR), replaces_booking_hash=old["edit_hash"])
    assert "replaces_booking_hash" in assert_error(again, 400, old["edit_hash"])


async def test_reschedule_onto_an_overlapping_time_of_its_own_slot(emu_client: httpx.AsyncClient) -> None:
    await make_page(emu_client, "shift", config_with(interval_minutes=15))
    old = (await book(emu_client, "shift", at(await timeslots(emu_client, "shift"), FRI_1200 + HOUR))).json()
    # 13:15 overlaps the booking being replaced: on offer to its own reschedule only
    assert FRI_1200 + HOUR + 900 not in {s["start"] for s in await timeslots(emu_client, "shift")}
    slot = {**old, "start": FRI_1200 + HOUR + 900, "end": FRI_1200 + HOUR + 2700}
    slot = {k: slot[k] for k in ("account_id", "calendar_id", "start", "end")}
    response = await book(emu_client, "shift", slot, replaces_booking_hash=old["edit_hash"])
    assert response.status_code == 200, response.text


async def test_cancel_frees_the_slot_and_is_repeatable(emu_client: httpx.AsyncClient) -> None:
    await make_page(emu_client, "cancel")
    slot = (await timeslots(emu_client, "cancel"))[0]
    booking = (await book(emu_client, "cancel", slot)).json()
    url = f"/schedule/cancel/{booking['edit_hash']}/cancel"
    assert (await emu_client.post(url, json={"reason": "ill"})).json() == {"success": True}
    assert slot in await timeslots(emu_client, "cancel")
    assert (await emu_client.post(url, json={"reason": "again"})).json() == {"success": True}
    listed = (await emu_client.get("/_emulator/bookings")).json()
    assert (listed[0]["status"], listed[0]["cancel_reason"]) == ("cancelled", "ill")
    assert (await emu_client.get(f"/_emulator/accounts/{booking['account_id']}/events")).json() == []
    assert_error(await emu_client.post("/schedule/cancel/not-a-hash/cancel", json={"reason": "x"}), 404)
    assert_error(await emu_client.post(url, json={"why": "x"}), 400, booking["edit_hash"])
    assert_error(await emu_client.post(f"/schedule/nope/{booking['edit_hash']}/cancel", json={}), 404)


async def test_cancel_honours_min_cancellation_notice(emu_client: httpx.AsyncClient) -> None:
    await make_page(emu_client, "notice", config_with(min_cancellation_notice=120))
    slots = await timeslots(emu_client, "notice")
    soon = (await book(emu_client, "notice", at(slots, FRI_1200 + HOUR))).json()
    later = (await book(emu_client, "notice", at(slots, FRI_1200 + 2 * HOUR))).json()
    message = assert_error(await emu_client.post(f"/schedule/notice/{soon['edit_hash']}/cancel",
                                                 json={"reason": "x"}), 400, soon["edit_hash"])
    assert "120 minutes" in message
    assert_error(await book(emu_client, "notice", at(slots, FRI_1200 + 3 * HOUR),
                            replaces_booking_hash=soon["edit_hash"]), 400)
    ok = await emu_client.post(f"/schedule/notice/{later['edit_hash']}/cancel", json={"reason": "x"})
    assert ok.json() == {"success": True}


async def test_manual_confirmation_holds_then_confirms(emu_client: httpx.AsyncClient) -> None:
    await make_page(emu_client, "manual", config_with(confirmation_method="manual"))
    slot = (await timeslots(emu_client, "manual"))[0]
    pending = (await book(emu_client, "manual", slot)).json()
    assert pending["is_confirmed"] is False
    assert slot not in await timeslots(emu_client, "manual")  # a pending booking holds its slot
    url = f"/schedule/manual/{pending['edit_hash']}/confirm"
    confirmed = await emu_client.post(url, json={})
    assert confirmed.status_code == 200
    assert confirmed.json() == pending | {"is_confirmed": True}
    assert (await emu_client.post(url, json={})).json()["is_confirmed"] is True
    assert_error(await emu_client.post(url, json={"extra": True}), 400)
    assert_error(await emu_client.post("/schedule/manual/unknown/confirm", json={}), 404)
    await emu_client.post(f"/schedule/manual/{pending['edit_hash']}/cancel", json={"reason": "no"})
    assert "cancelled" in assert_error(await emu_client.post(url, json={}), 400, pending["edit_hash"])


async def test_bookings_survive_a_restart(tmp_path: Any) -> None:
    db = tmp_path / "emu.db"
    first = Emulator(db, clock=lambda: NOW)
    async with httpx.AsyncClient(transport=first.transport(), base_url="http://e") as client:
        await make_page(client, "kept")
        booking = (await book(client, "kept", (await timeslots(client, "kept"))[0])).json()
    first.close()
    second = Emulator(db, clock=lambda: NOW)
    async with httpx.AsyncClient(transport=second.transport(), base_url="http://e") as client:
        assert booking["start_time"] not in {s["start"] for s in await timeslots(client, "kept")}
        cancel = await client.post(f"/schedule/kept/{booking['edit_hash']}/cancel", json={"reason": "x"})
        assert cancel.json() == {"success": True}
    second.close()
