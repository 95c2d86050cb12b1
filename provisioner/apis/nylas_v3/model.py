"""The v3 configuration object as pydantic models, exactly as Nylas's OpenAPI file defines it.

`Configuration` is the request body of create (and, merged, of PUT): the spec's
``components.schemas.configuration`` with its field names, enums, required fields and constraints,
unknown fields refused (``extra="forbid"``). `ConfigurationObject` adds the read-only ``id``.
Optional fields default to ``None``, meaning "left out"; what the server fills in lives in `spec`.
Where the spec is silent or contradicts itself the model follows a named choice in `choices`.

Scalars (`scalars`): every pattern anchored (``re.fullmatch``), linear-time, after a length bound.
`validate_configuration` is the entry point for JSON-like input: it refuses group configurations
with `choices.GROUP_NOT_SUPPORTED` before anything else.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from provisioner.apis.nylas_v3 import choices as c
from provisioner.apis.nylas_v3.scalars import (
    HHMM,
    Day,
    Email,
    Id,
    Key,
    LongText,
    Minutes,
    Pattern,
    RealDate,
    Short,
    Slug,
    Url,
    Zone,
)


class Strict(BaseModel):
    """A request object: unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")


# --- availability --------------------------------------------------------------------------------


class OpenHours(Strict):
    """``configuration_availability_open_hours``."""

    days: list[Day] = Field(min_length=1, max_length=7)
    start: HHMM
    end: HHMM
    timezone: Zone | None = None
    exdates: list[RealDate] | None = Field(None, max_length=c.MAX_LIST_ITEMS)

    @model_validator(mode="after")
    def _checks(self) -> OpenHours:
        if self.start >= self.end:
            raise ValueError(f"start {self.start} must be before end {self.end}")
        if len(set(self.days)) != len(self.days):
            raise ValueError("days must not repeat a day")
        return self


class SpecificTime(Strict):
    """One item of ``specific_time_availability`` / ``default_specific_time_availability``."""

    date: RealDate
    start: HHMM
    end: HHMM
    timezone: Zone | None = None

    @model_validator(mode="after")
    def _checks(self) -> SpecificTime:
        if self.start >= self.end:
            raise ValueError(f"start {self.start} must be before end {self.end}")
        return self


class Buffer(Strict):
    """``availability_buffer``: minutes, 0 to 120."""

    before: int | None = Field(None, ge=c.BUFFER_RANGE[0], le=c.BUFFER_RANGE[1])
    after: int | None = Field(None, ge=c.BUFFER_RANGE[0], le=c.BUFFER_RANGE[1])


AvailabilityMethod = Literal["collective", "max-fairness", "max-availability"]


class AvailabilityRules(Strict):
    availability_method: AvailabilityMethod | None = None
    buffer: Buffer | None = None
    default_open_hours: list[OpenHours] | None = Field(None, max_length=c.MAX_OPEN_HOURS)
    default_specific_time_availability: list[SpecificTime] | None = Field(None, max_length=c.MAX_OPEN_HOURS)
    only_specific_time_availability: bool | None = None


class Availability(Strict):
    duration_minutes: int = Field(ge=c.DURATION_RANGE[0], le=c.DURATION_RANGE[1])
    interval_minutes: int | None = Field(None, ge=c.INTERVAL_RANGE[0], le=c.INTERVAL_RANGE[1])
    round_to: int | None = Field(None, ge=c.ROUND_TO_RANGE[0], le=c.ROUND_TO_RANGE[1])
    availability_rules: AvailabilityRules | None = None


# --- participants --------------------------------------------------------------------------------


class ParticipantAvailability(Strict):
    calendar_ids: list[Id] = Field(max_length=c.MAX_LIST_ITEMS)
    open_hours: list[OpenHours] | None = Field(None, max_length=c.MAX_OPEN_HOURS)


class ParticipantBooking(Strict):
    calendar_id: Id


