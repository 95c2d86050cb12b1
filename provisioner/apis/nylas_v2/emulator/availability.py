"""From the emulator's database to the slot engine and back: hosts, busy time, slots as JSON, and
the booking request's body (endpoint 10) checked against the page's additional fields.

Which calendars count (the **[choice]**s, here and only here):
- an account's booking calendar is ``calendar_ids[account].booking``, else its primary calendar;
- its availability calendars are ``calendar_ids[account].availability``, else (left out or ``[]``)
  the booking calendar; the booking calendar is busy time too (a calendar cannot be double-booked);
- every event on those calendars is busy, except the calendar events of this page's own bookings:
  those reach the engine as bookings (a group slot is not blocked by its own bookings).
"""

from __future__ import annotations

import functools
import re
import re._constants as _c  # the parse tree of a pattern: to tell whether it backtracks boundedly
import re._parser as _parser
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import Field, ValidationError

from provisioner import slots
from provisioner.apis.nylas_v2 import model
from provisioner.apis.nylas_v2.emulator import calstore, choices
from provisioner.apis.nylas_v2.emulator.calstore import BookingRecord, Conn
from provisioner.apis.nylas_v2.emulator.store import PageRecord
from provisioner.apis.nylas_v2.emulator.wire import MAX_TIME, ApiFailure, instant
from provisioner.apis.validation_text import validation_message

StrictInt = Annotated[int, Field(strict=True)]


@dataclass(frozen=True)
class PageInputs:
    """What the slot engine needs about one page, read in one transaction."""

    hosts: list[slots.Host]
    bookings: list[slots.Booking]
    records: list[BookingRecord]


def calendars_for(config: model.Config, account_id: str) -> tuple[str, list[str]]:
    """(booking calendar, availability calendars) of an account on a page (see the module doc)."""
    selection = (config.calendar_ids or {}).get(account_id)
    booking = (selection.booking if selection else None) or choices.primary_calendar_id_for(account_id)
    availability = list((selection.availability if selection else None) or [booking])
    if booking not in availability:
        availability.append(booking)
    return booking, availability


def page_inputs(conn: Conn, page: PageRecord, config: model.Config,
                ignore_booking: int | None = None) -> PageInputs:
    """Hosts (page order) and this page's bookings (the order they were made), without `ignore_booking`
    (the booking a reschedule replaces, so that its own slot is on offer again)."""
    records = sorted(calstore.bookings(conn, page.id), key=lambda b: b.id)
    own_events = {b.calendar_event_id for b in records}
    hosts = []
    for account in page.accounts:
        booking_calendar, availability = calendars_for(config, account.id)
        busy = tuple(slots.Interval(instant(e.start), instant(e.end))
                     for e in calstore.events_on(conn, availability) if e.id not in own_events)
        hosts.append(slots.Host(account.id, account.name, account.email, booking_calendar, busy))
    kept = [b for b in records if b.id != ignore_booking]
    engine_bookings = [slots.Booking(instant(b.start), instant(b.end), b.account_id, b.status)  # type: ignore[arg-type]
                       for b in kept]
    return PageInputs(hosts, engine_bookings, kept)


def slot_json(slot: slots.Slot) -> dict[str, Any]:
    """A time slot as endpoint 9 answers it (unix seconds)."""
    return {"account_id": slot.account_id, "calendar_id": slot.calendar_id, "host_name": slot.host_name,
            "emails": list(slot.emails), "start": int(slot.start.timestamp()), "end": int(slot.end.timestamp())}


# --- the booking request (endpoint 10) -----------------------------------------------------------


class SlotRef(model.Strict):
    """The ``slot`` of a booking request: one of the time slots, as endpoint 9 gave it."""

    account_id: str
    calendar_id: str
    start: Annotated[StrictInt, Field(ge=0, le=MAX_TIME)]
    end: Annotated[StrictInt, Field(ge=0, le=MAX_TIME)]
    host_name: str | None = None
    emails: list[str] | None = None


class BookingRequest(model.Strict):
    """Body of ``POST /schedule/{slug}/timeslots`` [sdk SchedulerBookingRequest]. The two
    ``additional_*`` keys are required even when empty (the SDK always sends them)."""

    slot: SlotRef
    name: str
    email: model.Email
    timezone: model.TimeZone
    locale: str = Field(min_length=1)
    additional_values: dict[str, Any]
    additional_emails: list[model.Email]
    page_hostname: str | None = None
    replaces_booking_hash: str | None = None


