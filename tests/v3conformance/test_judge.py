"""The judge of v3 exchanges: what it flags, what it lets through, and each [choice] of `contract`."""

from __future__ import annotations

from typing import Any

from openapi_core import OpenAPI

from tests.v3conformance.contract import judged_spec, raw_spec
from tests.v3conformance.judge import Exchange, _Request, _Response, violations
from tests.v3conformance.judge import exchange_from_json as exchange

CONFIGS = "/v3/grants/grant-1/scheduling/configurations"
CONFIG: dict[str, Any] = {
    "participants": [{"email": "ada@example.com", "is_organizer": True, "availability": {"calendar_ids": ["primary"]},
                      "booking": {"calendar_id": "primary"}}],
    "availability": {"duration_minutes": 30},
    "event_booking": {"title": "Intro"},
}
ANSWER = {"request_id": "req-1", "data": {"id": "cfg-1", **CONFIG}}
ERROR = {"request_id": "req-1", "error": {"type": "not_found_error", "message": "no such session"}}


def test_a_conforming_create_passes() -> None:
    assert violations(exchange("POST", CONFIGS, 200, ANSWER, request=CONFIG)) == []


def test_an_answer_breaking_its_schema_is_flagged_with_the_field() -> None:
    broken = {"request_id": "req-1", "data": {**ANSWER["data"], "participants": "ada"}}
    (found,) = violations(exchange("GET", f"{CONFIGS}/cfg-1", 200, broken))
    assert found.startswith(f"GET {CONFIGS}/cfg-1 → 200: answer breaks the spec") and "participants" in found


def test_a_forbidden_request_is_flagged_only_when_accepted() -> None:
    no_participants = {k: v for k, v in CONFIG.items() if k != "participants"}
    (found,) = violations(exchange("POST", CONFIGS, 200, ANSWER, request=no_participants))
    assert "accepted a request the spec forbids" in found
    refused = {"request_id": "req-1", "error": {"type": "invalid_request_error", "message": "participants"}}
    assert violations(exchange("POST", CONFIGS, 400, refused, request=no_participants)) == []
    assert violations(exchange("GET", CONFIGS, 401, refused, headers={})) == []  # no API key: refused, fine
    (unauthenticated,) = violations(exchange("GET", CONFIGS, 200, {"request_id": "r", "data": []}, headers={}))
    assert "accepted a request the spec forbids: SecurityValidationError" in unauthenticated


def test_statuses_outside_the_spec() -> None:
    session = "/v3/scheduling/sessions/sess-1"  # DELETE lists 200, 400, 401, 429, 504
    assert violations(exchange("DELETE", session, 404, ERROR)) == []
    (bare,) = violations(exchange("DELETE", session, 404, {"message": "gone"}))
    assert "'request_id' is a required property" in bare and "'error' is a required property" in bare
    (created,) = violations(exchange("POST", CONFIGS, 201, ANSWER, request=CONFIG))
    assert "→ 201: answer breaks the spec" in created


def test_paths_outside_the_spec() -> None:
    (found,) = violations(exchange("GET", "/v3/scheduling/ui-settings", 200, {}))
    assert "not an operation of the spec, yet answered 200" in found
    assert violations(exchange("GET", "/v3/scheduling/ui-settings", 404, ERROR)) == []
    assert violations(exchange("POST", "/v3/scheduling/availability", 405, ERROR)) == []
    assert violations(exchange("GET", "/manage/pages", 200, [{"v2": "not judged"}])) == []


def test_answers_must_be_json() -> None:
    html = Exchange(method="DELETE", path="/v3/scheduling/sessions/s", request_headers=(("authorization", "Bearer k"),),
                    status=200, response_headers=(("content-type", "text/html"),), response_body=b"<p>ok</p>")
    (found,) = violations(html)
    assert "text/html" in found


def _raw_contract() -> OpenAPI:
    return OpenAPI.from_dict({**raw_spec(), "servers": [{"url": "/"}]})


