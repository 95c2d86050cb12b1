"""Nylas's own booking component, ``<nylas-scheduling>`` from ``@nylas/web-elements``, against the
served v3 emulator in headless Chromium: it loads a configuration created through the v3 API (public,
by id or by slug, and behind a session), shows its slots, and books one; the booking is then in the
emulator.

Every wait is on DOM state or on an answer of the emulator; the browser's clock and the emulator's
are pinned at the same instant (`NOW`), so the slots shown are known.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from provisioner.apis.nylas_v3 import choices, model
from tests.browser.v3.conftest import GRANT, configuration, screenshot

MON_0900 = int(datetime(2026, 3, 2, 9, 0, tzinfo=UTC).timestamp())
SLOTS_ON_MONDAY = 16  # 09:00 to 16:30, every 30 minutes
TIMESLOTS = "nylas-timeslot-picker button[part~='ntp__timeslot']"
# The component asks ui-settings and sends CORS preflights: choices.EXTENSION_ENDPOINTS, not in the spec.
pytestmark = pytest.mark.v3_contract_exempt("Nylas's booking component calls ui-settings (a [choice]) and preflights")


def create(api: httpx.Client, body: dict[str, Any]) -> dict[str, Any]:
    """Create a configuration as provisioner does: its v3 model's wire form, POSTed with the API key."""
    wire = model.dump(model.validate_configuration(body))
    response = api.post(f"/v3/grants/{GRANT}/scheduling/configurations", json=wire)
    assert response.status_code == 200, response.text
    return response.json()["data"]


def open_page(page: Any, pages_url: str, emulator_url: str, **query: str) -> None:
    """Open the host page and wait until the component has asked for its settings and slots."""
    with page.expect_response(lambda r: "/v3/scheduling/ui-settings" in r.url) as settings, \
            page.expect_response(lambda r: "/v3/scheduling/availability" in r.url) as availability:
        page.goto(f"{pages_url}/scheduling.html?{urlencode({'api': emulator_url, **query})}")
    assert settings.value.status == 200, settings.value.text()
    assert availability.value.status == 200, availability.value.text()


def book_first_slot(page: Any, name: str, email: str) -> dict[str, Any]:
    """Pick the first slot shown, fill the form, book; the booking's answer."""
    page.locator(TIMESLOTS).first.click()
    page.locator("nylas-timeslot-picker button-component[part~='ntp__button-primary'] button").click()
    page.locator("nylas-booking-form input-component#name input").fill(name)
    page.locator("nylas-booking-form input-component#email input").fill(email)
    with page.expect_response(lambda r: r.url.split("?")[0].endswith("/v3/scheduling/bookings")
                              and r.request.method == "POST") as booked:
        page.locator("nylas-booking-form button-component[part~='nbf__button-primary'] button").click()
    assert booked.value.status == 200, booked.value.text()
    page.locator("nylas-booked-event-card").wait_for(state="visible")
    return booked.value.json()["data"]


def bookings_in_emulator(api: httpx.Client, configuration_id: str) -> list[dict[str, Any]]:
    return api.get("/_emulator/v3/bookings", params={"configuration_id": configuration_id}).json()


@pytest.mark.parametrize("named_by", ["configuration", "slug"])
def test_a_public_configuration_shows_its_slots_and_books_one(page: Any, pages_url: str, emulator_url: str,
                                                              api: httpx.Client, named_by: str) -> None:
    made = create(api, configuration(slug="intro-call", name="Intro call with Alice", requires_session_auth=False,
                                     appearance={"company_name": "Example Inc."}))
    query = {"configuration": made["id"]} if named_by == "configuration" else {
        "slug": "intro-call", "client": choices.APPLICATION_ID}
    open_page(page, pages_url, emulator_url, **query)

    slots = page.locator(TIMESLOTS)
    slots.nth(SLOTS_ON_MONDAY - 1).wait_for()
    assert slots.count() == SLOTS_ON_MONDAY
    assert slots.first.inner_text().strip() == "09:00 AM"
    assert slots.last.inner_text().strip() == "04:30 PM"
    screenshot(page, "v3-nylas-scheduling.png")

    booked = book_first_slot(page, "Grace Guest", "grace@example.org")
    assert booked["title"] == "Intro call" and booked["status"] == "booked"
    [stored] = bookings_in_emulator(api, made["id"])
    assert stored["booking_id"] == booked["booking_id"]
    assert (stored["start_time"], stored["end_time"]) == (MON_0900, MON_0900 + 1800)
    assert stored["info"]["guest"] == {"email": "grace@example.org", "name": "Grace Guest"}
    assert stored["status"] == "booked"

    # The booked slot is gone for the next guest.
    slots_after = api.get("/v3/scheduling/availability", params={
        "configuration_id": made["id"], "start_time": MON_0900, "end_time": MON_0900 + 8 * 3600}).json()["data"]
    assert MON_0900 not in [s["start_time"] for s in slots_after["time_slots"]]


