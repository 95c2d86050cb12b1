"""The engine's values: what goes in (intervals, hosts, bookings) and what comes out (slots)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal
from zoneinfo import ZoneInfo


def aware(value: datetime, what: str) -> None:
    """Refuse a naive datetime: the engine has no zone to guess it in."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, got naive {value.isoformat()}")


@dataclass(frozen=True)
class Interval:
    """A half-open span of time ``[start, end)``; aware datetimes, ``start <= end``."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        aware(self.start, "Interval.start")
        aware(self.end, "Interval.end")
        if self.end < self.start:
            raise ValueError(f"Interval ends ({self.end.isoformat()}) before it starts "
                             f"({self.start.isoformat()})")


@dataclass(frozen=True)
class HoursRule:
    """One opening-hours rule as the engine reads it, whatever the API wrote.

    ``weekdays`` are ``date.weekday()`` numbers (Monday 0 … Sunday 6); ``start``/``end`` are local
    ``HH:MM`` wall-clock times in ``zone`` (None: the settings' zone). ``account_id`` scopes the rule
    to one host (None: every host). ``on_date`` makes it a one-day rule (``weekdays`` ignored);
    ``exdates`` are local dates on which a weekly rule does not open.
    """

    weekdays: frozenset[int]
    start: str
    end: str
    zone: ZoneInfo | None = None
    account_id: str | None = None
    on_date: date | None = None
    exdates: frozenset[date] = frozenset()

    def opens_on(self, day: date) -> bool:
        if self.on_date is not None:
            return day == self.on_date
        return day.weekday() in self.weekdays and day not in self.exdates


@dataclass(frozen=True)
class Host:
    """An account of the page. ``busy``: its busy blocks on all its availability calendars (the
    caller gathers them; overlaps are fine), excluding this page's bookings."""

    account_id: str
    name: str
    email: str
    booking_calendar_id: str
    busy: tuple[Interval, ...] = ()


BookingStatus = Literal["confirmed", "pending", "cancelled"]


@dataclass(frozen=True)
class Booking:
    """An existing booking on this page."""

    start: datetime
    end: datetime
    account_id: str
    status: BookingStatus = "confirmed"


@dataclass(frozen=True)
class Slot:
    """A bookable slot, as the time-slots endpoint lists it (``emails``: the host's address)."""

    start: datetime
    end: datetime
    account_id: str
    calendar_id: str
    host_name: str
    emails: tuple[str, ...]


class SlotUnavailable(LookupError):
    """No host can take a booking at ``slot_start`` (for ``account_id``, when one was asked for)."""

    def __init__(self, slot_start: datetime, account_id: str | None) -> None:
        self.slot_start = slot_start
        self.account_id = account_id
        who = f" with account {account_id}" if account_id else ""
        super().__init__(f"no bookable slot at {slot_start.isoformat()}{who}")
