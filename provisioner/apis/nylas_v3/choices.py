"""Every **[choice]** of the v3 package: where Nylas's OpenAPI file (the ground truth,
``nylas-v3-scheduler-openapi.yml``) is silent or contradicts itself, and the guides do not settle it.

One place to read and change them; the model, `spec`, and the emulator import them. Tags: **[spec]**
the OpenAPI file says so (kept here only when a choice depends on it), **[guide]** the v3 guides say
so, **[choice]** ours. Nothing here does I/O.
"""

from __future__ import annotations

import hashlib
import uuid

from provisioner.apis.stable_ids import base36

# --- the configuration object (model) ------------------------------------------------------------

MAX_PARTICIPANTS = 50  # [choice] the spec sets no bound; a body is bounded anyway
MAX_OPEN_HOURS = 100  # [choice] per list (default_open_hours, open_hours)
MAX_LIST_ITEMS = 100  # [choice] other lists (calendar_ids, exdates, options, reminders, ...)
MAX_ADDITIONAL_FIELDS = 50  # [choice]
MAX_APPEARANCE_KEYS = 50  # [choice]
APPEARANCE_VALUE_MAX = 550  # [spec] configuration_appearance: maxLength 550 per value
KEY_MAX = 64  # [choice] appearance keys and additional-field names: 1..64 characters
SHORT_TEXT_MAX = 255  # [choice] names, e-mails, ids, labels, locations (group events: location <= 255 [spec])
TITLE_MAX = 1024  # [choice] event_booking.title, as group events' title [spec]
LONG_TEXT_MAX = 8192  # [choice] descriptions, cancellation policy, e-mail template bodies
URL_MAX = 2048  # [choice]
PATTERN_MAX = 255  # [choice] additional_fields.*.pattern
DURATION_RANGE = (5, 1440)  # [choice] duration_minutes: 5 minutes to a day
INTERVAL_RANGE = (5, 1440)  # [choice] interval_minutes
ROUND_TO_RANGE = (5, 60)  # [choice] round_to (spec default 15)
BUFFER_RANGE = (0, 120)  # [spec] availability_buffer before/after: minimum 0, maximum 120
DAYS_IN_FUTURE_RANGE = (1, 365)  # [choice] available_days_in_future
NOTICE_MAX_MINUTES = 525_600  # [choice] min_booking_notice / min_cancellation_notice: at most a year
REMINDER_MAX_MINUTES = 525_600  # [choice] minutes_before_event (minimum 1 [spec])

PATTERN_SAFE_ONLY = True
"""[choice] ``additional_fields.*.pattern`` (a guest's answer must fullmatch it; the spec only says
string) must be a valid Python regular expression without backreferences, and no repeated part may
itself hold a variable repeat or an alternation (``(a+)+``, ``(a|aa)*``, ``(?:[a-z]+[.])+``): such
patterns can take exponential time. Conservative: a few harmless patterns are refused too."""

SLUG_PATTERN = r"[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?"
"""[choice] A slug: 1-64 lowercase letters, digits and inner hyphens (the spec only says string;
the hosted page puts it in a URL path). Matched with ``fullmatch``."""
KEY_PATTERN = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}"
"""[choice] appearance keys and additional-field names."""
EMAIL_PATTERN = r"[^@\s]{1,64}@[^@\s.]+(?:\.[^@\s.]+)+"
"""[choice] An e-mail address: something@domain.tld (the spec only says string)."""
HHMM_PATTERN = r"(?:[01][0-9]|2[0-3]):[0-5][0-9]"
"""[choice] open hours ``start``/``end``: ``HH:MM``, 00:00-23:59 (the spec only says a non-empty string)."""
DATE_PATTERN = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
"""[choice] ``exdates`` and specific-time ``date``: ``YYYY-MM-DD`` (the spec only says string)."""

REQUIRE_ONE_ORGANIZER = True
"""[choice] A collective configuration (or one with a single participant) names exactly one
participant ``is_organizer: true``; round-robin configurations (max-fairness, max-availability) may
name at most one, since the guide says their hosts do not set it."""

