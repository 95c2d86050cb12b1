"""Every Scheduler call of the official Python v2 SDKs, ``nylas==5.14.1`` and ``nylas-legacy==5.15.0``
(imported as ``nylas_legacy``), unchanged but for the base URL, against ``provisioner emulator serve``."""

from __future__ import annotations

import copy
import importlib
from datetime import datetime
from typing import Any

import httpx
import pytest

from tests.emulator_process import NOW

from .conftest import CONFIG

SDKS = ["nylas", "nylas_legacy"]
NOON = datetime.fromisoformat(NOW)  # the SDKs give naive UTC datetimes


def scheduler(package: str, url: str, token: str) -> Any:
    """``api.scheduler`` of `package` pointed at `url`; each access builds a new one, so keep this one."""
    client = importlib.import_module(f"{package}.client")
    sched = client.APIClient(client_id="id", client_secret="secret", access_token=token).scheduler
    sched.api.api_server = url
    return sched


def sdk_error(package: str) -> type[Exception]:
    return importlib.import_module(f"{package}.client.errors").NylasApiError


@pytest.mark.parametrize("package", SDKS)
def test_every_page_call(package: str, sdk_server: str) -> None:
    token = f"token-{package}-pages-0123"
    sched = scheduler(package, sdk_server, token)
    page = sched.create()
    page.access_tokens = [token]
    page.name = "Python SDK"
    page.slug = f"{package.replace('_', '-')}-pages"
    page.config = copy.deepcopy(CONFIG)
    page.save()  # POST
    assert isinstance(page.id, int) and len(page.edit_token) == 32
    assert page.config["booking"]["additional_fields"][0]["order"] == 1.0

    assert [p.id for p in sched.all()] == [page.id]
    fetched = sched.get(page.id)
    assert fetched.slug == page.slug and fetched.created_at == NOON.date()

    fetched.name = "Renamed"
    fetched.config["event"]["duration"] = 45
    fetched.save()  # PUT of the whole object as read, read-only fields included
    assert fetched.name == "Renamed" and sched.get(page.id).config["event"]["duration"] == 45

    (account,) = fetched.get_available_calendars()
    assert account["email"].endswith("@emulator.example.com") and account["calendars"][0].name == "Calendar"
    upload = fetched.upload_image("image/png", "logo.png")
    assert upload["originalFilename"] == "logo.png" and upload["publicUrl"].startswith("https://")

    google, o365 = sched.get_google_availability(), sched.get_office_365_availability()
    assert google == o365 == [{"name": account["name"], "email": account["email"], "busy": []}]

    by_edit_token = scheduler(package, sdk_server, page.edit_token)  # the Schedule Editor's credential
    assert [p.id for p in by_edit_token.all()] == [page.id]
    assert by_edit_token.get(page.id).name == "Renamed"

    sched.delete(page.id)
    with pytest.raises(sdk_error(package)) as gone:
        sched.get(page.id)
    assert gone.value.response.status_code == 404  # type: ignore[attr-defined]
    assert sched.all() == []


@pytest.mark.parametrize("package", SDKS)
def test_every_booking_call(package: str, sdk_server: str) -> None:
    token = f"token-{package}-booking-0123"
    models = importlib.import_module(f"{package}.client.scheduler_models")
    sched = scheduler(package, sdk_server, token)
    page = sched.create()
    page.access_tokens = [token]
    page.slug = f"{package.replace('_', '-')}-booking"
    config = copy.deepcopy(CONFIG)
    config["booking"]["confirmation_method"] = "manual"
    page.config = config
    page.save()

    info = sched.get_page_slug(page.slug)
    assert info.id == page.id and info.config["appearance"]["submit_text"] == "Book it!"
    assert info.edit_token is None  # [choice] the public view has no edit token

    slots = sched.get_available_time_slots(page.slug)
    assert all(isinstance(s, models.SchedulerTimeSlot) for s in slots)
    first = slots[0]
    assert first.start == NOON and (first.end - first.start).total_seconds() == 30 * 60

    request = models.SchedulerBookingRequest.create(
        sched.api, name="John Doe", email="recipient@example.com", timezone="America/New_York", locale="en_US",
        additional_values={"food": "tea", "important": "true"})  # as the SDK examples: a key the page lacks
    request.slot = first
    pending = sched.book_time_slot(page.slug, request)
    assert isinstance(pending, models.SchedulerBookingConfirmation)
    assert pending.is_confirmed is False and pending.start_time == first.start
    assert pending.additional_field_values == {"food": "tea", "important": "true"}

    confirmed = sched.confirm_booking(page.slug, pending.edit_hash)
    assert confirmed.is_confirmed is True and confirmed.id == pending.id
    assert first.start not in [s.start for s in sched.get_available_time_slots(page.slug)]
    assert sched.cancel_booking(page.slug, pending.edit_hash, "Was just a test.") == {"success": True}
    assert first.start in [s.start for s in sched.get_available_time_slots(page.slug)]

    with pytest.raises(sdk_error(package)) as refused:
        sched.confirm_booking(page.slug, pending.edit_hash)  # cancelled: as the Ruby example expects
    assert refused.value.response.status_code == 400  # type: ignore[attr-defined]
    bookings = httpx.get(f"{sdk_server}/_emulator/bookings", params={"slug": page.slug}).json()
    assert [(b["status"], b["cancel_reason"]) for b in bookings] == [("cancelled", "Was just a test.")]
