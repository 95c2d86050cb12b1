"""What the v3 server fills in and ignores, and the canonical form of a configuration for diffing.

- `fill_server_defaults(config)`: the configuration as the server stores and returns it, given the
  wire form a client sent (left-out fields absent). Every default is the OpenAPI file's ``default``
  of that field [spec], applied only where its parent object is present or always present
  (``scheduler`` is always returned). ``null`` is "left out" for fields the spec makes nullable.
- `normalize(config)`: the form two configurations are compared in: read-only fields dropped,
  ``None`` dropped, server defaults filled, ``days`` sorted. So "left out" equals "server default",
  and a live configuration equals the one that was sent.

Pure functions over JSON-like dicts; the input is never modified.
"""

from __future__ import annotations

import copy
from typing import Any

READ_ONLY_FIELDS: frozenset[str] = frozenset({"id"})
"""Top-level fields the server sets and a client does not send (``id``) [spec: responses only]."""

TOP_LEVEL_DEFAULTS: dict[str, Any] = {"requires_session_auth": False}  # [spec]
AVAILABILITY_DEFAULTS: dict[str, Any] = {"round_to": 15}  # [spec]
AVAILABILITY_RULES_DEFAULTS: dict[str, Any] = {  # [spec]
    "availability_method": "collective",
    "only_specific_time_availability": False,
}
BUFFER_DEFAULTS: dict[str, Any] = {"before": 0, "after": 0}  # [spec] availability_buffer
PARTICIPANT_DEFAULTS: dict[str, Any] = {"is_organizer": False}  # [spec]
EVENT_BOOKING_DEFAULTS: dict[str, Any] = {  # [spec]
    "booking_type": "booking",
    "disable_emails": False,
    "hide_participants": False,
    "notify_participants": False,
}
REMINDER_DEFAULTS: dict[str, Any] = {"recipient": "all"}  # [spec]
SCHEDULER_DEFAULTS: dict[str, Any] = {  # [spec]
    "available_days_in_future": 30,
    "min_booking_notice": 60,
    "min_cancellation_notice": 0,
    "hide_rescheduling_options": False,
    "hide_cancellation_options": False,
    "hide_additional_guests": False,
}
EMAIL_TEMPLATE_DEFAULTS: dict[str, Any] = {"show_nylas_branding": True}  # [spec]
NOTETAKER_DEFAULTS: dict[str, Any] = {  # [spec]
    "enabled": False,
    "show_ui_consent_message": True,
    "notetaker_name": "Nylas Notetaker",
}
MEETING_SETTINGS_DEFAULTS: dict[str, Any] = {  # [spec] meeting_settings_common
    "action_items": True,
    "audio_recording": True,
    "leave_after_silence_seconds": 300,
    "transcription": True,
    "video_recording": True,
}


RESET_VALUES: dict[str, Any] = {"scheduler": {}, "requires_session_auth": None, "appearance": None}
"""What a PUT sends to bring back the server default of a top-level field a client no longer sets:
``scheduler`` is replaced whole, so ``{}`` holds only its defaults; ``null`` only where the spec makes
the field nullable. ``participants``, ``availability`` and ``event_booking`` are required (never
reset), and ``name`` cannot be unset: a client leaves it out."""


def reset_value(key: str) -> Any:
    """The value a PUT sends to bring top-level ``key`` back to its server default (`RESET_VALUES`)."""
    if key not in RESET_VALUES:
        raise ValueError(f"config.{key} cannot be reset to a server default (the spec gives it none)")
    return copy.deepcopy(RESET_VALUES[key])


def _drop_none(value: Any) -> Any:
    """``value`` with ``None`` left out of every mapping; new dicts and lists all the way down."""
    if isinstance(value, dict):
        return {k: _drop_none(v) if isinstance(v, dict | list) else v for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_none(v) if isinstance(v, dict | list) else v for v in value]
    return value


def _fill(obj: Any, defaults: dict[str, Any]) -> None:
    if isinstance(obj, dict):
        for key, value in defaults.items():
            if obj.get(key) is None:
                obj[key] = copy.deepcopy(value)


