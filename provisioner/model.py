"""The Scheduling Page wire format, defined once.

These pydantic models are shared by the page-file loader, the HTTP client and the emulator. They
describe the API's JSON exactly: field names, types, enums and constraints from
`nylas-scheduler-api.md`. Every model forbids unknown fields. Optional fields default to ``None``,
meaning "left out"; what the server fills in for a left-out field lives in `spec`, not here.

Secrets (access tokens, edit tokens) are `Secret` values: they print as ``**********`` and are only
written out in clear when serialised with ``context={"reveal_secrets": True}`` (the wire, the
sealed lockfile), never by accident.
"""

from __future__ import annotations

import functools
import re
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

# --- secrets -------------------------------------------------------------------------------------


def _dump_secret(value: SecretStr, info: SerializationInfo) -> str:
    ctx = info.context or {}
    return value.get_secret_value() if ctx.get("reveal_secrets") else str(value)


Secret = Annotated[SecretStr, PlainSerializer(_dump_secret, return_type=str)]
"""A token that never prints itself; revealed only under ``context={"reveal_secrets": True}``."""

WIRE = {"reveal_secrets": True}
"""Serialisation context for what goes on the wire (and nowhere else)."""

# --- scalar types --------------------------------------------------------------------------------

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
HHMM_RE = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
COLOR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
URL_RE = re.compile(r"^https?://[^\s]+$")


def _check(pattern: re.Pattern[str], what: str) -> Any:
    def validate(value: str) -> str:
        if not pattern.match(value):
            raise ValueError(f"must be {what}, got {value!r}")
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
Email = Annotated[str, _check(EMAIL_RE, "an e-mail address"), _schema(format="email")]
Url = Annotated[str, _check(URL_RE, "an http(s) URL"), _schema(format="uri")]
UrlOrEmpty = Annotated[str, _check(re.compile(f"^$|{URL_RE.pattern}"), 'an http(s) URL or ""')]
TimeZone = Annotated[str, AfterValidator(_check_timezone), _schema(examples=["America/Los_Angeles", "Europe/Paris"])]
NonNegInt = Annotated[int, Field(ge=0)]
PosInt = Annotated[int, Field(ge=1)]


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

    model_config = ConfigDict(extra="forbid", validate_assignment=True, populate_by_name=True)


class Appearance(Strict):
    color: HexColor | None = Field(None, description="Accent colour, '#rrggbb'.")
    company_name: str | None = None
    logo: UrlOrEmpty | None = Field(None, description='Logo URL; the server stores "" when unset.')
    privacy_policy_redirect: Url | None = None
    show_autoschedule: bool | None = None
    show_nylas_branding: bool | None = None
    show_timezone_options: bool | None = None
    show_week_view: bool | None = None
    submit_text: str | None = None
    thank_you_redirect: Url | None = None
    thank_you_text: str | None = None
    thank_you_text_secondary: str | None = None


class AdditionalField(Strict):
    name: str = Field(min_length=1, description="Unique within the page.")
    label: str
    type: FieldType
    required: bool | None = Field(None, description="The server stores false when left out.")
    order: float | None = Field(None, description="Display order; the server stores it as a float.")
    pattern: str | None = None
    dropdown_options: list[str] | None = None
    multi_select_options: list[str] | None = None


class OpeningHours(Strict):
    account_id: str | None = Field(None, description="Scopes the rule to one account of the page.")
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
    additional_fields: list[AdditionalField] | None = None
    additional_guests_hidden: bool | None = None
    available_days_in_future: PosInt | None = Field(None, description="Booking horizon in days.")
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
    opening_hours: list[OpeningHours] | None = None
    scheduling_method: SchedulingMethod | None = Field(
        None, description="Round-robin mode of a page with several accounts; absent on a single host."
    )

    @model_validator(mode="after")
    def _checks(self) -> Booking:
        if self.interval_minutes is not None and self.interval_minutes % 5:
            raise ValueError(f"interval_minutes must be a multiple of 5, got {self.interval_minutes}")
        names = [f.name for f in self.additional_fields or []]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"additional_fields names must be unique: {', '.join(dup)} repeated")
        return self


class CalendarSelection(Strict):
    availability: list[str] | None = Field(None, description="Calendars the host must be free on.")
    booking: str | None = Field(None, description="Calendar new bookings are written to.")


class Participant(Strict):
    email: Email
    name: str | None = None
    status: ParticipantStatus | None = Field(None, description="Server-filled ('noreply').")
    comment: str | None = None
    phone_number: str | None = None
    role: str | None = None


class Event(Strict):
    capacity: int | None = Field(None, description="-1 for no limit, or at least 1; > 1 for group meetings.")
    duration: PosInt | None = Field(None, description="Minutes.")
    location: str | None = None
    participants: list[Participant] | None = None
    template_title: str | None = Field(None, description="With $[duration], $[invitee] placeholders.")
    title: str | None = None

    @model_validator(mode="after")
    def _capacity(self) -> Event:
        if self.capacity is not None and self.capacity != -1 and self.capacity < 1:
            raise ValueError(f"capacity must be -1 (no limit) or at least 1, got {self.capacity}")
        return self


class ExpireAfter(Strict):
    uses: Annotated[int, Field(ge=-1)] | None = None
    date: Annotated[int, Field(ge=-1)] | None = Field(None, description="Unix seconds, or -1.")


class Features(Strict):
    collective_meetings: bool | None = None
    group_meetings: bool | None = None


class Reminder(Strict):
    delivery_method: DeliveryMethod
    delivery_recipient: DeliveryRecipient
    time_before_event: NonNegInt = Field(description="Minutes before the meeting.")
    email_subject: str | None = None
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
    calendar_ids: dict[str, CalendarSelection] | None = Field(
        None, description="ACCOUNT_ID -> {availability: [CALENDAR_ID...], booking: CALENDAR_ID}."
    )
    disable_emails: bool | None = None
    event: Event | None = None
    expire_after: ExpireAfter | None = None
    features: Features | None = None
    locale: Locale | None = None
    locale_for_guests: GuestLocale | None = None
    reminders: list[Reminder] | None = None
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
    created_at: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")
    modified_at: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")


READ_ONLY_FIELDS = frozenset(
    {"id", "edit_token", "access_token_infos", "app_client_id", "app_organization_id", "created_at",
     "modified_at"}
)
"""Server-assigned top-level fields: ignored when a client sends them back (the SDKs' save() does)."""


class PageCreate(Strict):
    """Body of ``POST /manage/pages``."""

    access_tokens: list[Secret] = Field(min_length=1)
    name: str | None = None
    slug: Slug | None = None
    config: Config | None = None


class PageUpdate(Strict):
    """Body of ``PUT /manage/pages/{id}``: top-level keys left out are kept."""

    access_tokens: list[Secret] | None = Field(None, min_length=1)
    name: str | None = None
    slug: Slug | None = None
    config: Config | None = None


class ApiError(Strict):
    """Every error body: ``{"message": ..., "type": ...}``."""

    message: str
    type: str


def dump_config(config: Config) -> dict[str, Any]:
    """The config as JSON-ready data with left-out fields omitted."""
    return config.model_dump(mode="json", exclude_none=True)
