"""The emulator's hosted booking page (``/_emulator/book/<slug>``) in headless Chromium: the page's name
and appearance, the time-zone choice, slots from the slot engine, the form with the page's additional
fields, booking through the public endpoint, the thank-you."""

from __future__ import annotations

from typing import Any

import httpx

from .conftest import create_page

TOKEN = "token-booking-page-0123"
NOON = 1709294400  # Friday 2024-03-01 12:00 UTC, the served emulator's clock


def config(url: str, **appearance: Any) -> dict[str, Any]:
    return {
        "timezone": "Europe/Paris",
        "appearance": {"color": "#e8590c", "company_name": "Demo Co.", "logo": f"{url}/_emulator/web/demo-logo.svg",
                       "submit_text": "Book the call", "thank_you_text": "See you soon!",
                       "thank_you_text_secondary": "A calendar invitation is on its way.", **appearance},
        "event": {"title": "Intro call", "duration": 30, "location": "Video call"},
        "booking": {
            "opening_hours": [{"days": ["M", "T", "W", "R", "F"], "start": "09:00", "end": "17:00"}],
            "available_days_in_future": 7,
            "additional_fields": [
                {"name": "topic", "label": "Topic", "type": "dropdown", "required": True, "order": 2,
                 "dropdown_options": ["Pricing", "Support"]},
                {"name": "seats", "label": "Seats", "type": "number", "order": 1},
                {"name": "extras", "label": "Extras", "type": "multi-select list", "order": 3,
                 "multi_select_options": ["Demo", "Q&A"]},
                {"name": "newsletter", "label": "Newsletter", "type": "checkbox", "order": 4},
            ],
        },
    }


def test_a_guest_books_with_the_pages_appearance_fields_and_time_zone(web: str, tab: Any) -> None:
    create_page(web, TOKEN, slug="intro", name="Intro with Demo Co.",
                config=config(web, show_timezone_options=True))
    tab.goto(f"{web}/_emulator/book/intro")
    tab.wait_for_selector(".slot")
    assert tab.inner_text("#page-name") == "Intro with Demo Co."
    assert tab.text_content("#company") == "Demo Co."
    assert tab.inner_text("#duration") == "30 min"
    assert tab.eval_on_selector("#logo", "img => img.complete && img.naturalWidth > 0")
    assert tab.eval_on_selector("#submit", "b => getComputedStyle(b).backgroundColor") == "rgb(232, 89, 12)"
    assert tab.inner_text("#submit") == "Book the call"

    # Time zone options on: the guest's own zone (the browser's, UTC here) first, any other on offer.
    assert tab.input_value("#timezone") == "UTC"
    first = tab.locator(".slot").first
    assert first.get_attribute("data-start") == str(NOON) and first.inner_text() == "12:00"
    tab.select_option("#timezone", "Asia/Tokyo")
    assert tab.locator(".slot").first.inner_text() == "21:00"
    assert tab.locator(".day h3").first.inner_text() == "Friday, 1 March 2024"

    tab.locator(".slot").first.click()
    assert "21:00 – 21:30 (30 min, Asia/Tokyo)" in tab.inner_text("#chosen")
    labels = tab.locator("#fields label").all_inner_texts()
    assert labels[:3] == ["Your name", "Your e-mail", "Other guests (e-mails, comma-separated)"]
    assert [t for t in labels if t.strip() in {"Seats", "Topic", "Extras", "Newsletter"}] == [
        "Seats", "Topic", "Extras", "Newsletter"]  # by order
    tab.fill("#guest-name", "Ada Lovelace")
    tab.fill("#guest-email", "ada@example.com")
    tab.click("#submit")  # the required topic is missing: the API's message is shown
    tab.wait_for_selector("#error:not([hidden])")
    assert "additional_values.topic: required" in tab.inner_text("#error")

    tab.select_option("#field-topic", "Pricing")
    tab.fill("#field-seats", "3")
    tab.check("#field-extras input[value='Q&A']")
    tab.fill("#guest-others", "bob@example.com")
    tab.click("#submit")
    tab.wait_for_selector("#thanks:not([hidden])")
    assert tab.inner_text("#thank-you") == "See you soon!"
    assert tab.inner_text("#thank-you-secondary") == "A calendar invitation is on its way."
    assert "Intro call: Friday, 1 March 2024, 21:00 – 21:30 (30 min, Asia/Tokyo)" in tab.inner_text("#booked")
    assert tab.locator("#pending").is_hidden()

    (booking,) = httpx.get(f"{web}/_emulator/bookings", params={"slug": "intro"}).json()
    assert (booking["start_time"], booking["end_time"]) == (NOON, NOON + 1800)
    assert booking["recipient_name"] == "Ada Lovelace" and booking["recipient_tz"] == "Asia/Tokyo"
    assert booking["additional_field_values"] == {"topic": "Pricing", "seats": 3, "extras": ["Q&A"]}
    assert booking["additional_emails"] == ["bob@example.com"]

    tab.reload()
    tab.wait_for_selector(".slot")
    assert tab.locator(f".slot[data-start='{NOON}']").count() == 0  # booked: no longer on offer


def test_without_time_zone_options_times_are_in_the_pages_zone(web: str, tab: Any) -> None:
    page = config(web)
    page["booking"].update(name_field_hidden=True, additional_guests_hidden=True, additional_fields=[],
                           confirmation_method="manual")
    create_page(web, "token-booking-page-fixed-0123", slug="fixed", config=page)  # another host: free at noon
    tab.goto(f"{web}/_emulator/book/fixed")
    tab.wait_for_selector(".slot")
    assert tab.locator("#timezone").is_hidden() and tab.inner_text("#timezone-fixed") == "Europe/Paris"
    assert tab.locator(".slot").first.inner_text() == "13:00"  # noon UTC
    assert tab.inner_text("#page-name") == "Intro call"  # no page name: the event title
    tab.locator(".slot").first.click()
    assert tab.locator("#guest-name").count() == 0 and tab.locator("#guest-others").count() == 0
    tab.fill("#guest-email", "ada@example.com")
    tab.click("#submit")
    tab.wait_for_selector("#thanks:not([hidden])")
    assert tab.locator("#pending").is_visible()  # manual confirmation


def test_an_unknown_slug_says_so(web: str, tab: Any) -> None:
    tab.goto(f"{web}/_emulator/book/no-such-page")
    tab.wait_for_selector("#error:not([hidden])")
    assert tab.inner_text("#page-name") == "Booking page unavailable"
    assert tab.inner_text("#error") == "No page with this slug"


def test_the_web_files_are_served_with_their_types(web: str) -> None:
    for path, kind in (("/_emulator/book/anything", "text/html"), ("/_emulator/editor-demo", "text/html"),
                       ("/_emulator/web/schedule-editor.js", "text/javascript"),
                       ("/_emulator/web/booking.css", "text/css")):
        answer = httpx.get(web + path)
        assert answer.status_code == 200 and answer.headers["content-type"].startswith(kind)
    missing = httpx.get(f"{web}/_emulator/web/../app.py")
    assert missing.status_code == 404
    assert httpx.get(f"{web}/_emulator/web/secrets.txt").json()["type"] == "not_found_error"
