"""The slot engine: page config + hosts' busy time + bookings + now -> bookable slots.

Integer unix seconds inside; busy time per host is merged once and queried with bisect, so a page
costs O((hosts x candidate starts) x log(busy blocks)).
"""

from __future__ import annotations

import bisect
import dataclasses
import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from provisioner.apis.nylas_v2.model import Config
from provisioner.slots.choices import (
    COLLECTIVE,
    EACH_HOST,
    FAIRNESS,
    HOLDING_STATUSES,
    MAX_AVAILABILITY,
    MAX_FAIRNESS,
    PREFER_OPEN_GROUP,
    V3_ROUND_ROBIN,
    Settings,
    booking_counts,
    fairness_pool,
    fairness_turn,
    grid_origin,
    horizon_end,
    is_expired,
    last_booked_order,
    least_booked,
    local_to_utc,
    rounded_origin,
    rules_for,
)
from provisioner.slots.types import Booking, Host, HoursRule, Interval, Slot, SlotUnavailable, aware


def compute_slots(
    config: Config | Settings,
    hosts: Sequence[Host],
    bookings: Sequence[Booking],
    now: datetime,
    *,
    other_events: Mapping[str, Sequence[Interval]] | None = None,
    window_start: datetime | None = None,
    window_end: datetime | None = None,
    history: Sequence[Booking] | None = None,
) -> list[Slot]:
    """The slots a booker can take at ``now``, sorted by ``(start, account_id)``.

    ``config`` is a v2 page config, or `Settings` an API package built (the v3 methods are
    `choices.COLLECTIVE`, `MAX_FAIRNESS`, `MAX_AVAILABILITY`). ``other_events`` adds busy blocks per
    account id to ``Host.busy``. ``window_start`` and ``window_end`` narrow the answer to slots
    starting in ``[window_start, window_end)`` (the notice and the horizon still apply). In the
    round-robin modes there is at most one slot per start. ``history`` (v3 round robin: the bookings
    that order the hosts, in booking order) defaults to ``bookings``.
    """
    for value, what in ((now, "now"), (window_start, "window_start"), (window_end, "window_end")):
        if value is not None:
            aware(value, what)
    if not hosts or (isinstance(config, Config) and is_expired(config, bookings, now)):
        return []
    cfg = config if isinstance(config, Settings) else Settings.of(config)
    if cfg.method == MAX_FAIRNESS and len(hosts) > 1:
        hosts, cfg = _fairness_hosts(cfg, hosts, bookings, now, other_events, history)
    first = math.ceil(now.timestamp()) + cfg.notice_s
    last = math.floor(horizon_end(now, cfg.days).timestamp()) - cfg.duration_s  # latest start
    if window_start is not None:
        first = max(first, math.ceil(window_start.timestamp()))
    if window_end is not None:
        last = min(last, math.ceil(window_end.timestamp()) - 1)
    if first > last:
        return []

    method = cfg.method if len(hosts) > 1 else None
    method = method or EACH_HOST
    turn = fairness_turn(hosts, bookings).account_id if method == FAIRNESS else None
    extra = other_events or {}
    grids: dict[tuple[int, ...], list[int]] = {}
    offers: dict[int, list[tuple[Host, bool]]] = {}  # start -> [(free host, holds an open group there)]
    for host in hosts:
        rules = rules_for(host.account_id, cfg.rules)
        key = tuple(id(rule) for rule in rules)  # hosts with the same rules share one grid
        if key not in grids:
            grids[key] = _candidate_starts(rules, cfg, first, last)
        view = _HostView(host, extra.get(host.account_id, ()), bookings, cfg)
        only_open = turn is not None and host.account_id != turn
        for start, is_open in view.free(grids[key], only_open=only_open):
            offers.setdefault(start, []).append((host, is_open))

    counts = booking_counts(hosts, bookings)
    if method == COLLECTIVE or method in V3_ROUND_ROBIN:
        return _v3_slots(method, hosts, offers, history if history is not None else bookings, cfg.duration_s)
    chosen: list[tuple[int, Host]] = []
    for start, free in offers.items():
        if method == EACH_HOST:
            chosen.extend((start, host) for host, _ in free)
            continue
        open_groups = [host for host, is_open in free if is_open]
        if PREFER_OPEN_GROUP and open_groups:
            chosen.append((start, open_groups[0]))
        elif method == FAIRNESS:
            chosen.extend((start, host) for host, _ in free if host.account_id == turn)
        else:
            chosen.append((start, least_booked([host for host, _ in free], counts)))
    chosen.sort(key=lambda item: (item[0], item[1].account_id))
    return [_slot(start, cfg.duration_s, host) for start, host in chosen]


