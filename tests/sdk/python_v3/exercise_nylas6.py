"""The official Python SDK, `nylas` 6.x, driving the v3 emulator; run in its own environment.

    .venv-nylas6/bin/python tests/sdk/python_v3/exercise_nylas6.py BASE_URL GRANT_ID START

Only the SDK's base URL is changed (``Client(api_key, api_uri)``): every Scheduler call is the SDK's
own, unchanged. The API key comes from ``NYLAS_API_KEY``. ``START`` is a bookable slot (Unix seconds;
the next hour is bookable too). The one call outside the SDK reads the booking's ``salt`` from the
emulator's test controls, where a real application reads it from the ``booking.pending`` webhook.

Prints one JSON object: what each call returned, for the test to check (`tests/sdk/test_v3_sdks.py`).
An SDK error ends the script with status 1 and the error on standard error.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.request
from typing import Any

from nylas import Client
from nylas._client_sdk_version import __VERSION__
from nylas.models.errors import NylasApiError

HOUR = 3600


def salt_of(base_url: str, configuration_id: str, booking_id: str) -> str:
    with urllib.request.urlopen(f"{base_url}/_emulator/v3/bookings?configuration_id={configuration_id}") as answer:
        bookings = json.load(answer)
    return str(next(b["salt"] for b in bookings if b["booking_id"] == booking_id))


def exercise(base_url: str, grant: str, start: int) -> dict[str, Any]:
    nylas = Client(os.environ["NYLAS_API_KEY"], base_url)
    configurations, sessions, bookings = (nylas.scheduler.configurations, nylas.scheduler.sessions,
                                          nylas.scheduler.bookings)
    out: dict[str, Any] = {"sdk": __VERSION__}

    created = configurations.create(identifier=grant, request_body={
        "name": "SDK judge", "slug": "sdk-judge-python", "requires_session_auth": True,
        "participants": [{"email": "host@example.com", "name": "Host", "is_organizer": True,
                          "availability": {"calendar_ids": ["primary"]}, "booking": {"calendar_id": "primary"}}],
        "availability": {"duration_minutes": 30},
        "event_booking": {"title": "Python SDK call", "booking_type": "organizer-confirmation"},
    })
    config_id = created.data.id
    out["created"] = {"id": config_id, "request_id": created.request_id, "slug": created.data.slug,
                      "duration": created.data.availability.duration_minutes,
                      "booking_type": created.data.event_booking.booking_type}
    found = configurations.find(identifier=grant, config_id=config_id)
    out["found"] = {"id": found.data.id, "title": found.data.event_booking.title}
    updated = configurations.update(identifier=grant, config_id=config_id,
                                    request_body={"availability": {"duration_minutes": 60}})
    out["updated"] = {"duration": updated.data.availability.duration_minutes,
                      "title": updated.data.event_booking.title}
    configurations.update(identifier=grant, config_id=config_id,
                          request_body={"availability": {"duration_minutes": 30}})
    listed = configurations.list(identifier=grant, query_params={"limit": 1})
    out["listed"] = {"ids": [c.id for c in listed.data], "next_cursor": listed.next_cursor}

    session = sessions.create(request_body={"configuration_id": config_id, "time_to_live": 10})
    as_guest = {"api_key": session.data.session_id}  # the booking side authenticates with the session
    out["session"] = {"has_id": bool(session.data.session_id)}

    booked = bookings.create(request_body={"start_time": start, "end_time": start + 1800,
                                           "guest": {"email": "guest@example.org", "name": "Guest"}},
                             overrides=as_guest)
    booking_id = booked.data.booking_id
    out["booked"] = {"status": booked.data.status, "title": booked.data.title,
                     "organizer": booked.data.organizer.email}
    out["found_booking"] = {"id": bookings.find(booking_id=booking_id, overrides=as_guest).data.booking_id}
    confirmed = bookings.confirm(booking_id=booking_id, overrides=as_guest, request_body={
        "salt": salt_of(base_url, config_id, booking_id), "status": "confirmed"})
    out["confirmed"] = {"status": confirmed.data.status}
    moved = bookings.reschedule(booking_id=booking_id, overrides=as_guest,
                                request_body={"start_time": start + HOUR, "end_time": start + HOUR + 1800})
    out["rescheduled"] = {"status": moved.data.status, "id": moved.data.booking_id}
    cancelled = bookings.destroy(booking_id=booking_id, overrides=as_guest,
                                 request_body={"cancellation_reason": "judged"})
    out["cancelled"] = {"request_id": bool(cancelled.request_id)}

    try:
        configurations.destroy(identifier=grant, config_id=config_id)
        out["destroy_with_session"] = "deleted"
    except NylasApiError as refused:
        out["destroy_with_session"] = {"status": refused.status_code, "type": refused.type}
    out["session_destroyed"] = bool(sessions.destroy(session_id=session.data.session_id).request_id)
    out["destroyed"] = bool(configurations.destroy(identifier=grant, config_id=config_id).request_id)
    try:
        configurations.find(identifier=grant, config_id=config_id)
        out["found_after_destroy"] = "found"
    except NylasApiError as missing:
        out["found_after_destroy"] = {"status": missing.status_code, "type": missing.type}
    return out


def main(argv: list[str]) -> int:
    base_url, grant, start = argv[0], argv[1], int(argv[2])
    try:
        print(json.dumps(exercise(base_url, grant, start)))
    except NylasApiError as error:
        print(f"nylas SDK error: {error.status_code} {error.type}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