def test_a_configuration_behind_a_session_books_with_the_session(page: Any, pages_url: str, emulator_url: str,
                                                                 api: httpx.Client) -> None:
    made = create(api, configuration(slug="private-call", requires_session_auth=True))
    session = api.post("/v3/scheduling/sessions", json={"configuration_id": made["id"], "time_to_live": 10})
    assert session.status_code == 200, session.text
    session_id = session.json()["data"]["session_id"]

    requests: list[Any] = []
    page.on("request", lambda r: requests.append(r) if "/v3/scheduling/" in r.url and r.method != "OPTIONS" else None)
    open_page(page, pages_url, emulator_url, session=session_id)
    page.locator(TIMESLOTS).nth(SLOTS_ON_MONDAY - 1).wait_for()

    booked = book_first_slot(page, "Sam Session", "sam@example.org")
    [stored] = bookings_in_emulator(api, made["id"])
    assert stored["booking_id"] == booked["booking_id"] and stored["start_time"] == MON_0900
    # Every request of the component carried the session, and none named the configuration.
    assert {r.url.split("?")[0].rsplit("/", 1)[-1] for r in requests} == {"ui-settings", "availability", "bookings"}
    assert all(r.headers.get("authorization") == f"Bearer {session_id}" for r in requests)
    assert not any("configuration_id" in r.url for r in requests)


def test_without_the_session_the_private_configuration_shows_no_slots(page: Any, pages_url: str,
                                                                       emulator_url: str, api: httpx.Client) -> None:
    made = create(api, configuration(slug="private-only", requires_session_auth=True))
    with page.expect_response(lambda r: "/v3/scheduling/ui-settings" in r.url) as settings:
        page.goto(f"{pages_url}/scheduling.html?{urlencode({'api': emulator_url, 'configuration': made['id']})}")
    assert settings.value.status == 401
    assert page.locator(TIMESLOTS).count() == 0
    assert bookings_in_emulator(api, made["id"]) == []


def test_the_guest_cancels_from_the_booked_card(page: Any, pages_url: str, emulator_url: str,
                                                api: httpx.Client) -> None:
    made = create(api, configuration(slug="cancel-me"))
    open_page(page, pages_url, emulator_url, configuration=made["id"])
    booked = book_first_slot(page, "Carl Cancel", "carl@example.org")
    page.locator("nylas-booked-event-card button-component[part~='nbec__cancel-cta'] button").click()
    page.locator("nylas-cancel-booking-form textarea-component textarea").fill("Something came up")
    with page.expect_response(lambda r: r.request.method == "DELETE") as cancelled:
        page.locator("nylas-cancel-booking-form button-component[part~='ncbf__button-cta'] button").click()
    assert cancelled.value.status == 200, cancelled.value.text()
    assert cancelled.value.request.post_data_json == {"action": "cancel", "cancellation_reason": "Something came up"}
    [stored] = bookings_in_emulator(api, made["id"])
    assert stored["booking_id"] == booked["booking_id"] and stored["status"] == "cancelled"
    assert stored["info"]["cancellation_reason"] == "Something came up"


def test_the_guest_reschedules_from_the_booked_card(page: Any, pages_url: str, emulator_url: str,
                                                    api: httpx.Client) -> None:
    made = create(api, configuration(slug="move-me"))
    open_page(page, pages_url, emulator_url, configuration=made["id"])
    booked = book_first_slot(page, "Rita Reschedule", "rita@example.org")
    with page.expect_response(lambda r: "/v3/scheduling/availability" in r.url) as again:
        page.locator("nylas-booked-event-card button-component[part~='nbec__reschedule-cta'] button").click()
    assert f"booking_id={booked['booking_id']}" in again.value.url and again.value.status == 200
    page.locator(TIMESLOTS).nth(1).click()  # 09:30
    page.locator("nylas-timeslot-picker button-component[part~='ntp__button-primary'] button").click()
    with page.expect_response(lambda r: r.request.method == "PATCH") as moved:
        page.locator("nylas-booking-form button-component[part~='nbf__button-primary'] button").click()
    assert moved.value.status == 200, moved.value.text()
    [stored] = bookings_in_emulator(api, made["id"])
    assert stored["booking_id"] == booked["booking_id"] and stored["status"] == "booked"
    assert (stored["start_time"], stored["info"]["guest"]["email"]) == (MON_0900 + 1800, "rita@example.org")
