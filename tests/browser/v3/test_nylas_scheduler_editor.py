"""Nylas's own configuration editor, ``<nylas-scheduler-editor>`` from ``@nylas/web-elements``, against
the served v3 emulator in headless Chromium, without Nylas's hosted sign-in: the host page gives it
a ``nylasApiRequest`` of its own (Nylas's "custom authentication"; see editor.html). It opens a
configuration created through the v3 API, an end user changes the title and the duration and saves,
and the emulator holds the change: the API returns it and the booking side offers 45-minute slots.
An id the grant does not have makes the editor fall back to the grant's list, read from the emulator.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from tests.browser.v3.conftest import API_KEY, GRANT, configuration, screenshot
from tests.browser.v3.test_nylas_scheduling import MON_0900, create

TITLE = "nylas-event-title [part~='net__title']"
DURATION = "nylas-event-duration input"
pytestmark = pytest.mark.v3_contract_exempt(
    "Nylas's editor lists calendars (a [choice]), preflights, and saves fields the spec does not list")


def open_editor(page: Any, pages_url: str, emulator_url: str, configuration_id: str) -> None:
    query = {"api": emulator_url, "grant": GRANT, "key": API_KEY, "email": "alice@example.com", "name": "Alice",
             "configuration": configuration_id}
    with page.expect_response(lambda r: r.url.split("?")[0].endswith("/calendars")) as calendars, \
            page.expect_response(lambda r: r.url.endswith(f"/scheduling/configurations/{configuration_id}")) as got:
        page.goto(f"{pages_url}/editor.html?{urlencode(query)}")
    assert calendars.value.status == 200, calendars.value.text()
    assert got.value.status == 200, got.value.text()


def test_the_editor_saves_an_end_users_changes_into_the_emulator(page: Any, pages_url: str, emulator_url: str,
                                                                 api: httpx.Client) -> None:
    made = create(api, configuration(slug="edited", name="Intro call with Alice"))
    open_editor(page, pages_url, emulator_url, made["id"])
    title = page.locator(TITLE)
    title.wait_for()
    assert title.inner_text().strip() == "Intro call"
    assert page.locator(DURATION).input_value() == "30"
    screenshot(page, "v3-nylas-scheduler-editor.png")

    title.fill("Discovery call")
    page.locator(DURATION).fill("45")
    with page.expect_response(lambda r: r.request.method == "PUT") as saved:
        page.get_by_role("button", name="Save changes").click()
    assert saved.value.status == 200, saved.value.text()

    live = api.get(f"/v3/grants/{GRANT}/scheduling/configurations/{made['id']}").json()["data"]
    assert live["event_booking"]["title"] == "Discovery call"
    assert live["availability"]["duration_minutes"] == 45
    assert (live["slug"], live["name"]) == ("edited", "Intro call with Alice")  # untouched fields kept
    offered = api.get("/v3/scheduling/availability", params={
        "configuration_id": made["id"], "start_time": MON_0900, "end_time": MON_0900 + 8 * 3600}).json()["data"]
    assert {s["end_time"] - s["start_time"] for s in offered["time_slots"]} == {45 * 60}


def test_an_unknown_configuration_opens_the_grants_list_instead(page: Any, pages_url: str, emulator_url: str,
                                                                api: httpx.Client) -> None:
    create(api, configuration(slug="listed", event_booking={"title": "Listed call"}))
    missing = "00000000-0000-4000-8000-000000000000"
    query = {"api": emulator_url, "grant": GRANT, "key": API_KEY, "email": "alice@example.com",
             "configuration": missing}
    with page.expect_response(lambda r: r.url.endswith(f"/scheduling/configurations/{missing}")) as got, \
            page.expect_response(lambda r: r.url.endswith("/scheduling/configurations?limit=50")) as listed:
        page.goto(f"{pages_url}/editor.html?{urlencode(query)}")
    assert got.value.status == 404
    assert listed.value.status == 200
    page.locator("nylas-list-configurations").get_by_text("Listed call").wait_for()
    assert page.locator(TITLE).count() == 0