def fill_server_defaults(config: dict[str, Any]) -> dict[str, Any]:
    """The configuration as the server stores it: a new dict, ``None`` dropped, defaults filled."""
    out: dict[str, Any] = _drop_none(config)  # new dicts and lists all the way down: filled in place below
    _fill(out, TOP_LEVEL_DEFAULTS)
    availability = out.get("availability")
    if isinstance(availability, dict):
        _fill(availability, AVAILABILITY_DEFAULTS)
        rules = availability.setdefault("availability_rules", {})
        _fill(rules, AVAILABILITY_RULES_DEFAULTS)
        _fill(rules.setdefault("buffer", {}), BUFFER_DEFAULTS)
    for participant in out.get("participants") or []:
        _fill(participant, PARTICIPANT_DEFAULTS)
    event_booking = out.get("event_booking")
    if isinstance(event_booking, dict):
        _fill(event_booking, EVENT_BOOKING_DEFAULTS)
        for reminder in event_booking.get("reminders") or []:
            _fill(reminder, REMINDER_DEFAULTS)
    scheduler = out.setdefault("scheduler", {})
    _fill(scheduler, SCHEDULER_DEFAULTS)
    _fill(scheduler.get("email_template"), EMAIL_TEMPLATE_DEFAULTS)
    notetaker = scheduler.get("notetaker_settings")
    _fill(notetaker, NOTETAKER_DEFAULTS)
    if isinstance(notetaker, dict):
        _fill(notetaker.get("meeting_settings"), MEETING_SETTINGS_DEFAULTS)
    return out


def _sort_days(hours: Any) -> None:
    for block in hours or []:
        if isinstance(block, dict) and isinstance(block.get("days"), list):
            block["days"] = sorted(block["days"])


def normalize(config: dict[str, Any]) -> dict[str, Any]:
    """The canonical form for diffing: read-only fields dropped, defaults filled, ``days`` sorted."""
    out = fill_server_defaults({k: v for k, v in config.items() if k not in READ_ONLY_FIELDS})
    rules = (out.get("availability") or {}).get("availability_rules") or {}
    _sort_days(rules.get("default_open_hours"))
    for participant in out.get("participants") or []:
        _sort_days(((participant or {}).get("availability") or {}).get("open_hours"))
    return out


def _strip(obj: Any, defaults: dict[str, Any]) -> None:
    if isinstance(obj, dict):
        for key, value in defaults.items():
            if key in obj and obj[key] == value:
                del obj[key]


def _drop_if_empty(parent: dict[str, Any], key: str) -> None:
    if parent.get(key) == {}:
        del parent[key]


def strip_server_defaults(config: dict[str, Any]) -> dict[str, Any]:
    """The smallest configuration that `fill_server_defaults` turns back into ``config``'s (for
    `pull`): read-only fields and ``None`` dropped, every value equal to the default the server
    fills in left out, and the objects the server adds (``availability_rules``, ``buffer``,
    ``scheduler``) dropped when nothing else is left in them. Objects the server fills only when sent
    (``email_template``, ``notetaker_settings``, ``meeting_settings``) stay, if only as ``{}``, since
    leaving them out is not the same configuration. ``normalize`` of the result equals ``normalize``
    of ``config``."""
    out: dict[str, Any] = _drop_none({k: v for k, v in copy.deepcopy(config).items() if k not in READ_ONLY_FIELDS})
    _strip(out, TOP_LEVEL_DEFAULTS)
    availability = out.get("availability")
    if isinstance(availability, dict):
        _strip(availability, AVAILABILITY_DEFAULTS)
        rules = availability.get("availability_rules")
        if isinstance(rules, dict):
            _strip(rules, AVAILABILITY_RULES_DEFAULTS)
            _strip(rules.get("buffer"), BUFFER_DEFAULTS)
            _drop_if_empty(rules, "buffer")
        _drop_if_empty(availability, "availability_rules")
    for participant in out.get("participants") or []:
        _strip(participant, PARTICIPANT_DEFAULTS)
    event_booking = out.get("event_booking")
    if isinstance(event_booking, dict):
        _strip(event_booking, EVENT_BOOKING_DEFAULTS)
        for reminder in event_booking.get("reminders") or []:
            _strip(reminder, REMINDER_DEFAULTS)
    scheduler = out.get("scheduler")
    if isinstance(scheduler, dict):
        _strip(scheduler, SCHEDULER_DEFAULTS)
        _strip(scheduler.get("email_template"), EMAIL_TEMPLATE_DEFAULTS)
        notetaker = scheduler.get("notetaker_settings")
        _strip(notetaker, NOTETAKER_DEFAULTS)
        if isinstance(notetaker, dict):
            _strip(notetaker.get("meeting_settings"), MEETING_SETTINGS_DEFAULTS)
        _drop_if_empty(out, "scheduler")
    return out
