"""What the server fills in, and how two configs are compared.

Every **[choice]** about server behaviour that the evidence leaves open lives here, in one place,
shared by the emulator (which applies it) and the diff (which must not report it as a change).

- `fill_server_defaults` is what the emulator does to a config it stores: exactly the additions seen
  in the guide's create response ([ref]) plus the defaults seen in SDK fixtures ([sdk], unverified).
- `normalize` is the canonical form used for diffing: server defaults filled in, ``None`` and absent
  treated alike, numbers that the server re-types (``order``: 1 -> 1.0) made equal.
"""

from __future__ import annotations

import copy
from typing import Any

# [ref] added by the server in the guide's create response.
# [sdk] seen in SDK fixtures; plausible, unverified. Applied only to keys left out.
BOOKING_DEFAULTS: dict[str, Any] = {
    "confirmation_emails_to_guests": True,  # [sdk]
    "confirmation_emails_to_host": True,  # [sdk]
    "confirmation_method": "automatic",  # [sdk]
    "min_booking_notice": 0,  # [sdk]
    "min_buffer": 0,  # [sdk]
    "min_cancellation_notice": 0,  # [sdk]
}
CONFIG_DEFAULTS: dict[str, Any] = {
    "locale": "en",  # [sdk]
    "reminders": [],  # [sdk]
}
APPEARANCE_DEFAULTS: dict[str, Any] = {"logo": ""}  # [ref]
FEATURES_DEFAULTS: dict[str, Any] = {"collective_meetings": False}  # [ref]; group_meetings kept only when sent
PARTICIPANT_DEFAULTS: dict[str, Any] = {"status": "noreply"}  # [ref]
ADDITIONAL_FIELD_DEFAULTS: dict[str, Any] = {"required": False}  # [choice]

# [choice] Paths a client may not set: server-controlled beta flags. Sent values are kept (the SDKs
# send them back on save()), and the diff still compares them.
SERVER_CONTROLLED: frozenset[str] = frozenset({"features"})


def fill_server_defaults(config: dict[str, Any]) -> dict[str, Any]:
    """The config as the server stores and returns it, given the JSON config a client sent.

    The input is the wire form (left-out fields absent). Returns a new dict; the input is unchanged.
    """
    return _fill(copy.deepcopy(config))


def _fill(out: dict[str, Any]) -> dict[str, Any]:
    """`fill_server_defaults` in place, on a config this module owns."""
    for key, value in CONFIG_DEFAULTS.items():
        out.setdefault(key, copy.deepcopy(value))
    appearance = out.setdefault("appearance", {})
    for key, value in APPEARANCE_DEFAULTS.items():
        appearance.setdefault(key, value)
    booking = out.setdefault("booking", {})
    for key, value in BOOKING_DEFAULTS.items():
        booking.setdefault(key, value)
    for field in booking.get("additional_fields") or []:
        for key, value in ADDITIONAL_FIELD_DEFAULTS.items():
            field.setdefault(key, value)
        if field.get("order") is not None:
            field["order"] = float(field["order"])
    for participant in (out.get("event") or {}).get("participants") or []:
        for key, value in PARTICIPANT_DEFAULTS.items():
            participant.setdefault(key, value)
    features = out.setdefault("features", {})
    for key, value in FEATURES_DEFAULTS.items():
        features.setdefault(key, value)
    return out


def strip_server_defaults(config: dict[str, Any]) -> dict[str, Any]:
    """The smallest config that `fill_server_defaults` turns back into ``config`` (for `pull`): every
    value equal to the default the server would fill in is left out, and emptied sections too."""
    out = _drop_none(copy.deepcopy(config))

    def strip(section: dict[str, Any], defaults: dict[str, Any]) -> None:
        for key, value in defaults.items():
            if key in section and section[key] == value:
                del section[key]

    strip(out, CONFIG_DEFAULTS)
    strip(out.get("appearance") or {}, APPEARANCE_DEFAULTS)
    strip(out.get("features") or {}, FEATURES_DEFAULTS)
    booking = out.get("booking") or {}
    strip(booking, BOOKING_DEFAULTS)
    for field in booking.get("additional_fields") or []:
        strip(field, ADDITIONAL_FIELD_DEFAULTS)
    for participant in (out.get("event") or {}).get("participants") or []:
        strip(participant, PARTICIPANT_DEFAULTS)
    return {k: v for k, v in out.items() if v != {}}


_CHANGED = dict | list | float  # what `_drop_none` may change (any other value is kept as it is)


def _drop_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_none(v) if isinstance(v, _CHANGED) else v for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_none(v) if isinstance(v, _CHANGED) else v for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)  # 1.0 and 1 compare (and render) alike
    return value


def normalize(config: dict[str, Any]) -> dict[str, Any]:
    """Canonical form of a config for comparison: equal iff the server would store the same page."""
    # _drop_none builds new containers, so the defaults are filled in place (no deep copy: a plan's hot path).
    return _drop_none(_fill(_drop_none(config)))
