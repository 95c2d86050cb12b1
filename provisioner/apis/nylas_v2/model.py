"""The Scheduling Page wire format, defined once.

These pydantic models are shared by the page-file loader, the HTTP client and the emulator. They
describe the API's JSON exactly: field names, types, enums and constraints from
`nylas-scheduler-api.md`. Every model forbids unknown fields. Optional fields default to ``None``,
meaning "left out"; what the server fills in for a left-out field lives in `spec`, not here.

Hostile input costs little: every pattern runs in linear time and is matched whole (no trailing
newline slips past a ``$``), every string and list has a maximum length, every number a range in
which it still works as a date or a duration, and floats are finite (the limits are below).

Secrets (access tokens, edit tokens) are `Secret` values: they print as ``**********`` and are only
written out in clear when serialised with ``context={"reveal_secrets": True}`` (the wire, the
sealed lockfile), never by accident.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from typing import Annotated, Any, Literal
from zoneinfo import available_timezones

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    SecretStr,
    SerializationInfo,
    model_validator,
)

from provisioner.apis.base import token_problem

# --- secrets -------------------------------------------------------------------------------------


def _dump_secret(value: SecretStr, info: SerializationInfo) -> str:
    ctx = info.context or {}
    return value.get_secret_value() if ctx.get("reveal_secrets") else str(value)




# `token_problem` is shared by every API package (v3 checks its API key the same way).


def _check_token(value: SecretStr) -> SecretStr:
    problem = token_problem(value.get_secret_value())
    if problem:
        raise ValueError(problem)
    return value


Secret = Annotated[SecretStr, AfterValidator(_check_token), PlainSerializer(_dump_secret, return_type=str)]
"""A token that never prints itself; revealed only under ``context={"reveal_secrets": True}``.
Only header-safe text is a token (`token_problem`)."""

WIRE = {"reveal_secrets": True}
"""Serialisation context for what goes on the wire (and nowhere else)."""

# --- scalar types --------------------------------------------------------------------------------

# Every pattern is used with `fullmatch` (``$`` alone would accept a trailing newline) and runs in
# linear time: no two repetitions can match the same text (the e-mail's domain is split on its dots
# rather than ``[^@]+\.[^@]+``, which backtracks quadratically). The ``^...$`` forms are also the JSON
# Schema patterns that editors check.
SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
HHMM_RE = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
COLOR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s.]+(?:\.[^@\s.]+)+$")
URL_RE = re.compile(r"^https?://[^\s]+$")

# [choice] Length limits, so that no value costs more than it is worth to store, diff or print.
MAX_EMAIL = 254  # RFC 5321's limit on a forward path
MAX_NAME = 255  # names, titles, labels and other one-line text
MAX_TEXT = 10_000  # any other text (thank-you texts, policies); also every string of the wire models
MAX_URL = 2_048
MAX_ITEMS = 1_000  # entries of any list of the page config
# [choice] Ranges of numbers, so that every value the API takes also works as a date or a duration.
MAX_MINUTES = 525_600  # a year, for every duration and notice in minutes
MAX_DAYS = 3_650  # the booking horizon: ten years
MAX_UNIX = 253_402_300_799  # 9999-12-31T23:59:59Z, the last second a datetime can hold
MAX_COUNT = 2**31 - 1


def _check(pattern: re.Pattern[str], what: str) -> Any:
    def validate(value: str) -> str:
        if not pattern.fullmatch(value):
            shown = f"{value!r}" if len(value) <= 60 else f"{value[:40]!r}... ({len(value)} characters)"
            raise ValueError(f"must be {what}, got {shown}")
        return value

    return AfterValidator(validate)


@functools.cache
def _zones() -> frozenset[str]:
    """Read once, on first use, from the list in `tzdata` (a dependency): scanning the zone folders
    as `available_timezones` does costs a CI job's start-up ~15 ms and only adds 'localtime'."""
    from importlib.resources import files

    try:
        return frozenset(files("tzdata").joinpath("zones").read_text().split())
    except (ModuleNotFoundError, OSError):
        return frozenset(available_timezones())


def _check_timezone(value: str) -> str:
    if value not in _zones():
        raise ValueError(f"{value!r} is not an IANA time zone (for example 'Europe/Paris')")
    return value


def _schema(**extra: Any) -> Any:
    """JSON Schema hints for editors; validation itself is done by the validators (clearer messages)."""
    return Field(json_schema_extra=extra)


Slug = Annotated[
    str,
    Field(min_length=1, max_length=120),
    _check(SLUG_RE, "lowercase letters, digits, '-' and '_', starting with a letter or digit"),
    _schema(pattern=SLUG_RE.pattern),
]
HHMM = Annotated[str, _check(HHMM_RE, "a 24-hour time 'HH:MM' from 00:00 to 23:59"), _schema(pattern=HHMM_RE.pattern)]
HexColor = Annotated[str, _check(COLOR_RE, "a colour '#rrggbb'"), _schema(pattern=COLOR_RE.pattern)]
Email = Annotated[str, Field(max_length=MAX_EMAIL), _check(EMAIL_RE, "an e-mail address"), _schema(format="email")]
Url = Annotated[str, Field(max_length=MAX_URL), _check(URL_RE, "an http(s) URL"), _schema(format="uri")]
UrlOrEmpty = Annotated[str, Field(max_length=MAX_URL),
                       _check(re.compile(f"^$|{URL_RE.pattern}"), 'an http(s) URL or ""')]