REMINDER_ITEM_REQUIRED = ("type", "minutes_before_event")
"""[spec contradiction] ``event_booking.reminders`` puts ``required: [minutes_before_event, type]`` on
the array, where JSON Schema ignores it; group configurations put it on the items. We require both on
each reminder, as the evident intent."""

PARTICIPANTS_IN_ROUND_ROBIN = True
"""[guide over spec] One sentence of the spec says ``participants`` is not accepted for round robin;
the round-robin guide and Nylas's booking component send it. Round-robin hosts are participants."""

GROUP_NOT_SUPPORTED = "group configurations (type: group) are not supported yet"
"""[choice, issue 12] A body with ``type: group`` or ``group_booking`` is refused with this message."""

PUT_IS_PARTIAL = True
"""[spec contradiction] The PUT body schema is the full configuration (participants, availability and
event_booking required), while "Updating objects" says PUT leaves top-level fields it omits untouched.
The emulator follows "Updating objects": any subset of top-level fields; each nested object received
replaces the stored one whole; the merged result must be a valid configuration."""

NULLABLE_TOP_LEVEL: frozenset[str] = frozenset({"slug", "requires_session_auth", "appearance"})
"""[spec] The top-level configuration fields whose type allows ``null``. [choice] ``null`` for one of
these reads as left out (POST) or back to the server default (PUT); ``null`` for any other top-level
field (``name``, ``participants``, ``availability``, ``event_booking``, ``scheduler``) is refused with
400, as the spec types them as a string, a list or objects. A client brings ``scheduler`` back to its
defaults with ``scheduler: {}`` (the object is replaced whole); ``name`` cannot be unset."""

RESPONSE_ONEOF_AMBIGUOUS = True
"""[spec contradiction] Two response schemas are a ``oneOf`` whose branches any answer matches at once:
a configuration ("Standard" vs "Group Configuration": neither branch requires or forbids a field) and
a booking confirmation ("Booking confirmed" vs "Booking cancelled", whose ``$ref`` points at a
response, not a schema). No answer can match exactly one branch; the emulator answers the standard
configuration and ``{"request_id", "data": booking}``, which each branch accepts on its own.
Conformance checks must read these ``oneOf`` as ``anyOf``."""

# --- server defaults (spec) ----------------------------------------------------------------------

DEFAULT_OPEN_HOURS = ({"days": [1, 2, 3, 4, 5], "start": "09:00", "end": "17:00"},)
"""[choice] Open hours of a participant when neither its ``open_hours`` nor ``default_open_hours``
is set: weekdays 9 to 5 in the participant's zone. Not stored: it is the slot engine's reading."""
OPEN_HOURS_REPLACE_DEFAULTS = True
"""[choice] A participant's own ``open_hours`` replace ``default_open_hours`` for that participant
(they do not add up), as the availability guide describes."""
DEFAULT_TIMEZONE = "UTC"
"""[choice] The zone of open hours that name none, when neither the participant nor
``event_booking.timezone`` names one."""

DEFAULT_INTERVAL_IS_DURATION = True
"""[choice] ``interval_minutes`` left out: slots start every ``duration_minutes`` (back to back)."""
ROUND_ROBIN_GROUP_IS_CONFIGURATION = True
"""[choice] The guide orders round-robin hosts by bookings "carrying the same metadata ``key5``
value"; the spec's configuration has no metadata field, so the group is the configuration itself:
its own bookings, in the order they were made, order its hosts. ``event_booking.metadata`` and
``availability_rules.round_robin_group_id`` appear in some Nylas guides but not in the spec: they are
refused as unknown fields, like anything else the spec does not define."""
COLLECTIVE_BOOKS_ORGANIZER = True
"""[choice] A collective booking belongs to the organizer (its ``organizer`` and grant), and its
event is put on every participant's booking calendar, so they are busy for other configurations too."""
RESCHEDULE_KEEPS_HOSTS = True
"""[choice] A rescheduled round-robin booking stays with its host: the new time must suit the same
host(s), not the round-robin turn."""

