"""The bookable time slots of a scheduling page: pure, no I/O, no clock, no randomness.

    compute_slots(config, hosts, bookings, now) -> [Slot]      what the time-slots endpoint shows
    next_host(config, hosts, bookings, slot_start, now=...)    who a booking at that start goes to

Contract:
- Every datetime in and out is timezone-aware; slots come out in UTC, sorted by ``(start, account_id)``.
- ``hosts`` are the page's accounts in page order (the order round robin turns in). ``Host.busy`` is
  the host's busy time on its availability calendars, **without** this page's own bookings: those
  come in ``bookings`` (in the order they were made), because a group slot must not be blocked by
  its own bookings.
- The same inputs always give the same output.

The v3 API's semantics are parameters, not a copy: its package builds a `Settings` (per-rule zones,
exdates and one-day rules in `HoursRule`, separate buffers, ``round_to``) with one of the methods
`COLLECTIVE`, `MAX_FAIRNESS`, `MAX_AVAILABILITY`, and passes the round-robin ``history``.

Every behaviour the API evidence leaves open is a constant or a small function tagged **[choice]**
in `provisioner.slots.choices`, and nowhere else.
"""

from provisioner.slots.choices import (
    COLLECTIVE,
    MAX_AVAILABILITY,
    MAX_FAIRNESS,
    Settings,
    booking_counts,
    fairness_pool,
    fairness_turn,
    last_booked_order,
    local_to_utc,
)
from provisioner.slots.engine import compute_slots, next_host
from provisioner.slots.types import Booking, BookingStatus, Host, HoursRule, Interval, Slot, SlotUnavailable

__all__ = [
    "COLLECTIVE", "MAX_AVAILABILITY", "MAX_FAIRNESS",
    "Booking", "BookingStatus", "Host", "HoursRule", "Interval", "Settings", "Slot", "SlotUnavailable",
    "booking_counts", "compute_slots", "fairness_pool", "fairness_turn", "last_booked_order", "local_to_utc",
    "next_host",
]