def next_host(
    config: Config | Settings,
    hosts: Sequence[Host],
    bookings: Sequence[Booking],
    slot_start: datetime,
    *,
    now: datetime,
    account_id: str | None = None,
    other_events: Mapping[str, Sequence[Interval]] | None = None,
    history: Sequence[Booking] | None = None,
) -> Host:
    """The host a booking starting at ``slot_start`` (lasting ``event.duration``) goes to, made at
    ``now``: the host of the slot `compute_slots` offers there (fairness: the host in turn; availability:
    the least-booked free host; no method: the host named by ``account_id``, else the first offered).
    With ``account_id``, only that host will do.

    Raises `SlotUnavailable` when no such slot is offered (taken, outside the hours, too soon, …).
    """
    slots = compute_slots(config, hosts, bookings, now, other_events=other_events, history=history,
                          window_start=slot_start, window_end=slot_start + timedelta(seconds=1))
    for slot in slots:
        if slot.start == slot_start and (account_id is None or slot.account_id == account_id):
            return next(h for h in hosts if h.account_id == slot.account_id)
    raise SlotUnavailable(slot_start, account_id)


def _fairness_hosts(cfg: Settings, hosts: Sequence[Host], bookings: Sequence[Booking], now: datetime,
                    other_events: Mapping[str, Sequence[Interval]] | None,
                    history: Sequence[Booking] | None) -> tuple[Sequence[Host], Settings]:
    """v3 max-fairness as max-availability over the hosts it offers: the less recently booked half
    (`fairness_pool`), or every host when the half has no slot in the whole bookable horizon
    ([choice] `choices.FAIRNESS_FALLBACK_OVER_HORIZON`)."""
    as_availability = dataclasses.replace(cfg, method=MAX_AVAILABILITY)
    pool = fairness_pool(last_booked_order(hosts, history if history is not None else bookings))
    if compute_slots(as_availability, pool, bookings, now, other_events=other_events, history=history):
        return pool, as_availability
    return hosts, as_availability


def _v3_slots(method: str, hosts: Sequence[Host], offers: Mapping[int, list[tuple[Host, bool]]],
              history: Sequence[Booking], duration_s: int) -> list[Slot]:
    """The v3 methods: collective (every host free; the slot names all, goes to the first host), or
    round robin (a start goes to its first free host in last-booked order)."""
    ordered = last_booked_order(hosts, history)
    out: list[Slot] = []
    for start in sorted(offers):
        free = {host.account_id for host, _ in offers[start]}
        if method == COLLECTIVE:
            if len(free) == len(hosts):
                out.append(_slot(start, duration_s, hosts[0], tuple(h.email for h in hosts)))
            continue
        out.append(_slot(start, duration_s, next(h for h in ordered if h.account_id in free)))
    return out


def _slot(start: int, duration_s: int, host: Host, emails: tuple[str, ...] | None = None) -> Slot:
    return Slot(
        start=datetime.fromtimestamp(start, UTC),
        end=datetime.fromtimestamp(start + duration_s, UTC),
        account_id=host.account_id,
        calendar_id=host.booking_calendar_id,
        host_name=host.name,
        emails=emails or (host.email,),
    )