# --- identity: grants, ids -----------------------------------------------------------------------
# [choice] Any grant id is a grant of its own; its e-mail and primary calendar are derived from a hash
# of the id, so the same grant looks the same in every emulator database (like v2's account_id_for).

GRANT_ID_MAX = 256  # [choice] longer grant ids in a path are refused with 400
ME_GRANT = "me"
"""[spec] ``/me/`` names the grant of an access token; the emulator's v3 API takes API keys, so a
``me`` grant is refused with 400 [choice]. An e-mail address in the path is a grant id of its own."""


def grant_email_for(grant_id: str) -> str:
    """[choice] The stable, obviously fake e-mail of a grant."""
    digest = hashlib.sha256(b"provisioner-emulator/v3-grant:" + grant_id.encode()).digest()
    return f"grant-{base36(digest, 8)}@emulator.example.com"


def primary_calendar_id_for(grant_id: str) -> str:
    """[choice] The stable id of a grant's primary calendar. ``primary`` names it too."""
    digest = hashlib.sha256(b"provisioner-emulator/v3-calendar:" + grant_id.encode()).digest()
    return base36(digest, 25)


def grant_id_for_email(email: str) -> str:
    """[choice] The grant of a participant given without ``grant_id`` who is not the organizer
    (the organizer's grant is the one in the path): a stable id derived from the e-mail."""
    return "email-" + base36(hashlib.sha256(b"provisioner-emulator/v3-email:" + email.lower().encode()).digest(), 20)


PRIMARY_ALIAS = "primary"  # [choice] ``calendar_ids: [primary]`` means the grant's primary calendar
CALENDAR_IDS_UNCHECKED = True
"""[choice] Calendar ids of participants are not checked against the grant's calendars (they are the
provider's ids, which the emulator does not own): busy time comes from the emulator's events on those
ids (``primary`` = the primary calendar)."""


def new_id() -> str:
    """[choice] Configuration, session and booking ids are UUIDs [guide]; event ids too."""
    return str(uuid.uuid4())


def new_salt() -> str:
    """[choice] The salt a booking's confirm/decline must send back (``PUT`` body ``salt``)."""
    return uuid.uuid4().hex[:16]


def new_request_id() -> str:
    return str(uuid.uuid4())


APPLICATION_ID = "emulator-application"  # [choice] the emulator is one application
HOSTED_PAGE_BASE = "https://book.nylas.com/us"  # [choice] where should-redirect points


def hosted_page_url(slug: str) -> str:
    """[choice] The URL ``should-redirect`` answers for a v2 slug with a v3 configuration."""
    return f"{HOSTED_PAGE_BASE}/{APPLICATION_ID}/{slug}"


SHOULD_REDIRECT_NONE = True
"""[choice] ``should-redirect`` for a slug with no v3 configuration answers 200 with ``data: {}``
(the spec lists no 404 for it, and ``url`` is a string, not nullable)."""

# --- requests ------------------------------------------------------------------------------------

