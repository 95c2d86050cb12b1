"""Invariants of the slot engine over generated pages, calendars and bookings (hypothesis).

Checked independently of the engine's own arithmetic: busy time by brute force over every block,
opening hours by reading each 5-minute step of a slot on the page's wall clock, round robin against
the same page computed one host at a time.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from provisioner.apis.nylas_v2.model import Config
from provisioner.slots import (
    Booking,
    Host,
    Interval,
    Slot,
    booking_counts,
    compute_slots,
    fairness_turn,
    next_host,
)

ZONES = ["UTC", "Europe/Paris", "America/Los_Angeles", "Asia/Kolkata", "Australia/Sydney"]
IDS = ["acct-a", "acct-b", "acct-c", "acct-d"]
YEAR = datetime(2026, 1, 1, tzinfo=UTC)
STEP = timedelta(minutes=5)
METHODS = [None, "round-robin-maximize-fairness", "round-robin-maximize-availability"]
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@st.composite
def rules(draw: st.DrawFn, hosts: int) -> list[dict[str, Any]]:
    """Opening-hour rules on 5-minute boundaries from 05:00 (clear of every zone's DST change)."""
    out = []
    for n in range(draw(st.integers(1, 3))):
        start = draw(st.integers(60, 275)) * 5
        end = draw(st.integers(start // 5 + 1, 287)) * 5
        rule = {"days": draw(st.lists(st.sampled_from("MTWRFSU"), min_size=3, max_size=7, unique=True)),
                "start": hhmm(start), "end": hhmm(end)}
        if n and draw(st.booleans()):  # the first rule is for every host
            rule["account_id"] = IDS[draw(st.integers(0, hosts - 1))]
        out.append(rule)
    return out


@st.composite
def scenarios(
    draw: st.DrawFn, min_hosts: int = 1, method: str | None = None, bookings: bool = True
) -> dict[str, Any]:
    """A page, its hosts (with busy blocks), holding and cancelled bookings, and now."""
    n = draw(st.integers(min_hosts, 3 if min_hosts < 4 else 4))
    now = YEAR + timedelta(seconds=draw(st.integers(0, 364 * 86400)))
    days = draw(st.integers(1, 5))
    config = Config.model_validate({
        "timezone": draw(st.sampled_from(ZONES)),
        "event": {"duration": draw(st.sampled_from([15, 30, 45, 60, 90]))},
        "booking": {
            "opening_hours": draw(rules(n)),
            "interval_minutes": draw(st.none() | st.sampled_from([5, 10, 15, 30, 45, 60])),
            "min_booking_notice": draw(st.integers(0, 240)),
            "min_buffer": draw(st.sampled_from([0, 5, 15, 30, 60])),
            "available_days_in_future": days,
            "scheduling_method": draw(st.sampled_from(METHODS)) if method is None else method,
        },
    })
    horizon = days * 24 * 60

    base = now.replace(minute=now.minute - now.minute % 5, second=0)  # on the slot grid's 5-minute marks
    jitter = st.sampled_from([0, 0, 0, -1, 1, 59])  # seconds: edges that touch, or miss by one second

    def span(max_len: int) -> Interval:
        start = base + timedelta(minutes=5 * draw(st.integers(-24, horizon // 5)), seconds=draw(jitter))
        end = start + timedelta(minutes=5 * draw(st.integers(0, max_len // 5)), seconds=draw(jitter))
        return Interval(start, max(start, end))

    hosts = [Host(IDS[i], f"Host {i}", f"h{i}@example.com", f"cal-{i}",
                  tuple(span(240) for _ in range(draw(st.integers(0, 12))))) for i in range(n)]
    booked = []
    for _ in range(draw(st.integers(0, 6)) if bookings else 0):
        when = span(0)
        host = IDS[draw(st.integers(0, n - 1))]
        status = draw(st.sampled_from(["confirmed", "pending", "cancelled"]))
        booked.append(Booking(when.start, when.start + timedelta(minutes=30), host, status))
    return {"config": config, "hosts": hosts, "bookings": booked, "now": now}


def in_hours(slot: Slot, config: Config) -> bool:
    """Every 5-minute step of the slot falls inside a rule of its host on the page's wall clock."""
    zone = ZoneInfo(config.timezone or "UTC")
    applicable = [r for r in config.booking.opening_hours if r.account_id in (None, slot.account_id)]
    t = slot.start
    while t < slot.end:
        local = t.astimezone(zone)
        clock, letter = local.strftime("%H:%M"), "MTWRFSU"[local.weekday()]
        if not any(letter in r.days and r.start <= clock < r.end for r in applicable):
            return False
        t += STEP
    return True


@SETTINGS
@given(scenarios())
def test_every_slot_is_free_in_hours_and_within_notice_and_horizon(case: dict[str, Any]) -> None:
    config, hosts, now = case["config"], case["hosts"], case["now"]
    booking = config.booking
    slots = compute_slots(config, hosts, case["bookings"], now)
    buffer = timedelta(minutes=booking.min_buffer)
    by_id = {h.account_id: h for h in hosts}
    for slot in slots:
        assert slot.end - slot.start == timedelta(minutes=config.event.duration)
        assert slot.start >= now + timedelta(minutes=booking.min_booking_notice)
        assert slot.end <= now + timedelta(days=booking.available_days_in_future)
        assert in_hours(slot, config), slot
        host = by_id[slot.account_id]
        blocks = [*host.busy, *(Interval(b.start, b.end) for b in case["bookings"]
                                if b.account_id == host.account_id and b.status != "cancelled")]
        for block in blocks:
            assert not (slot.start < block.end + buffer and block.start - buffer < slot.end), (slot, block)
        assert (slot.calendar_id, slot.host_name, slot.emails) == (host.booking_calendar_id, host.name,
                                                                     (host.email,))
    keys = [(s.start, s.account_id) for s in slots]
    assert keys == sorted(set(keys))
    if len(hosts) > 1 and booking.scheduling_method:
        assert len({s.start for s in slots}) == len(slots)  # one host per start


@SETTINGS
@given(scenarios(min_hosts=2))
def test_round_robin_agrees_with_each_host_alone(case: dict[str, Any]) -> None:
    """Any method offers only starts some host has free; availability offers all of them, each to a
    least-booked free host; fairness offers exactly the host in turn's; no method offers every pair."""
    config, hosts, bookings, now = case["config"], case["hosts"], case["bookings"], case["now"]
    alone = {h.account_id: {s.start for s in compute_slots(config, [h], bookings, now)} for h in hosts}
    slots = compute_slots(config, hosts, bookings, now)
    method = config.booking.scheduling_method
    if method is None:
        assert {(s.start, s.account_id) for s in slots} == {(t, a) for a, ts in alone.items() for t in ts}
    elif method == "round-robin-maximize-fairness":
        turn = fairness_turn(hosts, bookings).account_id
        assert [(s.start, s.account_id) for s in slots] == [(t, turn) for t in sorted(alone[turn])]
    else:
        assert {s.start for s in slots} == set().union(*alone.values())
        counts = booking_counts(hosts, bookings)
        for slot in slots:
            free = [a for a, ts in alone.items() if slot.start in ts]
            assert counts[slot.account_id] == min(counts[a] for a in free)
            if len(free) == 1:
                assert slot.account_id == free[0]
            assert next_host(config, hosts, bookings, slot.start, now=now).account_id == slot.account_id


@SETTINGS
@given(scenarios(min_hosts=2, method="round-robin-maximize-fairness", bookings=False), st.integers(1, 12))
def test_fairness_keeps_bookings_even(case: dict[str, Any], k: int) -> None:
    """Booking the first offered slot K times: every booking goes to the host in turn, and the hosts'
    counts never differ by more than one."""
    config, hosts, now = case["config"], case["hosts"], case["now"]
    made: list[Booking] = []
    for _ in range(k):
        slots = compute_slots(config, hosts, made, now)
        if not slots:
            break
        first = slots[0]
        assert first.account_id == fairness_turn(hosts, made).account_id
        assert next_host(config, hosts, made, first.start, now=now).account_id == first.account_id
        made.append(Booking(first.start, first.end, first.account_id, "confirmed"))
        counts = booking_counts(hosts, made).values()
        assert max(counts) - min(counts) <= 1