def _candidate_starts(rules: Sequence[HoursRule], cfg: Settings, first: int, last: int) -> list[int]:
    """Sorted slot starts in ``[first, last]`` whose whole slot lies inside the opening hours."""
    zone = cfg.zone
    day = datetime.fromtimestamp(first, zone).date() - timedelta(days=1)
    end_day = datetime.fromtimestamp(last + cfg.duration_s, zone).date() + timedelta(days=1)
    windows: list[tuple[int, int]] = []
    zone_at: dict[int, ZoneInfo] = {}  # the zone of the rule opening at an instant (the first such rule)
    while day <= end_day:
        for rule in rules:
            if rule.opens_on(day):
                rule_zone = rule.zone or zone
                opens = int(local_to_utc(day, rule.start, rule_zone).timestamp())
                closes = int(local_to_utc(day, rule.end, rule_zone).timestamp())
                if opens < closes:
                    windows.append((opens, closes))
                    zone_at.setdefault(opens, rule_zone)
        day += timedelta(days=1)
    starts: list[int] = []
    for opens, closes in _merge(windows):
        local = zone_at[opens]  # a merged window opens where its earliest rule opens: grid in that rule's zone
        origin = grid_origin(opens, local) if cfg.round_s is None else rounded_origin(opens, local, cfg.round_s)
        t = origin + -(-(max(opens, first) - origin) // cfg.step_s) * cfg.step_s  # first grid point >= both
        stop = min(last, closes - cfg.duration_s)
        while t <= stop:
            starts.append(t)
            t += cfg.step_s
    return starts


def _merge(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted, disjoint union of spans; spans that touch are joined."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


class _Busy:
    """Merged busy spans with O(log n) overlap queries."""

    def __init__(self, spans: Iterable[tuple[int, int]]) -> None:
        merged = _merge(spans)
        self.starts = [s for s, _ in merged]
        self.ends = [e for _, e in merged]

    def overlaps(self, start: int, end: int) -> bool:
        # Spans are disjoint and sorted, so the last one starting before `end` reaches furthest.
        i = bisect.bisect_left(self.starts, end) - 1
        return i >= 0 and self.ends[i] > start


class _HostView:
    """One host's busy time (calendars + this page's holding bookings, each widened by the buffer)."""

    def __init__(
        self, host: Host, extra: Sequence[Interval], bookings: Sequence[Booking], cfg: Settings
    ) -> None:
        # A busy block [s, e) keeps the slot's "after" buffer before s and its "before" buffer after e.
        before, after, self.duration_s = cfg.buffer_s, cfg.after_s, cfg.duration_s
        calendar = [_span(i.start, i.end, after, before) for i in (*host.busy, *extra)]
        held = [_span(b.start, b.end, 0, 0) for b in bookings
                if b.account_id == host.account_id and b.status in HOLDING_STATUSES]
        self.held = [(s - after, e + before, (s, e)) for s, e in held]
        self.blocked = _Busy([*calendar, *((s, e) for s, e, _ in self.held)])
        per_key: dict[tuple[int, int], int] = {}
        for key in held:
            per_key[key] = per_key.get(key, 0) + 1
        self.open_groups = {key for key, n in per_key.items() if n < cfg.capacity}
        self.calendar = _Busy(calendar) if self.open_groups else self.blocked

    def free(self, starts: Sequence[int], *, only_open: bool) -> Iterable[tuple[int, bool]]:
        """``(start, holds an open group there)`` for each start the host can take."""
        if only_open:
            allowed = set(starts)
            starts = sorted(s for s, _ in self.open_groups if s in allowed)
        for start in starts:
            end = start + self.duration_s
            if (start, end) in self.open_groups:
                # A group slot with room left: only its own bookings may overlap it.
                if not self.calendar.overlaps(start, end) and not any(
                    s < end and start < e for s, e, key in self.held if key != (start, end)
                ):
                    yield start, True
            elif not self.blocked.overlaps(start, end):
                yield start, False


def _span(start: datetime, end: datetime, widen_start_s: int, widen_end_s: int) -> tuple[int, int]:
    return math.floor(start.timestamp()) - widen_start_s, math.ceil(end.timestamp()) + widen_end_s