MAX_BODY_BYTES = 1_048_576  # [choice] larger request bodies are refused (400: the spec lists no 413)
LIST_LIMIT_DEFAULT = 50  # [spec] components.parameters.limit default
LIST_LIMIT_MAX = 200  # [spec] components.parameters.limit maximum; larger is refused with 400
SESSION_TTL_DEFAULT = 5  # [spec] time_to_live default, minutes
SESSION_TTL_MAX = 30  # [guide] at most 30 minutes; more is refused with 400
MAX_WINDOW_DAYS = 400  # [choice] a longer availability window (start_time to end_time) is refused with 400
FIELD_VALUE_MAX = 1024  # [choice] the longest additional-field value a guest may send
GUEST_EMAIL_REQUIRED = True  # [choice] booking_create requires ``guest`` [spec]; its ``email`` too
BOOKINGS_OUTLIVE_CONFIGURATION = True
"""[choice] Bookings and their events are kept when their configuration is deleted (a booking id
then answers 404: its configuration is gone)."""
NOT_FOUND_WITHOUT_404 = 400
"""[choice] Where the spec lists no 404 for an operation (session delete), an unknown id is 400."""
BOOKING_DURATION_MUST_MATCH = True
"""[choice] A booking's ``end_time - start_time`` must equal ``duration_minutes``."""
UNKNOWN_ADDITIONAL_FIELD_REFUSED = True
"""[choice] A booking's ``additional_fields`` may only name fields of the configuration's
``scheduler.additional_fields``; required ones must be there, ``pattern``s fullmatch, and dropdown
or radio-button values be among ``options``."""
BOOKING_STRINGS_OR_INTS = True
"""[spec contradiction] ``booking_update`` types ``start_time``/``end_time`` as strings, while
``booking_create`` has integers: a reschedule accepts unix seconds as an integer or a digit string."""
API_KEY_BOOKS = True
"""[choice] Availability and bookings take a live session id as bearer, or the API key with
``configuration_id`` or ``slug`` in the query (the official SDKs send the API key), or no bearer for a
configuration with ``requires_session_auth: false``. A bearer that was a session (expired, deleted)
is refused with 401."""
PENDING_HOLDS_SLOT = True
"""[choice] A pending booking (organizer-confirmation) holds its slot like a booked one."""
CONFIRM_SENDS_CREATED = True
"""[choice] Confirming a pending booking sends ``booking.created``; declining sends ``booking.cancelled``."""

# --- what Nylas's web components call that the spec does not list --------------------------------
# Read from the shipped source maps of ``@nylas/web-elements`` 2.5.18 (``src/connector/shared/api/
# scheduler.ts``, ``src/stores/scheduler-store.ts``); the browser tests in ``tests/browser/v3/`` run them.

UI_SETTINGS_ENDPOINT = "/v3/scheduling/ui-settings"
"""[choice, undocumented] ``GET /v3/scheduling/ui-settings`` is what ``<nylas-scheduling>`` asks first,
authorised as availability is (session bearer; or ``configuration_id``, or ``slug`` with ``client_id``,
for a public configuration; ``booking_id`` when rescheduling). The answer, in the spec's envelope, is
the component's ``UISettingsResponse``: ``configuration_id``, ``app_client_id`` (`APPLICATION_ID`),
``name``, ``slug``, ``booking_type``, ``organizer {name, email}``, ``appearance`` and the configuration's
``scheduler`` object as stored; with ``booking_id``, ``booking`` (that booking's guest, additional
guests, additional fields, time zone and event times), which the booking form pre-fills."""

UI_SETTINGS_CLIENT_ID_IGNORED = True
"""[choice] ``client_id`` (the application's public id, sent with ``slug``) is accepted and not
checked: the emulator is one application, whose slugs are unique."""

BOOKING_SLOT_REFS_ACCEPTED = ("calendar_id", "event_id", "master_id")
"""[choice, undocumented] ``<nylas-scheduling>`` copies a time slot's ``calendar_id`` (and a group
slot's ``event_id``/``master_id``) into the booking it creates; the spec's ``booking_create`` lists
none of them. They are accepted (strings, ignored: the configuration names the booking calendar)."""

COMPONENT_CANCEL_ACTION = "cancel"
"""[choice, undocumented] ``<nylas-scheduling>`` cancels with ``DELETE …/bookings/{id}`` and the body
``{"action": "cancel", "cancellation_reason"}``; the spec's body has ``cancellation_reason`` only.
``action`` is accepted when it is ``"cancel"`` (anything else is refused with 400)."""
RESCHEDULE_COMPONENT_FIELDS = ("timezone", "additional_fields", "guest", "additional_guests", "participants",
                               "email_language", "event_id", "master_id", "calendar_id")