def parse_request(body: dict[str, Any], config: model.Config) -> BookingRequest:
    """The validated request; raises `ApiFailure` 400 naming every bad field (values never shown)."""
    try:
        request = BookingRequest.model_validate(body)
    except ValidationError as exc:
        raise ApiFailure(400, validation_message(exc)) from None
    problems = field_problems(request.additional_values, config)
    hidden = bool(config.booking and config.booking.name_field_hidden)
    if not request.name.strip() and not hidden:
        problems.insert(0, "name: must not be empty")
    if request.slot.end <= request.slot.start:
        problems.insert(0, "slot: end must be after start")
    if problems:
        raise ApiFailure(400, "Invalid request: " + "; ".join(problems))
    return request


_SCALAR = {"text", "multi-line text", "email", "phone", "date", "dropdown"}


def field_problems(values: dict[str, Any], config: model.Config) -> list[str]:
    """What is wrong with ``additional_values`` for this page's ``booking.additional_fields``.

    [choice] Names that are not fields of the page are accepted unchecked and kept with the booking
    (Nylas's own SDK examples book ``{"important": true}`` on pages without fields); a required field
    must be present and non-empty (a required checkbox must be ticked); types: checkbox a bool, number a number,
    multi-select list a list of strings, every other type a string; dropdown and multi-select values
    must be among the options when options are given; ``pattern`` must match a whole string value.
    """
    fields = {f.name: f for f in (config.booking.additional_fields if config.booking else None) or []}
    problems: list[str] = []
    for name, fld in fields.items():
        where = f"additional_values.{name}"
        value = values.get(name)
        if value is None or value == "" or value == [] or (fld.type == "checkbox" and value is False):
            if fld.required:
                problems.append(f"{where}: required")
            continue
        problem = _value_problem(fld, value)
        if problem:
            problems.append(f"{where}: {problem}")
    return problems


def _value_problem(field: model.AdditionalField, value: Any) -> str | None:
    if field.type == "checkbox":
        return None if isinstance(value, bool) else "must be true or false"
    if field.type == "number":
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return None if ok else "must be a number"
    if field.type == "multi-select list":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return "must be a list of strings"
        options = field.multi_select_options
        return "must be among the field's options" if options and not set(value) <= set(options) else None
    if field.type in _SCALAR and not isinstance(value, str):
        return "must be a string"
    if field.type == "dropdown" and field.dropdown_options and value not in field.dropdown_options:
        return "must be one of the field's options"
    if field.type == "email" and (len(value) > model.MAX_EMAIL or not model.EMAIL_RE.fullmatch(value)):
        return "must be an e-mail address"
    if field.pattern and _bounded_pattern(field.pattern):
        if len(value) > MAX_PATTERN_VALUE:
            return f"is longer than {MAX_PATTERN_VALUE} characters, the most a pattern is checked on"
        if not re.fullmatch(field.pattern, value):
            return "does not match the field's pattern"
    return None


MAX_PATTERN_VALUE = 200  # [choice] characters of a value checked against a field's pattern
_MAX_VARIABLE_REPEATS = 3
_UNBOUNDED = {_c.GROUPREF, _c.GROUPREF_EXISTS, _c.ASSERT, _c.ASSERT_NOT}


@functools.lru_cache(maxsize=256)
def _bounded_pattern(pattern: str) -> bool:
    """[choice] Whether a field's ``pattern`` is enforced: only when Python compiles it and its
    backtracking is bounded, since the pattern is the page owner's and ``re`` has no timeout. Bounded
    means: no repetition inside a repetition, no alternation inside one, no backreference or
    lookaround, and at most three repetitions of variable length, so that a match costs at most
    about ``MAX_PATTERN_VALUE ** 3`` steps. Other patterns are not enforced (like ones that do not
    compile), rather than letting one booking hold a worker thread for hours: ``(a+)+$`` does."""
    try:
        tree = _parser.parse(pattern)
    except (re.error, OverflowError, RecursionError):
        return False
    variable = 0
    stack: list[tuple[Any, bool]] = [(list(tree), False)]
    while stack:
        items, under_repeat = stack.pop()
        for op, arg in items:
            if op in _UNBOUNDED:
                return False
            if op in (_c.MAX_REPEAT, _c.MIN_REPEAT, _c.POSSESSIVE_REPEAT):
                low, high, sub = arg
                if under_repeat:
                    return False
                variable += low != high
                stack.append((list(sub), True))
            elif op is _c.BRANCH:
                if under_repeat:
                    return False
                stack.extend((list(branch), under_repeat) for branch in arg[1])
            elif op in (_c.SUBPATTERN, _c.ATOMIC_GROUP):
                stack.append((list(arg[-1] if op is _c.SUBPATTERN else arg), under_repeat))
    return variable <= _MAX_VARIABLE_REPEATS
