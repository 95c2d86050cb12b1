"""Who may do what on the v3 emulator.

- Configurations, sessions, should-redirect: the application API key as ``Authorization: Bearer``.
  Any key is accepted unless the emulator was given one (then only that key; compared in constant time).
- Availability and bookings (`booking_access`): a live session id as bearer (its configuration), or
  the API key with ``configuration_id`` or ``slug`` in the query, or no bearer for a configuration
  with ``requires_session_auth: false`` (`choices.API_KEY_BOOKS`). A bearer that names a session which
  expired or was deleted is refused with 401, whatever the key setting.
- Grant ids in paths are opaque: 1 to `choices.GRANT_ID_MAX` characters, no control characters.

Messages never contain a key or a session id.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass

from provisioner.apis.nylas_v3 import choices
from provisioner.apis.nylas_v3.emulator.wire import V3Failure

MISSING = "Missing or malformed Authorization header: expected 'Bearer <API key>'"
BAD_KEY = "Invalid API key"
SESSION_ENDED = "The session has expired or was deleted: create a new session"
NEEDS_SESSION = "This configuration requires a session: send 'Authorization: Bearer <session id>'"


def bearer(headers: Mapping[str, str]) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, or None."""
    scheme, _, token = headers.get("authorization", "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def is_api_key(token: str, expected: str | None) -> bool:
    return expected is None or hmac.compare_digest(token.encode(), expected.encode())


def require_api_key(headers: Mapping[str, str], expected: str | None) -> None:
    """Raise 401 unless the request carries the API key."""
    token = bearer(headers)
    if token is None:
        raise V3Failure(401, MISSING)
    if not is_api_key(token, expected):
        raise V3Failure(401, BAD_KEY)


def check_grant(grant_id: str) -> str:
    if grant_id == choices.ME_GRANT:
        raise V3Failure(400, "Invalid grant id: 'me' names an access token's grant; with an API key, name the grant")
    if not 0 < len(grant_id) <= choices.GRANT_ID_MAX or any(ord(ch) < 32 or ord(ch) == 127 for ch in grant_id):
        raise V3Failure(400, f"Invalid grant id: 1 to {choices.GRANT_ID_MAX} printable characters")
    return grant_id


@dataclass(frozen=True)
class BookingAccess:
    """How a booking-side request is authorised: by a session (of `configuration_id`), by the API
    key, or by nobody (public)."""

    kind: str  # "session" | "key" | "public"
    configuration_id: str | None = None