def test_choices_accept_what_the_literal_spec_cannot() -> None:
    """Each [choice] of `contract`: the literal spec refuses the exchange, the judged one accepts it."""
    cases = [
        # oneOf read as anyOf: a standard configuration matches the "Group Configuration" branch too.
        exchange("POST", CONFIGS, 200, ANSWER, request=CONFIG),
        # a list answer's data is its own array, not the envelope's object.
        exchange("GET", CONFIGS, 200, {"request_id": "r", "data": [ANSWER["data"]], "next_cursor": None}),
        # PUT is partial: one top-level object, as "Updating objects" and both SDKs send.
        exchange("PUT", f"{CONFIGS}/cfg-1", 200, ANSWER, request={"availability": {"duration_minutes": 45}}),
        # reschedule times as Unix seconds, like the SDKs and booking_create.
        exchange("PATCH", "/v3/scheduling/bookings/b-1", 200, {"request_id": "r"},
                 request={"start_time": 1_700_000_000, "end_time": 1_700_001_800}),
        # a public configuration's availability, asked without a session.
        exchange("GET", "/v3/scheduling/availability", 200, {"request_id": "r", "data": {"time_slots": []}},
                 query="start_time=1700000000&end_time=1700086400&configuration_id=cfg-1", headers={}),
        # a blank query value, read as the parameter left out.
        exchange("GET", CONFIGS, 200, {"request_id": "r", "data": []}, query="page_token="),
        # an error status the operation does not list, in the spec's error envelope.
        exchange("DELETE", "/v3/scheduling/sessions/sess-1", 404, ERROR),
    ]
    literal = _raw_contract()
    for case in cases:
        request, response = _Request(case), _Response(case)
        refused = list(literal.iter_request_errors(request)) + list(literal.iter_response_errors(request, response))
        assert refused, case.title()
        assert violations(case) == [], case.title()


def test_the_judged_spec_leaves_the_literal_one_alone() -> None:
    raw, judged = raw_spec(), judged_spec()
    assert "oneOf" in str(raw) and "oneOf" not in str(judged) and "else" in str(judged)
    assert raw["servers"] != judged["servers"] and raw["paths"].keys() == judged["paths"].keys()
    assert raw["components"]["schemas"]["configuration"]["required"] == ["participants", "availability",
                                                                         "event_booking"]


def test_a_blank_required_parameter_is_still_missing() -> None:
    (found,) = violations(exchange("GET", "/v3/scheduling/availability", 200, {"request_id": "r", "data": {}},
                                   query="start_time=&end_time=1700086400&configuration_id=cfg-1"))
    assert "accepted a request the spec forbids" in found and "start_time" in found


def test_no_mismatch_is_tolerated_and_a_top_level_null_is_a_violation() -> None:
    """The spec allows null only for slug, requires_session_auth and appearance: a configuration write
    that accepts any other top-level null is a violation, and none is tolerated any more."""
    from provisioner.apis.nylas_v3 import choices
    from tests.v3conformance.contract import KNOWN_MISMATCHES, known_mismatch

    assert KNOWN_MISMATCHES == {}
    assert choices.NULLABLE_TOP_LEVEL == {"slug", "requires_session_auth", "appearance"}
    for field, kind in [("name", "string"), ("scheduler", "object"), ("availability", "object")]:
        (found,) = violations(exchange("PUT", f"{CONFIGS}/cfg-1", 200, ANSWER, request={field: None}))
        assert "accepted a request the spec forbids" in found and f"{field}: None is not of type '{kind}'" in found
        assert known_mismatch(found) is None
    for field in sorted(choices.NULLABLE_TOP_LEVEL):
        assert violations(exchange("PUT", f"{CONFIGS}/cfg-1", 200, ANSWER, request={field: None})) == []


def test_the_judge_and_the_emulator_read_put_alike() -> None:
    """The judge's "PUT is partial" is the emulator's own [choice]; if one changes, so must the other."""
    from provisioner.apis.nylas_v3 import choices

    assert choices.PUT_IS_PARTIAL is True
    assert "required" not in judged_spec()["components"]["schemas"]["configuration_update"]
