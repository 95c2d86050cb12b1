"""Server defaults and normalization of v3 configurations: left out equals the server's default."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from provisioner.apis.nylas_v3 import spec
from tests.unit.v3.test_model import FULL, MINIMAL


def test_defaults_of_the_spec_are_filled() -> None:
    filled = spec.fill_server_defaults(MINIMAL)
    assert filled["requires_session_auth"] is False
    assert filled["availability"]["round_to"] == 15
    assert filled["availability"]["availability_rules"] == {
        "availability_method": "collective", "only_specific_time_availability": False,
        "buffer": {"before": 0, "after": 0}}
    assert filled["scheduler"] == {"available_days_in_future": 30, "min_booking_notice": 60,
                                   "min_cancellation_notice": 0, "hide_rescheduling_options": False,
                                   "hide_cancellation_options": False, "hide_additional_guests": False}
    assert filled["participants"][0]["is_organizer"] is True
    assert filled["event_booking"] == {"title": "Call", "booking_type": "booking", "disable_emails": False,
                                       "hide_participants": False, "notify_participants": False}


def test_nested_defaults_only_where_the_parent_exists() -> None:
    filled = spec.fill_server_defaults(FULL)
    assert filled["scheduler"]["email_template"]["show_nylas_branding"] is False  # sent value kept
    notetaker = filled["scheduler"]["notetaker_settings"]
    assert notetaker["notetaker_name"] == "Nylas Notetaker"
    assert notetaker["meeting_settings"]["leave_after_silence_seconds"] == 60
    assert notetaker["meeting_settings"]["video_recording"] is True
    assert filled["event_booking"]["reminders"][0]["recipient"] == "guest"
    assert "email_template" not in spec.fill_server_defaults(MINIMAL)["scheduler"]


def test_input_is_not_modified() -> None:
    before = copy.deepcopy(FULL)
    spec.normalize(FULL)
    spec.fill_server_defaults(FULL)
    assert FULL == before


@pytest.mark.parametrize("config", [MINIMAL, FULL])
def test_normalize_is_idempotent_and_absorbs_defaults(config: dict[str, Any]) -> None:
    once = spec.normalize(config)
    assert spec.normalize(once) == once
    assert spec.normalize(spec.fill_server_defaults(config)) == once


def test_left_out_equals_the_default_and_null_equals_left_out() -> None:
    explicit = copy.deepcopy(MINIMAL) | {"requires_session_auth": False, "scheduler": {
        "available_days_in_future": 30, "min_booking_notice": 60}, "name": None}
    assert spec.normalize(explicit) == spec.normalize(MINIMAL)
    assert spec.normalize(MINIMAL | {"scheduler": {"min_booking_notice": 61}}) != spec.normalize(MINIMAL)


def test_read_only_id_is_dropped_and_days_are_sorted() -> None:
    live = copy.deepcopy(MINIMAL) | {"id": "abc"}
    live["availability"]["availability_rules"] = {"default_open_hours": [
        {"days": [5, 1, 3], "start": "09:00", "end": "10:00"}]}
    sent = copy.deepcopy(live)
    sent.pop("id")
    sent["availability"]["availability_rules"]["default_open_hours"][0]["days"] = [1, 3, 5]
    assert spec.normalize(live) == spec.normalize(sent)
    assert "id" not in spec.normalize(live)


def test_reset_values_are_what_the_spec_allows_and_give_the_defaults() -> None:
    """A reset never sends null for a field the spec does not make nullable; what it sends is stored
    as the server defaults; required fields and ``name`` have no reset."""
    from provisioner.apis.nylas_v3 import choices

    for key, value in spec.RESET_VALUES.items():
        assert value is not None or key in choices.NULLABLE_TOP_LEVEL
    with_resets = MINIMAL | {key: spec.reset_value(key) for key in spec.RESET_VALUES}
    assert spec.normalize(with_resets) == spec.normalize(MINIMAL)
    for key in ("name", "participants", "availability", "event_booking"):
        with pytest.raises(ValueError, match=f"config.{key} cannot be reset"):
            spec.reset_value(key)
