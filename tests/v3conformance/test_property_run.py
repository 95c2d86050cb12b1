"""A property-based run (schemathesis) over the v3 configuration, session, availability and booking
operations (and should-redirect) against the emulator served on 127.0.0.1: no 5xx, no answer that breaks
the contract.

Schemathesis generates requests from the judged contract (`contract.judged_spec`), valid ones and
invalid ones, and checks each answer's status, content type and schema; the suite's harness judges
every exchange as well, so a spec-breaking request the emulator accepts fails the run too. Random ids
would only ever reach 404s, so two path or query ids in three are replaced by real ones: a
configuration, a session and a booking made before the run. Hypothesis is bounded (`EXAMPLES` per
operation, no deadline, derandomized) so the run stays within about a minute on two cores.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from provisioner.emulator import Emulator
from provisioner.emulator.serve import serve_in_thread
from tests.v3conformance.contract import judged_spec

EXAMPLES = 30
NOW = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)  # a Monday morning; the emulator's default hours are 09:00-17:00
DAY_0900 = int(datetime(2026, 3, 2, 9, 0, tzinfo=UTC).timestamp())
API_KEY = "nyk_property_run"
GRANT = "grant-property"
OPERATIONS = ("get-configurations", "post-configurations", "get-configurations-id", "put-configurations-id",
              "delete-configurations-id", "post-sessions", "delete-session", "get-availability", "post-bookings",
              "get-bookings-id", "patch-bookings-id", "put-bookings-id", "delete-bookings-id", "v2-redirect")
CONFIG: dict[str, Any] = {
    "participants": [{"email": "ada@example.com", "is_organizer": True, "availability": {"calendar_ids": ["primary"]},
                      "booking": {"calendar_id": "primary"}}],
    "availability": {"duration_minutes": 30},
    "event_booking": {"title": "Property run"},
}

RUN = SchemathesisConfig.from_dict({"phases": {"coverage": {"enabled": False}}})
schema = schemathesis.openapi.from_dict(judged_spec(), config=RUN).include(
    operation_id=list(OPERATIONS))


class Live:
    """The emulator served for the run, and real ids to aim some requests at."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {API_KEY}"
        self.ids: dict[str, str] = {"grant_id": GRANT}
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {API_KEY}"}, timeout=30) as client:
            configs = f"/v3/grants/{GRANT}/scheduling/configurations"
            made = client.post(configs, json=CONFIG)
            assert made.status_code == 200, made.text
            self.ids["configuration_id"] = made.json()["data"]["id"]
            session = client.post("/v3/scheduling/sessions", json={"configuration_id": self.ids["configuration_id"]})
            assert session.status_code == 200, session.text
            self.ids["session_id"] = session.json()["data"]["session_id"]
            slots = client.get("/v3/scheduling/availability", params={
                "configuration_id": self.ids["configuration_id"], "start_time": DAY_0900,
                "end_time": DAY_0900 + 8 * 3600})
            assert slots.status_code == 200, slots.text
            first = slots.json()["data"]["time_slots"][0]
            booked = client.post("/v3/scheduling/bookings", params={"configuration_id": self.ids["configuration_id"]},
                                 json={"start_time": first["start_time"], "end_time": first["end_time"],
                                       "guest": {"email": "guest@example.org", "name": "Guest"}})
            assert booked.status_code == 200, booked.text
            self.ids["booking_id"] = booked.json()["data"]["booking_id"]

    def aim(self, values: dict[str, Any] | None) -> None:
        """Replace two generated ids in three with real ones (by length: a deterministic function of the case)."""
        if not values:
            return
        for name, value in values.items():
            if name in self.ids and isinstance(value, str) and len(value) % 3 != 0:
                values[name] = self.ids[name]


@pytest.fixture
def live() -> Iterator[Live]:
    """Per operation, so the suite's harness (`tests/conftest.py`) judges each operation's exchanges."""
    emulator = Emulator(":memory:", clock=lambda: NOW)
    try:
        with serve_in_thread(emulator) as url:
            yield Live(url)
    finally:
        emulator.close()


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
def test_no_5xx_and_no_answer_breaking_the_spec(case: schemathesis.Case, live: Live) -> None:
    live.aim(case.path_parameters)
    live.aim(case.query)
    case.call_and_validate(base_url=live.url, session=live.session, timeout=30,
                           checks=[not_a_server_error, status_code_conformance, content_type_conformance,
                                   response_schema_conformance])