class Participant(Strict):
    """``configuration_participants``: ``availability``, ``booking`` and ``email`` are required [spec]."""

    email: Email
    name: Short | None = None
    grant_id: Id | None = None
    is_organizer: bool | None = None
    timezone: Zone | None = None
    availability: ParticipantAvailability
    booking: ParticipantBooking
    specific_time_availability: list[SpecificTime] | None = Field(None, max_length=c.MAX_OPEN_HOURS)
    only_specific_time_availability: bool | None = None


# --- event booking -------------------------------------------------------------------------------


class Reminder(Strict):
    type: Literal["email", "webhook"]  # required: choices.REMINDER_ITEM_REQUIRED
    minutes_before_event: int = Field(ge=1, le=c.REMINDER_MAX_MINUTES)
    recipient: Literal["all", "host", "guest"] | None = None
    email_subject: Short | None = None


ConferencingProvider = Literal["Google Meet", "Zoom Meeting", "Microsoft Teams", "Teams for Business",
                               "Skype for Consumer", "Skype for Business", "WebEx", "GoToMeeting"]
AUTOCREATE_PROVIDERS = frozenset({"Google Meet", "Zoom Meeting", "Microsoft Teams"})


class Autocreate(Strict):
    conf_grant_id: Id | None = None
    conf_settings: dict[str, Any] | None = None


class ConferencingDetails(Strict):
    """The union of the spec's per-provider ``details`` (``url`` required in each)."""

    url: Url
    phone: list[Short] | None = Field(None, max_length=c.MAX_LIST_ITEMS)
    pin: Short | None = None
    meeting_code: Short | None = None
    password: Short | None = None


class Conferencing(Strict):
    """``event_conferencing_request``: a provider with either ``autocreate`` or ``details``."""

    provider: ConferencingProvider
    autocreate: Autocreate | None = None
    details: ConferencingDetails | None = None

    @model_validator(mode="after")
    def _one_way(self) -> Conferencing:
        if self.autocreate is not None and self.details is not None:
            raise ValueError("give either autocreate or details, not both")
        if self.autocreate is not None and self.provider not in AUTOCREATE_PROVIDERS:
            raise ValueError(f"autocreate works with {', '.join(sorted(AUTOCREATE_PROVIDERS))} only")
        return self


class EventBooking(Strict):
    title: str = Field(min_length=1, max_length=c.TITLE_MAX)
    description: LongText | None = None
    location: Short | None = None
    timezone: Zone | None = None
    booking_type: Literal["booking", "organizer-confirmation"] | None = None
    conferencing: Conferencing | None = None
    disable_emails: bool | None = None
    hide_participants: bool | None = None
    notify_participants: bool | None = None
    reminders: list[Reminder] | None = Field(None, max_length=c.MAX_LIST_ITEMS)


# --- scheduler -----------------------------------------------------------------------------------

FieldType = Literal["text", "multi_line_text", "email", "phone_number", "dropdown", "date", "checkbox",
                    "radio_button", "metadata"]


class AdditionalField(Strict):
    """``configuration_scheduler_additional_fields``: ``label``, ``type``, ``required`` are required."""

    label: Short
    type: FieldType
    required: bool
    default: Short | None = None
    pattern: Pattern | None = None
    order: int | None = Field(None, ge=0, le=10_000)
    options: list[Short] | None = Field(None, max_length=c.MAX_LIST_ITEMS)

    @model_validator(mode="after")
    def _options(self) -> AdditionalField:
        if self.type in ("dropdown", "radio_button") and not self.options:
            raise ValueError(f"a {self.type} field needs options")
        return self


class BookingConfirmedTemplate(Strict):
    title: Short | None = None
    body: LongText | None = None


class EmailTemplate(Strict):
    booking_confirmed: BookingConfirmedTemplate | None = None
    logo: Url | None = None
    show_nylas_branding: bool | None = None


class CustomInstructions(Strict):
    custom_instructions: LongText | None = None


class TranscriptionSettings(Strict):
    expected_languages: list[Short] | None = Field(None, min_length=1, max_length=c.MAX_LIST_ITEMS)
    fallback_language: Short | None = None
    keywords: list[Annotated[str, Field(max_length=200)]] | None = Field(None, max_length=200)
    use_speaker_names_as_keywords: bool | None = None


