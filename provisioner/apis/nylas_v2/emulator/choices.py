"""Every **[choice]** the emulator makes where the evidence about the real service is silent.

One place to read and change them (see `nylas-scheduler-api.md`): identity derivation for accounts,
generated values, error types and codes, pagination bounds. Nothing here does I/O. The others sit
beside the code they shape, each marked ``[choice]``: `auth` (Basic auth's password, what an edit
token lists), `availability` (which calendars count, additional field checks, slot time bounds),
`freebusy` (the provider availability answer), `booking` (confirmation, titles, cancellation
notice), `webhooks` (reminder delivery, notifications), `calstore` (ids, edit hashes), `wire` (the
public view of a page), `ratelimit` (bucket size, per-bearer accounts), `store` (its schema: deleted
pages' edit tokens, bookings kept), `web` (where the booking page lives); the slot rules are in
`provisioner.slots.choices`.
"""

from __future__ import annotations

import hashlib
import secrets
import string

from provisioner.apis.stable_ids import base36

# --- server-assigned page values -----------------------------------------------------------------

APP_CLIENT_ID = "emulator-client-id"  # [choice] the emulator is one "application"
APP_ORGANIZATION_ID = 1  # [choice]
EDIT_TOKEN_LENGTH = 32  # [ref] 32 letters and digits
_EDIT_TOKEN_ALPHABET = string.ascii_letters + string.digits


def new_edit_token() -> str:
    """A fresh page edit token: 32 letters and digits from `secrets` [ref]."""
    return "".join(secrets.choice(_EDIT_TOKEN_ALPHABET) for _ in range(EDIT_TOKEN_LENGTH))


def new_slug() -> str:
    """[choice] The slug of a page created without one: ``page-`` and 10 random base36 characters."""
    return "page-" + "".join(secrets.choice(string.ascii_lowercase + string.digits) for _ in range(10))


# --- accounts ------------------------------------------------------------------------------------
# [choice] Any access token is an account of its own. Its id, e-mail, name and primary calendar are
# derived from a hash of the token, so the same token gets the same account in every emulator
# database (page files can name account ids in calendar_ids). The raw token is never stored.

ACCOUNT_ID_LENGTH = 25  # [choice] 25 base36 characters, like the service's ids


def token_hash(token: str) -> str:
    """What the store keeps of an access token: a hex SHA-256 (never the token)."""
    return hashlib.sha256(b"provisioner-emulator/token:" + token.encode()).hexdigest()


def account_id_for(token: str) -> str:
    """The stable account id of an access token."""
    digest = hashlib.sha256(b"provisioner-emulator/account:" + token.encode()).digest()
    return base36(digest, ACCOUNT_ID_LENGTH)


def primary_calendar_id_for(account_id: str) -> str:
    """The stable id of an account's primary calendar."""
    return base36(hashlib.sha256(b"provisioner-emulator/calendar:" + account_id.encode()).digest(),
                   ACCOUNT_ID_LENGTH)


def account_email_for(account_id: str) -> str:
    """[choice] A stable, obviously fake e-mail address for an account."""
    return f"user-{account_id[:8]}@emulator.example.com"


def account_name_for(account_id: str) -> str:
    """[choice] A stable display name for an account."""
    return f"Emulator User {account_id[:6].upper()}"


PRIMARY_CALENDAR_NAME = "Calendar"  # [choice]

# --- requests ------------------------------------------------------------------------------------

DEFAULT_LIST_LIMIT = 100  # [choice] limit when GET /manage/pages has none
MAX_LIST_LIMIT = 1000  # [choice] larger limits are refused with 400
LIST_UNKNOWN_ACCOUNT_IS_EMPTY = True
"""[choice] Listing with an access token never seen before answers ``[]`` rather than 401: every
token is an account (PRODUCT.md §5), and a client checking "did my create happen?" after a request
dropped before processing must get "no page", not an auth error."""
LIST_VIEWS = frozenset({"count", "ids"})
"""[choice] ``GET /manage/pages?view=count`` answers ``{"count": N}`` (all pages, offset and limit ignored)
and ``view=ids`` the page ids: the Node SDK's ``count()`` and ``list({view: 'ids'})`` send them, as on
every v2 collection. Other views are refused (400)."""
NULL_MEANS_LEFT_OUT = True
"""[choice] A top-level ``null`` in a create or update body (``"name": null``) is treated as left out."""

# --- images (endpoint 7) ---------------------------------------------------------------------------

IMAGE_CONTENT_TYPE_PREFIX = "image/"  # [choice] only images may be uploaded
IMAGE_BASE_URL = "https://storage.emulator.example.com/scheduler-images"  # [choice] nothing is stored there


def image_upload(page_id: int, object_name: str) -> dict[str, str]:
    """[choice] The answer of ``PUT /manage/pages/{id}/upload-image``: a fresh object name under the
    page, its public URL, and a signed upload URL (a random signature; nothing listens there)."""
    filename = f"{page_id}/{secrets.token_hex(8)}-{object_name}"
    public = f"{IMAGE_BASE_URL}/{filename}"
    return {"filename": filename, "originalFilename": object_name, "publicUrl": public,
            "signedUrl": f"{public}?X-Emulator-Signature={secrets.token_hex(16)}"}


# --- errors --------------------------------------------------------------------------------------

SLUG_TAKEN_MESSAGE = "Sorry, the page slug you provided is already taken"  # [doc]
INVALID_REQUEST = "invalid_request_error"  # [sdk] 400
ERROR_TYPES: dict[int, str] = {  # [choice] the "type" of each error status
    400: INVALID_REQUEST,
    401: "unauthorized",
    403: "forbidden",
    404: "not_found_error",
    405: INVALID_REQUEST,
    429: "rate_limit_error",
    500: "api_error",
    503: "api_error",
}


def error_type(status: int) -> str:
    """The ``type`` of an error body for an HTTP status."""
    return ERROR_TYPES.get(status, "api_error" if status >= 500 else INVALID_REQUEST)


FAULT_ERROR_STATUS = 503  # [choice] status of an injected server error
RATE_LIMIT_LIMIT = 50  # [choice] X-RateLimit-Limit: the published per-account limit (requests/s)
DROP_STATUS = 200  # [choice] status line sent before a "drop before processing" cuts the body
