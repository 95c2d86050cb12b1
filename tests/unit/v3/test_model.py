"""The v3 configuration model: the spec's fields, enums, required fields and constraints, and the
named choices where the spec is silent."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from pydantic import ValidationError

from provisioner.apis.nylas_v3 import choices, model

PARTICIPANT: dict[str, Any] = {"email": "alice@example.com", "is_organizer": True,
                               "availability": {"calendar_ids": ["primary"]}, "booking": {"calendar_id": "primary"}}
MINIMAL: dict[str, Any] = {"participants": [PARTICIPANT], "availability": {"duration_minutes": 30},
                           "event_booking": {"title": "Call"}}

FULL: dict[str, Any] = {
    "name": "Sales demo", "slug": "sales-demo", "requires_session_auth": False,
    "participants": [PARTICIPANT | {
        "name": "Alice", "grant_id": "g-1", "timezone": "Europe/Paris",
        "availability": {"calendar_ids": ["primary", "cal-2"], "open_hours": [
            {"days": [1, 2, 3], "start": "09:00", "end": "12:30", "timezone": "Europe/Paris",
             "exdates": ["2026-12-25"]}]},
        "specific_time_availability": [{"date": "2026-12-31", "start": "10:00", "end": "11:00"}],
        "only_specific_time_availability": False}],
    "availability": {"duration_minutes": 45, "interval_minutes": 15, "round_to": 15, "availability_rules": {
        "availability_method": "collective", "buffer": {"before": 10, "after": 120},
        "default_open_hours": [{"days": [0, 6], "start": "10:00", "end": "14:00", "timezone": "UTC"}],
        "default_specific_time_availability": [{"date": "2026-01-02", "start": "08:00", "end": "09:00",
                                                "timezone": "Asia/Tokyo"}],
        "only_specific_time_availability": False}},
    "event_booking": {"title": "Demo", "description": "A demo", "location": "Online", "timezone": "Europe/Paris",
                      "booking_type": "organizer-confirmation", "disable_emails": False,
                      "hide_participants": True, "notify_participants": None,
                      "conferencing": {"provider": "Zoom Meeting", "details": {"url": "https://zoom.us/j/1",
                                                                               "meeting_code": None}},
                      "reminders": [{"type": "email", "minutes_before_event": 60, "recipient": "guest",
                                     "email_subject": "Soon"}]},
    "scheduler": {"available_days_in_future": 14, "min_booking_notice": None, "min_cancellation_notice": 30,
                  "cancellation_policy": "24 hours", "rescheduling_url": "https://x.example/r/:booking_ref",
                  "cancellation_url": "https://x.example/c", "confirmation_redirect_url": "https://x.example/t",
                  "organizer_confirmation_url": "https://x.example/o", "hide_rescheduling_options": True,
                  "hide_cancellation_options": False, "hide_additional_guests": True,
                  "additional_fields": {"phone": {"label": "Phone", "type": "phone_number", "required": False,
                                                  "order": 1, "pattern": "[0-9+ ]{6,20}"},
                                        "plan": {"label": "Plan", "type": "radio_button", "required": True,
                                                 "options": ["free", "pro"]}},
                  "email_template": {"logo": "https://x.example/logo.png", "show_nylas_branding": False,
                                     "booking_confirmed": {"title": "Booked", "body": "See you"}},
                  "notetaker_settings": {"enabled": True, "meeting_settings": {
                      "leave_after_silence_seconds": 60, "transcription_settings": {"expected_languages": ["en"]}}}},
    "appearance": {"color": "#ffffff", "company_logo_url": "https://x.example/l.png"},
}


def problems(body: dict[str, Any]) -> str:
    with pytest.raises(ValidationError) as caught:
        model.validate_configuration(body)
    return " | ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in caught.value.errors())


def with_(path: str, value: Any, base: dict[str, Any] = MINIMAL) -> dict[str, Any]:
    """`base` with the dotted `path` set (``participants.0.email``); `value` ... deletes it."""
    out = copy.deepcopy(base)
    *parents, last = path.split(".")
    node: Any = out
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
    if value is ...:
        del node[last]
    elif isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return out


def test_every_field_of_the_spec_is_accepted_and_round_trips() -> None:
    config = model.validate_configuration(FULL)
    dumped = model.dump(config)
    assert model.dump(model.validate_configuration(dumped)) == dumped
    assert dumped["scheduler"]["additional_fields"]["plan"]["options"] == ["free", "pro"]
    assert "notify_participants" not in dumped["event_booking"]  # null is "left out"


def test_the_minimal_configuration_is_valid() -> None:
    assert model.validate_configuration(MINIMAL).organizer().email == "alice@example.com"


@pytest.mark.parametrize(("path", "value", "expected"), [
    ("participants", ..., "participants: Field required"),
    ("availability", ..., "availability: Field required"),
    ("event_booking", ..., "event_booking: Field required"),
    ("event_booking.title", ..., "event_booking.title: Field required"),
    ("availability.duration_minutes", ..., "availability.duration_minutes: Field required"),
    ("participants.0.booking", ..., "participants.0.booking: Field required"),
    ("participants.0.availability", ..., "participants.0.availability: Field required"),
    ("participants.0.email", "alice", "participants.0.email"),
    ("participants.0.email", "a@b.com\n", "participants.0.email"),
    ("slug", "Sales Demo", "slug"),
    ("slug", "demo\n", "slug"),
    ("availability.round_to", 0, "availability.round_to"),
    ("availability.availability_rules", {"availability_method": "round-robin"}, "availability_method"),
    ("availability.availability_rules", {"buffer": {"before": 121}}, "buffer.before"),
    ("availability.availability_rules", {"default_open_hours": [{"days": [1, 1], "start": "09:00",
                                                                 "end": "10:00"}]}, "must not repeat"),
    ("availability.availability_rules", {"default_open_hours": [{"days": [1], "start": "10:00",
                                                                 "end": "09:00"}]}, "must be before"),
    ("availability.availability_rules", {"default_open_hours": [{"days": [1], "start": "09:00\n",
                                                                 "end": "10:00"}]}, "start"),
    ("availability.availability_rules", {"default_open_hours": [{"days": [1], "start": "24:00",
                                                                 "end": "10:00"}]}, "start"),
    ("availability.availability_rules", {"default_open_hours": [{"days": [1], "start": "09:00",
                                                                 "end": "10:00", "exdates": ["2026-02-30"]}]},
     "exdates"),
    ("event_booking.booking_type", "automatic", "booking_type"),
    ("event_booking.reminders", [{"minutes_before_event": 5}], "reminders.0.type: Field required"),
    ("event_booking.reminders", [{"type": "sms", "minutes_before_event": 5}], "reminders.0.type"),
    ("event_booking.reminders", [{"type": "email", "minutes_before_event": 0}], "minutes_before_event"),
    ("event_booking.conferencing", {"provider": "WebEx", "autocreate": {}}, "autocreate works with"),
    ("event_booking.conferencing", {"provider": "Zoom Meeting", "details": {}}, "details.url"),
    ("scheduler", {"additional_fields": {"a b": {"label": "x", "type": "text", "required": True}}},
     "additional_fields"),
    ("scheduler", {"additional_fields": {"n": {"label": "x", "type": "number", "required": True}}}, "type"),
    ("scheduler", {"additional_fields": {"n": {"label": "x", "type": "text"}}}, "required: Field required"),
    ("scheduler", {"additional_fields": {"n": {"label": "x", "type": "text", "required": True,
                                               "pattern": "(unclosed"}}}, "not a valid regular expression"),
    ("scheduler", {"available_days_in_future": 0}, "available_days_in_future"),
    ("scheduler", {"colour": "red"}, "colour: Extra inputs are not permitted"),
    ("appearance", {"color": "x" * (choices.APPEARANCE_VALUE_MAX + 1)}, "appearance.color"),
    ("appearance", {"color": 7}, "appearance.color"),
])
def test_invalid_input_names_the_field(path: str, value: Any, expected: str) -> None:
    assert expected in problems(with_(path, value))


def test_an_appearance_value_of_exactly_550_characters_is_valid() -> None:
    model.validate_configuration(with_("appearance", {"thank_you_message": "x" * 550}))


def test_collective_needs_exactly_one_organizer_round_robin_none() -> None:
    second = PARTICIPANT | {"email": "bob@example.com", "is_organizer": False}
    assert "exactly one participant" in problems(with_("participants", [PARTICIPANT | {"is_organizer": False},
                                                                        second]))
    rr = with_("availability.availability_rules", {"availability_method": "max-fairness"},
               with_("participants", [PARTICIPANT | {"is_organizer": None}, second]))
    assert model.validate_configuration(rr).organizer().email == "alice@example.com"
    assert "at most one" in problems(with_("participants", [PARTICIPANT, second | {"is_organizer": True}], rr))


def test_participants_are_unique_by_email() -> None:
    assert "each e-mail once" in problems(with_("participants", [PARTICIPANT, PARTICIPANT | {
        "email": "ALICE@example.com", "is_organizer": False}]))


@pytest.mark.parametrize("body", [{"type": "group"}, {"group_booking": {"calendar_id": "x"}, "name": "n"}])
def test_group_configurations_are_refused_with_a_clear_error(body: dict[str, Any]) -> None:
    with pytest.raises(model.GroupNotSupported, match="not supported yet"):
        model.validate_configuration(body)


def test_unknown_top_level_fields_and_type_standard_are_refused() -> None:
    assert "type" in problems(MINIMAL | {"type": "standard"})


def test_the_response_object_has_its_id() -> None:
    assert model.ConfigurationObject.model_validate(MINIMAL | {"id": "abc"}).id == "abc"


@pytest.mark.parametrize("pattern", ["[A-Z]{3}", "(?:ab)+", "[0-9+ ]{6,20}", "a{2,3}(b|c)", "(?:a{2})*", "x?y*"])
def test_linear_patterns_are_accepted(pattern: str) -> None:
    field = {"label": "x", "type": "text", "required": False, "pattern": pattern}
    model.validate_configuration(with_("scheduler", {"additional_fields": {"f": field}}))


@pytest.mark.parametrize(("pattern", "reason"), [("(a+)+$", "must not repeat"), ("(a|aa)*b", "must not repeat"),
                                                 ("((a+))+", "must not repeat"), ("(a{1,9})*", "must not repeat"),
                                                 (r"(x)\1", "backreferences"), ("(unclosed", "not a valid")])
def test_patterns_that_may_backtrack_exponentially_are_refused(pattern: str, reason: str) -> None:
    field = {"label": "x", "type": "text", "required": False, "pattern": pattern}
    assert reason in problems(with_("scheduler", {"additional_fields": {"f": field}}))