class MeetingSettings(Strict):
    action_items: bool | None = None
    action_items_settings: CustomInstructions | None = None
    audio_recording: bool | None = None
    leave_after_silence_seconds: int | None = Field(None, ge=10, le=3600)
    summary_settings: CustomInstructions | None = None
    transcription: bool | None = None
    video_recording: bool | None = None
    transcription_settings: TranscriptionSettings | None = None


class NotetakerSettings(Strict):
    enabled: bool | None = None
    show_ui_consent_message: bool | None = None
    notetaker_name: Short | None = None
    meeting_settings: MeetingSettings | None = None


class Scheduler(Strict):
    additional_fields: dict[Key, AdditionalField] | None = Field(None, max_length=c.MAX_ADDITIONAL_FIELDS)
    available_days_in_future: int | None = Field(None, ge=c.DAYS_IN_FUTURE_RANGE[0], le=c.DAYS_IN_FUTURE_RANGE[1])
    min_booking_notice: Minutes | None = None
    min_cancellation_notice: Minutes | None = None
    cancellation_policy: LongText | None = None
    rescheduling_url: Url | None = None
    cancellation_url: Url | None = None
    organizer_confirmation_url: Url | None = None
    confirmation_redirect_url: Url | None = None
    hide_rescheduling_options: bool | None = None
    hide_cancellation_options: bool | None = None
    hide_additional_guests: bool | None = None
    notetaker_settings: NotetakerSettings | None = None
    email_template: EmailTemplate | None = None


Appearance = dict[Key, Annotated[str, Field(max_length=c.APPEARANCE_VALUE_MAX)]]

# --- the configuration ---------------------------------------------------------------------------


class Configuration(Strict):
    """``components.schemas.configuration`` (a standard configuration), as a request body."""

    participants: list[Participant] = Field(min_length=1, max_length=c.MAX_PARTICIPANTS)
    availability: Availability
    event_booking: EventBooking
    name: Short | None = None
    slug: Slug | None = None
    requires_session_auth: bool | None = None
    scheduler: Scheduler | None = None
    appearance: Appearance | None = Field(None, max_length=c.MAX_APPEARANCE_KEYS)

    @model_validator(mode="after")
    def _participants(self) -> Configuration:
        emails = [p.email.lower() for p in self.participants]
        repeated = sorted({e for e in emails if emails.count(e) > 1})
        if repeated:
            raise ValueError("participants: each e-mail once; repeated: " + ", ".join(repeated))
        rules = self.availability.availability_rules
        method = (rules.availability_method if rules else None) or "collective"
        organizers = sum(1 for p in self.participants if p.is_organizer)
        if c.REQUIRE_ONE_ORGANIZER and method == "collective" and organizers != 1:
            raise ValueError("participants: exactly one participant must have is_organizer: true "
                             "(round-robin configurations may leave it out)")
        if organizers > 1:
            raise ValueError("participants: at most one participant may have is_organizer: true")
        return self

    def organizer(self) -> Participant:
        """The organizer: the participant with ``is_organizer``, else the first (round robin)."""
        return next((p for p in self.participants if p.is_organizer), self.participants[0])


class ConfigurationObject(Configuration):
    """A configuration as the API returns it: with its read-only ``id``."""

    id: Id


def is_group(body: Any) -> bool:
    """A body asking for a group configuration (``type: group`` or ``group_booking``)."""
    return isinstance(body, dict) and (body.get("type") == "group" or "group_booking" in body)


class GroupNotSupported(ValueError):
    """``type: group``: `choices.GROUP_NOT_SUPPORTED`."""

    def __init__(self) -> None:
        super().__init__(c.GROUP_NOT_SUPPORTED)


def validate_configuration(body: Any) -> Configuration:
    """A create body (or a merged PUT) as a `Configuration`; raises `GroupNotSupported` for a group
    configuration, else pydantic's ``ValidationError``."""
    if is_group(body):
        raise GroupNotSupported()
    return Configuration.model_validate(body)


def dump(config: Configuration) -> dict[str, Any]:
    """The wire form of a configuration: left-out fields absent."""
    return config.model_dump(mode="json", exclude_none=True)
