"""The official SDK's booking calls (nylas 5.14.1) against the emulator served over real HTTP."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
import pytest
from nylas.client.errors import NylasApiError
from nylas.client.scheduler_models import SchedulerBookingConfirmation, SchedulerBookingRequest, SchedulerTimeSlot

from provisioner.emulator import account_id_for
from tests.integration.conftest import sdk_scheduler
from tests.integration.test_emulator_booking import CONFIG, FRI_1200, HOST_A, HOUR, config_with

SLUG = "sdk-booking"


@pytest.fixture
def sched(emu_served: str) -> Any:
    return sdk_scheduler(emu_served, HOST_A)


def make_page(sched: Any, config: dict[str, Any]) -> Any:
    page = sched.create()
    page.access_tokens = [HOST_A]
    page.slug = SLUG
    page.name = "SDK booking"
    page.config = config
    page.save()
    return page


def booking_request(sched: Any, slot: SchedulerTimeSlot, **fields: Any) -> SchedulerBookingRequest:
    request = SchedulerBookingRequest.create(sched.api, name="Ada Booker", email="ada@example.com",
                                             timezone="Europe/Paris", locale="en",
                                             additional_values={"food": "tea"}, **fields)
    request.slot = slot
    return request


def test_sdk_slots_book_and_cancel(sched: Any, emu_served: str) -> None:
    page = make_page(sched, CONFIG)
    assert [c["id"] for c in page.get_available_calendars()] == [account_id_for(HOST_A)]
    assert sched.get_page_slug(SLUG).id == page.id

    slots = sched.get_available_time_slots(SLUG)
    assert all(isinstance(s, SchedulerTimeSlot) for s in slots)
    first = slots[0]
    assert first.account_id == account_id_for(HOST_A) and first.emails
    assert first.start == datetime.utcfromtimestamp(FRI_1200)  # the SDK parses unix seconds

    confirmation = sched.book_time_slot(SLUG, booking_request(sched, first))  # additional_emails left out
    assert isinstance(confirmation, SchedulerBookingConfirmation)
    assert confirmation.is_confirmed is True and confirmation.recipient_name == "Ada Booker"
    assert confirmation.start_time == first.start and confirmation.additional_field_values == {"food": "tea"}
    assert first.start not in [s.start for s in sched.get_available_time_slots(SLUG)]

    with pytest.raises(NylasApiError) as taken:
        sched.book_time_slot(SLUG, booking_request(sched, first))
    assert taken.value.response.status_code == 400

    assert sched.cancel_booking(SLUG, confirmation.edit_hash, "no longer needed") == {"success": True}
    assert first.start in [s.start for s in sched.get_available_time_slots(SLUG)]
    bookings = httpx.get(f"{emu_served}/_emulator/bookings").json()
    assert [(b["status"], b["cancel_reason"]) for b in bookings] == [("cancelled", "no longer needed")]


def test_sdk_reschedule_and_confirm(sched: Any) -> None:
    make_page(sched, config_with(confirmation_method="manual"))
    slots = {s.start: s for s in sched.get_available_time_slots(SLUG)}
    one, two = (slots[datetime.utcfromtimestamp(FRI_1200 + h * HOUR)] for h in (1, 2))
    pending = sched.book_time_slot(SLUG, booking_request(sched, one))
    assert pending.is_confirmed is False
    moved = sched.book_time_slot(SLUG, booking_request(sched, two, replaces_booking_hash=pending.edit_hash))
    assert moved.start_time == two.start and moved.edit_hash != pending.edit_hash
    confirmed = sched.confirm_booking(SLUG, moved.edit_hash)
    assert isinstance(confirmed, SchedulerBookingConfirmation) and confirmed.is_confirmed is True
    with pytest.raises(NylasApiError) as cancelled:
        sched.confirm_booking(SLUG, pending.edit_hash)  # replaced, so cancelled
    assert cancelled.value.response.status_code == 400
    starts = [s.start for s in sched.get_available_time_slots(SLUG)]
    assert one.start in starts and two.start not in starts
