"""Every **[choice]** of the slot engine: what it does where the API evidence is silent.

Defaults of left-out config fields, how wall-clock times resolve across daylight-saving changes,
where the slot grid starts, the horizon, expiry, which booking statuses hold a slot, and the round-robin
turn. `Settings.of` reads a v2 config with these defaults filled in; an API package may build
`Settings` itself (the v3 package does: its methods, last-booked order, fairness pool and ``round_to``
grid are below too). Change behaviour here, nowhere else.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from provisioner.apis.nylas_v2.model import Config, OpeningHours
from provisioner.apis.nylas_v2.spec import BOOKING_DEFAULTS
from provisioner.slots.types import Booking, Host, HoursRule

# --- defaults -----------------------------------------------------------------------------------

DEFAULT_TIMEZONE = "UTC"  # [choice] zone of the opening hours when config.timezone is left out
DEFAULT_DURATION = 30  # [choice] event.duration, minutes
DEFAULT_DAYS_IN_FUTURE = 14  # [choice] booking.available_days_in_future
DEFAULT_CAPACITY = 1  # [choice] event.capacity; -1 means no limit
DEFAULT_MIN_NOTICE = BOOKING_DEFAULTS["min_booking_notice"]  # [sdk] minutes
DEFAULT_MIN_BUFFER = BOOKING_DEFAULTS["min_buffer"]  # [sdk] minutes
DEFAULT_OPENING_HOURS: tuple[OpeningHours, ...] = (
    OpeningHours(days=["M", "T", "W", "R", "F"], start="09:00", end="17:00"),
)
"""[choice] Opening hours of a page whose ``opening_hours`` is left out or ``[]``: weekdays 9 to 5."""

HOLDING_STATUSES: frozenset[str] = frozenset({"confirmed", "pending"})
"""[choice] A pending booking (``confirmation_method: manual``, not yet confirmed) holds its slot and
counts as a use and for round robin, exactly like a confirmed one; a cancelled one frees it."""

FAIRNESS = "round-robin-maximize-fairness"
AVAILABILITY = "round-robin-maximize-availability"
EACH_HOST = "each-host"
"""[choice] A page with several hosts and no ``scheduling_method`` offers every host's free slots
separately (several slots at one start, one per free host; the booker's slot names the host)."""

WEEKDAY_LETTERS = "MTWRFSU"  # [ref] index = date.weekday(): R Thursday, S Saturday, U Sunday

# --- v3 methods (the Nylas v3 round-robin guide; the v3 package maps its config onto these) ------

COLLECTIVE = "collective"
"""A slot needs every host free; it names all of them (``Slot.emails``) and goes to the first host."""
MAX_FAIRNESS = "max-fairness"
"""Hosts in last-booked order (`last_booked_order`); the most recently booked half is dropped
(`fairness_pool`) and the rest offered as with max-availability; when the rest has no slot at all,
every host is offered (`FAIRNESS_FALLBACK_OVER_HORIZON`)."""
FAIRNESS_FALLBACK_OVER_HORIZON = True
"""[choice] "No slot" (the guide's fallback condition) is judged over the whole bookable horizon
(notice to ``available_days_in_future``), not over the window asked for, so availability for any
window and the check of a booking at one start agree."""
MAX_AVAILABILITY = "max-availability"
"""Every host is offered; a start goes to the first free host in last-booked order."""
V3_ROUND_ROBIN = frozenset({MAX_FAIRNESS, MAX_AVAILABILITY})


def default_interval(duration: int) -> int:
    """[choice] ``booking.interval_minutes`` when left out: the event duration (back-to-back slots)."""
    return duration


# --- opening hours and time ----------------------------------------------------------------------


def local_to_utc(day: date, hhmm: str, zone: ZoneInfo) -> datetime:
    """[choice] The instant of a wall-clock time on a local date, as RFC 5545 resolves it.

    A time that does not exist (spring-forward gap, 02:30 on 2026-03-08 in Los Angeles) is read with
    the offset before the gap, i.e. moved forward by the gap (03:30 PDT). A time that happens twice
    (fall-back, 01:30 on 2026-11-01) is its first occurrence (PDT). Both are Python's ``fold=0``.
    So a window opening in the repeated hour stays open through its second pass (01:30–02:00 that day
    is 90 minutes long); windows that do not touch the changing hours are unaffected.
    """
    hour, minute = int(hhmm[:2]), int(hhmm[3:])
    return datetime.combine(day, time(hour, minute), tzinfo=zone).astimezone(UTC)


def hours_rule(rule: OpeningHours) -> HoursRule:
    """A v2 opening-hours rule as the engine reads it (the zone is the page's)."""
    return HoursRule(weekdays=frozenset(WEEKDAY_LETTERS.index(d) for d in rule.days), start=rule.start,
                     end=rule.end, account_id=rule.account_id)


def rules_for(account_id: str, rules: Sequence[HoursRule]) -> tuple[HoursRule, ...]:
    """[choice] The opening-hour rules of one host: those scoped to it plus those without
    ``account_id`` (they add up; a scoped rule does not replace the general ones)."""
    return tuple(r for r in rules if r.account_id is None or r.account_id == account_id)


def grid_origin(window_start: int, zone: ZoneInfo) -> int:
    """[choice] Where the slot-start grid of an opening window starts: the local full hour in which
    the window opens. Starts step by ``interval_minutes`` in absolute time from there, so 09:00–17:00
    by 45 minutes gives 09:00, 09:45, …; notice never yields odd starts like 10:07; and a window that
    spans a daylight-saving change keeps whole-hour steps on the new wall clock."""
    local = datetime.fromtimestamp(window_start, zone)
    return window_start - local.minute * 60 - local.second


def rounded_origin(window_start: int, zone: ZoneInfo, round_s: int) -> int:
    """[choice] With ``round_to`` (v3), slot starts lie on local wall-clock multiples of it: the grid
    of a window starts at the first local multiple of ``round_s`` at or after the window opens."""
    offset = int(datetime.fromtimestamp(window_start, zone).utcoffset().total_seconds())  # type: ignore[union-attr]
    local = window_start + offset
    return -(-local // round_s) * round_s - offset


def horizon_end(now: datetime, days: int) -> datetime:
    """[choice] The latest end of a bookable slot: ``now`` plus ``available_days_in_future`` × 24 h."""
    return now + timedelta(days=days)


# --- bookings, expiry and round robin -----------------------------------------------------------


def booking_counts(hosts: Sequence[Host], bookings: Sequence[Booking]) -> dict[str, int]:
    """Holding (confirmed or pending) bookings on this page per host; other accounts are ignored."""
    counts = {h.account_id: 0 for h in hosts}
    for b in bookings:
        if b.status in HOLDING_STATUSES and b.account_id in counts:
            counts[b.account_id] += 1
    return counts


def is_expired(config: Config, bookings: Sequence[Booking], now: datetime) -> bool:
    """[choice] ``expire_after``: the page takes no more bookings once it holds ``uses`` bookings
    (confirmed or pending; -1 or absent: no limit; 0: none at all), or once ``now`` reaches ``date``
    (unix seconds; -1 or absent: never). Slots are not cut at ``date``: it is when the page expires."""
    expire = config.expire_after
    if expire is None:
        return False
    if expire.uses is not None and expire.uses != -1:
        if sum(1 for b in bookings if b.status in HOLDING_STATUSES) >= expire.uses:
            return True
    return expire.date is not None and expire.date != -1 and now.timestamp() >= expire.date


def fairness_turn(hosts: Sequence[Host], bookings: Sequence[Booking]) -> Host:
    """[choice] The host next in turn on a fairness page: the fewest holding bookings on this page;
    among equals, the first in page order after the host of the latest holding booking (cyclic).
    A group booking counts once per booking."""
    counts = booking_counts(hosts, bookings)
    ids = [h.account_id for h in hosts]
    last = next((b.account_id for b in reversed(bookings) if b.status in HOLDING_STATUSES), None)
    begin = ids.index(last) + 1 if last in ids else 0
    order = [hosts[(begin + i) % len(hosts)] for i in range(len(hosts))]
    fewest = min(counts.values())
    return next(h for h in order if counts[h.account_id] == fewest)


def least_booked(free: Sequence[Host], counts: Mapping[str, int]) -> Host:
    """[choice] On an availability page, the free host a slot goes to: fewest holding bookings on
    this page, ties broken by page order (``free`` is in page order)."""
    return min(free, key=lambda h: counts[h.account_id])


def last_booked_order(hosts: Sequence[Host], history: Sequence[Booking]) -> list[Host]:
    """[ref v3 guide] Hosts by when they were last booked (``history`` is in booking order; only
    holding bookings count): never-booked hosts first, alphabetically by e-mail [choice: the e-mail is
    what the guide's "alphabetically" can sort by], then from least to most recently booked."""
    last: dict[str, int] = {}
    for i, b in enumerate(history):
        if b.status in HOLDING_STATUSES:
            last[b.account_id] = i
    never = sorted((h for h in hosts if h.account_id not in last), key=lambda h: (h.email, h.account_id))
    booked = sorted((h for h in hosts if h.account_id in last), key=lambda h: last[h.account_id])
    return [*never, *booked]


def fairness_pool(ordered: Sequence[Host]) -> list[Host]:
    """[ref v3 guide] max-fairness drops the most recently booked half: of n hosts in last-booked
    order the first ``n - n // 2`` stay [choice: an odd count keeps the middle host]."""
    return list(ordered[: len(ordered) - len(ordered) // 2])


PREFER_OPEN_GROUP = True
"""[choice] A group slot (capacity > 1) that already has bookings but room left is offered with the
host holding it, whatever the round-robin turn, in preference to a new slot at the same start."""



# --- settings ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    """The config values the engine uses, defaults filled in (minutes and seconds as named)."""

    zone: ZoneInfo
    rules: tuple[HoursRule, ...]
    duration_s: int
    step_s: int
    notice_s: int
    buffer_s: int  # before each slot (and after it, unless buffer_after_s says otherwise)
    days: int
    capacity: float  # math.inf for no limit
    method: str | None
    buffer_after_s: int | None = None  # v3 buffer.after; None: buffer_s
    round_s: int | None = None  # v3 round_to: starts on local multiples of it (`rounded_origin`)

    @property
    def after_s(self) -> int:
        return self.buffer_s if self.buffer_after_s is None else self.buffer_after_s

    @classmethod
    def of(cls, config: Config) -> Settings:
        """Read a config, filling left-out fields with the defaults above."""
        booking, event = config.booking, config.event
        duration = (event.duration if event else None) or DEFAULT_DURATION
        step = (booking.interval_minutes if booking else None) or default_interval(duration)
        capacity = event.capacity if event and event.capacity is not None else DEFAULT_CAPACITY

        def opt(name: str, default: int) -> int:
            value = getattr(booking, name) if booking else None
            return default if value is None else value

        return cls(
            zone=ZoneInfo(config.timezone or DEFAULT_TIMEZONE),
            rules=tuple(hours_rule(r) for r in (booking.opening_hours if booking else None) or DEFAULT_OPENING_HOURS),
            duration_s=duration * 60,
            step_s=step * 60,
            notice_s=opt("min_booking_notice", DEFAULT_MIN_NOTICE) * 60,
            buffer_s=opt("min_buffer", DEFAULT_MIN_BUFFER) * 60,
            days=opt("available_days_in_future", DEFAULT_DAYS_IN_FUTURE),
            capacity=math.inf if capacity == -1 else capacity,
            method=booking.scheduling_method if booking else None,
        )