"""[choice, undocumented] ``<nylas-scheduling>`` reschedules with ``PATCH …/bookings/{id}`` sending,
beside the spec's ``start_time`` and ``end_time``, the booking form again (these fields). They are
accepted and ignored: a reschedule moves the booking, keeping its guest, fields and hosts
(`RESCHEDULE_KEEPS_HOSTS`)."""

CALENDARS_ENDPOINT = "/v3/grants/{grant_id}/calendars"
"""[choice, outside the Scheduler slice] ``<nylas-scheduler-editor>`` lists the signed-in grant's
calendars (``GET …/calendars?limit=50``, following ``next_cursor``) before it opens a configuration.
The emulator answers with the grant's one calendar, its primary one (`primary_calendar_id_for`),
in the Calendar API's shape; ``page_token`` is ignored (there is never a next page)."""

EDITOR_EXTRAS_DROPPED: tuple[tuple[str, ...], ...] = (
    ("version",),
    ("availability", "availability_rules", "round_robin_group_id"),
    ("scheduler", "email_template", "organizer_locale"),
)
"""[choice, undocumented] ``<nylas-scheduler-editor>`` sends every configuration it saves with a
top-level ``version`` (``"1.0.0"``), ``availability_rules.round_robin_group_id`` (``""``) and
``scheduler.email_template.organizer_locale`` (``"en"``; the spec shows it in responses only, its
request schema has no such field). Nylas's API takes such bodies (the editor is its own client); the
emulator accepts them and drops these fields, where any other unknown field is still refused."""
EMPTY_CONFERENCING_IS_NONE = True
"""[choice, undocumented] The editor sends ``event_booking.conferencing: {}`` for "no location"; the
spec's ``event_conferencing_request`` requires ``provider``. An empty object is taken as no
conferencing (the field is left out)."""

CORS_ANY_ORIGIN = True
"""[choice] The v3 API answers CORS for any origin, as a browser page hosting Nylas's components
needs: a preflight (``OPTIONS`` with ``Access-Control-Request-Method``) is answered 200 with the
requested method and headers allowed for `CORS_MAX_AGE_S`; every answer carries
``Access-Control-Allow-Origin: *`` and exposes ``Retry-After``. No cookies are used, so no credentials
are allowed. (Nylas's own API allows the origins an application registers.)"""
CORS_MAX_AGE_S = 600
EXTENSION_ENDPOINTS = (UI_SETTINGS_ENDPOINT, CALENDARS_ENDPOINT)
"""The paths the emulator serves beyond the spec's Scheduler slice (each a [choice] above): a contract
check of the emulator skips them, as it skips CORS preflights (``OPTIONS``)."""
CORS_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")

# --- errors --------------------------------------------------------------------------------------

ERROR_TYPES: dict[int, str] = {  # [choice] the error.type of each status (Nylas v3 names)
    400: "invalid_request_error",
    401: "unauthorized",
    404: "not_found_error",
    405: "invalid_request_error",
    429: "rate_limit_error",
    500: "internal_error",
    503: "internal_error",
    504: "gateway_timeout",
}


def error_type(status: int) -> str:
    return ERROR_TYPES.get(status, "internal_error" if status >= 500 else "invalid_request_error")


# --- webhooks ------------------------------------------------------------------------------------

WEBHOOK_ATTEMPTS = 4  # [choice] as v2's reminders: the first attempt and 3 immediate retries
WEBHOOK_SOURCE = "/nylas/scheduler"  # [choice] the notification's ``source``
WEBHOOK_ENVELOPE = "cloudevents-like"
"""[choice] The payload follows the notification envelope of Nylas's v3 webhook docs (``specversion``,
``type``, ``source``, ``id``, ``time``, ``data.object``), which the Scheduler slice of the spec does
not cover; ``data.object.salt`` carries what confirming a pending booking needs. See
`emulator.webhooks`. Destinations are registered through the test controls (the v3 webhooks API
is outside the Scheduler slice)."""
WEBHOOK_TRIGGERS = ("booking.created", "booking.pending", "booking.rescheduled", "booking.cancelled",
                    "booking.reminder")  # [guide]
