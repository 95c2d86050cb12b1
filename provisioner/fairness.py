"""What a change does to round-robin fairness: notes for the plan, and the expected share of bookings.

A round-robin page hands each booking to one of its hosts; which one depends on the method and on
the bookings so far (`provisioner.slots`). Changing the hosts or the method does not move existing
bookings, but it changes who is offered next, and reviewers rarely see that from a diff:

- v2 (``booking.scheduling_method``, the page's access tokens): fairness gives each booking to the
  host with the fewest bookings on the page, so the rotation order changes: a new host (none yet)
  takes the next bookings until it catches up; a removed host's bookings no longer count.
- v3 (``availability_rules.availability_method``, ``participants``): hosts are ordered by when they
  were last booked, never-booked first, so a new host is offered first; ``max-fairness`` offers the
  least recently booked half.

`notes` words this for the plan (pure: plan + desired pages + state in, text out). `booking_share`
runs the slot engine over the preview window, booking each offered start in turn, so the share per
host comes from exactly the rules the emulator serves.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from .changes import Action, Plan
from .pagefile import DesiredPage
from .state.base import State

if TYPE_CHECKING:
    from .slots import Host

Config = Any  # what `compute_slots` reads: a v2 page config, or `slots.Settings` (v3)
V2_METHOD = "config.booking.scheduling_method"
V3_METHOD = "config.availability.availability_rules.availability_method"
V3_HOSTS = "config.participants"


def _method(config: Mapping[str, Any]) -> str | None:
    v2 = (config.get("booking") or {}).get("scheduling_method")
    v3 = ((config.get("availability") or {}).get("availability_rules") or {}).get("availability_method")
    return v2 or v3


def _touches(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith((prefix + ".", prefix + "["))


def notes(plan: Plan, desired: Mapping[str, DesiredPage], state: State) -> tuple[str, ...]:
    """One note per round-robin page whose update or move changes its hosts or its method."""
    out = []
    for change in plan.pages:
        if change.action not in (Action.UPDATE, Action.MOVE) or change.address not in desired:
            continue
        page = desired[change.address]
        record = state.resources.get(change.moved_from or change.address)
        before = _method(record.config) if record is not None else None
        after = _method(page.config)
        v3 = page.grant is not None
        paths = [c.path for c in change.changes]
        hosts = any(p == "hosts" or _touches(p, V3_HOSTS) for p in paths)
        method = any(_touches(p, V2_METHOD) or _touches(p, V3_METHOD) for p in paths)
        if not (hosts or method) or not (before or after):
            continue
        what = []
        if method:
            what.append(f"the method changes from {before or 'none'} to {after or 'none'}")
            if after is None:
                what.append("bookings then go to the first host offered, with no rotation")
            elif "availability" in after:
                what.append("every free host is offered and the least booked one gets the booking")
        if hosts:
            what.append(
                "the hosts change: v3 orders hosts by when they were last booked, never-booked first, so a new "
                "host is offered first" if v3 else
                "the hosts change, so the rotation order changes: fairness gives each booking to the host with "
                "the fewest bookings on this page, so a new host takes the next bookings until it catches up, "
                "and a removed host's bookings no longer count")
        out.append(f"fairness: {change.address}: " + "; ".join(what) +
                   f" (see `provisioner preview {change.address}` for the expected share per host)")
    return tuple(out)


def booking_share(config: Config, hosts: Sequence[Host], begin: datetime, end: datetime, *,
                  duration_minutes: int | None = None) -> tuple[tuple[str, int], ...]:
    """How many bookings each host (by name) gets when every start the page offers between ``begin``
    and ``end`` is booked in turn (each lasting ``duration_minutes``, by default a v2 config's
    ``event.duration``), each by the slot engine's `next_host`. Empty for one host."""
    from .slots import Booking, SlotUnavailable, compute_slots, next_host  # only here: a plan's notes need none

    if len(hosts) < 2:
        return ()
    starts = sorted({s.start for s in compute_slots(config, hosts, [], begin, window_start=begin, window_end=end)})
    duration = duration_minutes or (config.event.duration if config.event and config.event.duration else 30)
    bookings: list[Booking] = []
    for start in starts:
        try:
            host = next_host(config, hosts, bookings, start, now=begin)
        except SlotUnavailable:
            continue
        bookings.append(Booking(start, start + timedelta(minutes=duration), host.account_id))
    counts = Counter(b.account_id for b in bookings)
    return tuple((h.name, counts.get(h.account_id, 0)) for h in hosts)