TimeZone = Annotated[str, Field(max_length=64), AfterValidator(_check_timezone),
                     _schema(examples=["America/Los_Angeles", "Europe/Paris"])]
Name = Annotated[str, Field(max_length=MAX_NAME)]
Minutes = Annotated[int, Field(ge=0, le=MAX_MINUTES)]
PosMinutes = Annotated[int, Field(ge=1, le=MAX_MINUTES)]
NonNegInt = Minutes  # every non-negative count of the config is a number of minutes
PosInt = PosMinutes


Day = Literal["M", "T", "W", "R", "F", "S", "U"]
"""Day letters: R is Thursday, S Saturday, U Sunday."""
SchedulingMethod = Literal["round-robin-maximize-fairness", "round-robin-maximize-availability"]
ConfirmationMethod = Literal["automatic", "manual", "external"]
FieldType = Literal[
    "text", "multi-line text", "email", "phone", "number", "dropdown", "checkbox",
    "multi-select list", "date",
]
Locale = Literal["de", "en", "es", "fr", "ja", "sv", "zh-cn"]
GuestLocale = Literal["de", "en", "es", "fr", "zh-cn", ""]
DeliveryMethod = Literal["email", "webhook"]
DeliveryRecipient = Literal["customer", "owner", "both"]
ParticipantStatus = Literal["noreply", "yes", "no", "maybe"]

# --- config --------------------------------------------------------------------------------------


class Strict(BaseModel):
    """Base of every wire model: unknown fields are errors, values are checked on assignment."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, populate_by_name=True,
                              str_max_length=MAX_TEXT, allow_inf_nan=False)


class Appearance(Strict):
    color: HexColor | None = Field(None, description="Accent colour, '#rrggbb'.")
    company_name: Name | None = None
    logo: UrlOrEmpty | None = Field(None, description='Logo URL; the server stores "" when unset.')
    privacy_policy_redirect: Url | None = None
    show_autoschedule: bool | None = None
    show_nylas_branding: bool | None = None
    show_timezone_options: bool | None = None
    show_week_view: bool | None = None
    submit_text: Name | None = None
    thank_you_redirect: Url | None = None
    thank_you_text: str | None = None
    thank_you_text_secondary: str | None = None


class AdditionalField(Strict):
    name: Name = Field(min_length=1, description="Unique within the page.")
    label: Name
    type: FieldType
    required: bool | None = Field(None, description="The server stores false when left out.")
    order: float | None = Field(None, description="Display order; the server stores it as a float.")
    pattern: Name | None = None
    dropdown_options: list[Name] | None = Field(None, max_length=MAX_ITEMS)
    multi_select_options: list[Name] | None = Field(None, max_length=MAX_ITEMS)


class OpeningHours(Strict):
    account_id: Name | None = Field(None, description="Scopes the rule to one account of the page.")
    days: list[Day] = Field(min_length=1, description="M T W R F S U (R Thursday, S Saturday, U Sunday).")
    start: HHMM
    end: HHMM

    @model_validator(mode="after")
    def _start_before_end(self) -> OpeningHours:
        if self.start >= self.end:
            raise ValueError(f"start {self.start} must be before end {self.end}")
        if len(set(self.days)) != len(self.days):
            raise ValueError("days must not repeat a day")
        return self


class Booking(Strict):
    additional_fields: list[AdditionalField] | None = Field(None, max_length=MAX_ITEMS)
    additional_guests_hidden: bool | None = None
    available_days_in_future: Annotated[int, Field(ge=1, le=MAX_DAYS)] | None = Field(
        None, description="Booking horizon in days.")
    calendar_invite_to_guests: bool | None = None
    cancellation_policy: str | None = None
    confirmation_emails_to_guests: bool | None = None
    confirmation_emails_to_host: bool | None = None
    confirmation_method: ConfirmationMethod | None = None
    interval_minutes: PosInt | None = Field(None, description="Slot interval, a multiple of 5 minutes.")
    min_booking_notice: NonNegInt | None = Field(None, description="Minutes.")
    min_buffer: NonNegInt | None = Field(None, description="Minutes around existing events.")
    min_cancellation_notice: NonNegInt | None = Field(None, description="Minutes.")
    name_field_hidden: bool | None = None
    opening_hours: list[OpeningHours] | None = Field(None, max_length=MAX_ITEMS)
    scheduling_method: SchedulingMethod | None = Field(
        None, description="Round-robin mode of a page with several accounts; absent on a single host."
    )

    @model_validator(mode="after")
    def _checks(self) -> Booking:
        if self.interval_minutes is not None and self.interval_minutes % 5:
            raise ValueError(f"interval_minutes must be a multiple of 5, got {self.interval_minutes}")
        names = Counter(f.name for f in self.additional_fields or [])
        dup = sorted(n for n, count in names.items() if count > 1)
        if dup:
            raise ValueError(f"additional_fields names must be unique: {', '.join(dup)} repeated")
        return self


class CalendarSelection(Strict):
    availability: list[Name] | None = Field(None, max_length=MAX_ITEMS,
                                            description="Calendars the host must be free on.")
    booking: Name | None = Field(None, description="Calendar new bookings are written to.")


class Participant(Strict):
    email: Email
    name: Name | None = None
    status: ParticipantStatus | None = Field(None, description="Server-filled ('noreply').")
    comment: str | None = None
    phone_number: Name | None = None
    role: Name | None = None


class Event(Strict):
    capacity: Annotated[int, Field(ge=-1, le=MAX_COUNT)] | None = Field(
        None, description="-1 for no limit, or at least 1; > 1 for group meetings.")
    duration: PosInt | None = Field(None, description="Minutes.")
    location: Name | None = None
    participants: list[Participant] | None = Field(None, max_length=MAX_ITEMS)
    template_title: Name | None = Field(None, description="With $[duration], $[invitee] placeholders.")
    title: Name | None = None

    @model_validator(mode="after")
    def _capacity(self) -> Event:
        if self.capacity is not None and self.capacity != -1 and self.capacity < 1:
            raise ValueError(f"capacity must be -1 (no limit) or at least 1, got {self.capacity}")
        return self


class ExpireAfter(Strict):
    uses: Annotated[int, Field(ge=-1, le=MAX_COUNT)] | None = None
    date: Annotated[int, Field(ge=-1, le=MAX_UNIX)] | None = Field(None, description="Unix seconds, or -1.")


class Features(Strict):
    collective_meetings: bool | None = None
    group_meetings: bool | None = None


class Reminder(Strict):
    delivery_method: DeliveryMethod
    delivery_recipient: DeliveryRecipient
    time_before_event: NonNegInt = Field(description="Minutes before the meeting.")
    email_subject: Name | None = None
    webhook_url: Url | None = None

    @model_validator(mode="after")
    def _webhook(self) -> Reminder:
        if self.delivery_method == "webhook" and not self.webhook_url:
            raise ValueError("a webhook reminder needs webhook_url")
        return self


class Config(Strict):
    """The page's ``config`` object, exactly as the API takes and returns it."""

    appearance: Appearance | None = None
    booking: Booking | None = None
    calendar_ids: dict[Name, CalendarSelection] | None = Field(
        None, max_length=MAX_ITEMS, description="ACCOUNT_ID -> {availability: [CALENDAR_ID...], booking: CALENDAR_ID}."
    )
    disable_emails: bool | None = None
    event: Event | None = None
    expire_after: ExpireAfter | None = None
    features: Features | None = None
    locale: Locale | None = None
    locale_for_guests: GuestLocale | None = None
    reminders: list[Reminder] | None = Field(None, max_length=MAX_ITEMS)
    timezone: TimeZone | None = Field(None, description="IANA zone name, e.g. 'America/Los_Angeles'.")


# --- page ----------------------------------------------------------------------------------------


class AccessTokenInfo(Strict):
    account_email: str
    account_name: str


class Page(Strict):
    """A page object as the API returns it."""

    id: int
    edit_token: Secret
    name: str | None = None
    slug: Slug
    config: Config
    access_token_infos: list[AccessTokenInfo] = Field(default_factory=list)
    app_client_id: str
    app_organization_id: int
    created_at: str = Field(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
    modified_at: str = Field(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


READ_ONLY_FIELDS = frozenset(
    {"id", "edit_token", "access_token_infos", "app_client_id", "app_organization_id", "created_at",
     "modified_at"}
)
"""Server-assigned top-level fields: ignored when a client sends them back (the SDKs' save() does)."""


class PageCreate(Strict):
    """Body of ``POST /manage/pages``."""

    access_tokens: list[Secret] = Field(min_length=1, max_length=MAX_ITEMS)
    name: Name | None = None
    slug: Slug | None = None
    config: Config | None = None


class PageUpdate(Strict):
    """Body of ``PUT /manage/pages/{id}``: top-level keys left out are kept."""

    access_tokens: list[Secret] | None = Field(None, min_length=1, max_length=MAX_ITEMS)
    name: Name | None = None
    slug: Slug | None = None
    config: Config | None = None


class ApiError(Strict):
    """Every error body: ``{"message": ..., "type": ...}``."""

    message: str
    type: str


def dump_config(config: Config) -> dict[str, Any]:
    """The config as JSON-ready data with left-out fields omitted."""
    return config.model_dump(mode="json", exclude_none=True)
