"""The slot engine on worked examples: hours, notice, buffer, horizon, capacity, expiry, round robin."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from provisioner.apis.nylas_v2.model import Config
from provisioner.slots import (
    Booking,
    Host,
    Interval,
    SlotUnavailable,
    compute_slots,
    fairness_turn,
    next_host,
)

PARIS = ZoneInfo("Europe/Paris")
# Monday 2026-06-01, 06:00 UTC = 08:00 in Paris (CEST, +02:00).
NOW = datetime(2026, 6, 1, 6, 0, tzinfo=UTC)
A = Host("acct-a", "Ann", "ann@example.com", "cal-a")
B = Host("acct-b", "Bob", "bob@example.com", "cal-b")
C = Host("acct-c", "Cat", "cat@example.com", "cal-c")


def page(booking: dict[str, Any] | None = None, **config: Any) -> Config:
    """A Paris page, weekdays 09:00–17:00, 30-minute slots, one day ahead, plus overrides."""
    base = {"opening_hours": [{"days": ["M", "T", "W", "R", "F"], "start": "09:00", "end": "17:00"}],
            "available_days_in_future": 1}
    return Config.model_validate({"timezone": "Europe/Paris", "booking": base | (booking or {}), **config})


def paris(day: int, hhmm: str) -> datetime:
    """A Paris wall-clock time in June 2026, as an aware datetime."""
    return datetime(2026, 6, day, int(hhmm[:2]), int(hhmm[3:]), tzinfo=PARIS)


def local_starts(slots: list[Any], zone: ZoneInfo = PARIS) -> list[str]:
    return [s.start.astimezone(zone).strftime("%a %H:%M") for s in slots]


def pairs(slots: list[Any]) -> list[tuple[str, str]]:
    """``(account_id, local start)`` of each slot."""
    return [(s.account_id, t) for s, t in zip(slots, local_starts(slots), strict=True)]


def booked(start: datetime, host: Host = A, status: str = "confirmed", minutes: int = 30) -> Booking:
    end = start + timedelta(minutes=minutes)
    return Booking(start, end, host.account_id, status)  # type: ignore[arg-type]


# --- one host ------------------------------------------------------------------------------------


def test_opening_hours_in_the_page_zone_step_by_duration() -> None:
    slots = compute_slots(page(), [A], [], NOW)
    assert local_starts(slots) == [f"Mon {h:02d}:{m:02d}" for h in range(9, 17) for m in (0, 30)]
    assert all(s.end - s.start == timedelta(minutes=30) for s in slots)
    first = slots[0]
    assert (first.start, first.account_id, first.calendar_id, first.host_name, first.emails) == (
        datetime(2026, 6, 1, 7, 0, tzinfo=UTC), "acct-a", "cal-a", "Ann", ("ann@example.com",))


def test_left_out_fields_take_the_named_defaults() -> None:
    # UTC, weekdays 09:00–17:00, 30 minutes, 14 days: 10 weekdays x 16 slots (Mon 06:00 UTC start).
    slots = compute_slots(Config(), [A], [], NOW)
    assert len(slots) == 10 * 16
    assert slots[0].start == datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
    assert slots[-1].end == datetime(2026, 6, 12, 17, 0, tzinfo=UTC)
    assert {s.start.weekday() for s in slots} == {0, 1, 2, 3, 4}


def test_weekend_days_and_per_day_letters() -> None:
    config = page({"opening_hours": [{"days": ["S", "U"], "start": "10:00", "end": "11:00"}],
                   "available_days_in_future": 7})
    assert local_starts(compute_slots(config, [A], [], NOW)) == [
        "Sat 10:00", "Sat 10:30", "Sun 10:00", "Sun 10:30"]


def test_interval_steps_from_the_local_hour_and_slots_fit_inside_the_hours() -> None:
    hours = [{"days": ["M"], "start": "09:10", "end": "12:00"}]
    config = page({"interval_minutes": 45, "opening_hours": hours}, event={"duration": 60})
    assert local_starts(compute_slots(config, [A], [], NOW)) == ["Mon 09:45", "Mon 10:30"]


def test_notice_rounds_up_to_the_grid() -> None:
    now = paris(1, "10:07")
    assert local_starts(compute_slots(page(), [A], [], now))[:2] == ["Mon 10:30", "Mon 11:00"]
    noticed = page({"min_booking_notice": 60})
    assert local_starts(compute_slots(noticed, [A], [], now))[:1] == ["Mon 11:30"]


def test_buffer_keeps_slots_clear_of_busy_blocks() -> None:
    host = Host(A.account_id, A.name, A.email, A.booking_calendar_id,
                (Interval(paris(1, "12:00"), paris(1, "13:00")),))
    starts = local_starts(compute_slots(page({"min_buffer": 15}), [host], [], NOW))
    assert "Mon 11:00" in starts and "Mon 13:30" in starts
    assert not {"Mon 11:30", "Mon 12:00", "Mon 12:30", "Mon 13:00"} & set(starts)
    # Without a buffer, a slot may touch a busy block.
    starts = local_starts(compute_slots(page(), [host], [], NOW))
    assert {"Mon 11:30", "Mon 13:00"} <= set(starts) and "Mon 12:30" not in starts


@pytest.mark.parametrize(("busy", "free"), [
    (("09:30:00", "10:00:00"), True),  # ends as the slot starts
    (("09:30:00", "10:00:01"), False),  # one second into the slot
    (("10:29:59", "11:00:00"), False),  # starts one second before the slot ends
    (("10:30:00", "11:00:00"), True),  # starts as the slot ends
    (("10:10:00", "10:10:00"), False),  # an instant inside the slot
])
def test_busy_edges_to_the_second(busy: tuple[str, str], free: bool) -> None:
    start, end = (datetime.fromisoformat(f"2026-06-01T{t}+02:00") for t in busy)
    host = Host("acct-a", "Ann", "ann@example.com", "cal-a", (Interval(start, end),))
    assert ("Mon 10:00" in local_starts(compute_slots(page(), [host], [], NOW))) is free


def test_other_events_add_busy_time() -> None:
    extra = {"acct-a": [Interval(paris(1, "09:00"), paris(1, "16:00"))]}
    assert local_starts(compute_slots(page(), [A], [], NOW, other_events=extra)) == ["Mon 16:00", "Mon 16:30"]


def test_horizon_is_days_times_24_hours_from_now() -> None:
    now = paris(1, "12:00")
    slots = compute_slots(page({"available_days_in_future": 2}), [A], [], now)
    assert slots[-1].end <= now + timedelta(days=2)
    assert local_starts(slots)[-1] == "Wed 11:30"


def test_window_narrows_the_answer() -> None:
    slots = compute_slots(page({"available_days_in_future": 7}), [A], [], NOW,
                          window_start=paris(2, "16:00"), window_end=paris(3, "09:30"))
    assert local_starts(slots) == ["Tue 16:00", "Tue 16:30", "Wed 09:00"]


def test_per_account_rules_add_to_the_general_ones() -> None:
    config = page({
        "available_days_in_future": 2,
        "opening_hours": [{"days": ["M"], "start": "09:00", "end": "10:00", "account_id": "acct-a"},
                          {"days": ["T"], "start": "09:00", "end": "10:00"}],
    })
    slots = compute_slots(config, [A, B], [], NOW)
    assert pairs(slots) == [
        ("acct-a", "Mon 09:00"), ("acct-a", "Mon 09:30"),
        ("acct-a", "Tue 09:00"), ("acct-b", "Tue 09:00"), ("acct-a", "Tue 09:30"), ("acct-b", "Tue 09:30")]


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        compute_slots(page(), [A], [], datetime(2026, 6, 1, 6, 0))
    with pytest.raises(ValueError, match="timezone-aware"):
        Interval(datetime(2026, 6, 1), datetime(2026, 6, 2))


# --- bookings: holding, capacity, expiry -----------------------------------------------------------


@pytest.mark.parametrize(("status", "held"), [("confirmed", True), ("pending", True), ("cancelled", False)])
def test_pending_bookings_hold_their_slot_and_cancelled_ones_free_it(status: str, held: bool) -> None:
    config = page({"confirmation_method": "manual"})
    starts = local_starts(compute_slots(config, [A], [booked(paris(1, "10:00"), status=status)], NOW))
    assert ("Mon 10:00" not in starts) is held


def test_bookings_get_the_buffer_too() -> None:
    starts = local_starts(compute_slots(page({"min_buffer": 30}), [A], [booked(paris(1, "10:00"))], NOW))
    assert [s for s in starts if s < "Mon 12:00"] == ["Mon 09:00", "Mon 11:00", "Mon 11:30"]


def test_a_group_slot_stays_open_until_full() -> None:
    config = page({"interval_minutes": 15}, event={"capacity": 3})
    two = [booked(paris(1, "10:00")), booked(paris(1, "10:00"))]
    starts = local_starts(compute_slots(config, [A], two, NOW))
    assert "Mon 10:00" in starts
    # Overlapping slots are blocked by the group's bookings.
    assert not {"Mon 09:45", "Mon 10:15"} & set(starts)
    full = local_starts(compute_slots(config, [A], [*two, booked(paris(1, "10:00"))], NOW))
    assert "Mon 10:00" not in full
    # A calendar event added over the group's time closes it too.
    busy = Host(A.account_id, A.name, A.email, A.booking_calendar_id,
                (Interval(paris(1, "10:20"), paris(1, "10:25")),))
    assert "Mon 10:00" not in local_starts(compute_slots(config, [busy], two, NOW))


def test_an_open_group_slot_keeps_its_host_whatever_the_turn() -> None:
    config = page({"scheduling_method": "round-robin-maximize-fairness"}, event={"capacity": 2})
    slots = compute_slots(config, [A, B], [booked(paris(1, "10:00"), A)], NOW)
    hosts = {t: s.account_id for s, t in zip(slots, local_starts(slots), strict=True)}
    assert hosts["Mon 10:00"] == "acct-a"  # joins Ann's group
    assert {a for t, a in hosts.items() if t != "Mon 10:00"} == {"acct-b"}  # Bob's turn otherwise
    assert next_host(config, [A, B], [booked(paris(1, "10:00"), A)], paris(1, "10:00"), now=NOW) == A


def test_unlimited_capacity_never_fills() -> None:
    many = [booked(paris(1, "10:00")) for _ in range(50)]
    assert "Mon 10:00" in local_starts(compute_slots(page(event={"capacity": -1}), [A], many, NOW))


def test_expire_after_uses_counts_holding_bookings() -> None:
    config = page({"available_days_in_future": 3}, expire_after={"uses": 2})
    one = [booked(paris(2, "10:00")), booked(paris(2, "11:00"), status="cancelled")]
    assert compute_slots(config, [A], one, NOW)
    assert compute_slots(config, [A], [*one, booked(paris(2, "12:00"), status="pending")], NOW) == []
    assert compute_slots(page(expire_after={"uses": -1}), [A], one * 5, NOW)


def test_expire_after_date_closes_the_page_at_that_time() -> None:
    at = int(paris(1, "12:00").timestamp())
    config = page(expire_after={"date": at})
    assert compute_slots(config, [A], [], paris(1, "11:59"))
    assert compute_slots(config, [A], [], paris(1, "12:00")) == []
    assert compute_slots(page(expire_after={"date": -1}), [A], [], paris(1, "12:00"))


# --- several hosts -------------------------------------------------------------------------------


def test_without_a_method_every_free_host_is_offered() -> None:
    slots = compute_slots(page(), [B, A], [booked(paris(1, "09:00"), B)], NOW)
    assert pairs(slots[:3]) == [
        ("acct-a", "Mon 09:00"), ("acct-a", "Mon 09:30"), ("acct-b", "Mon 09:30")]
    assert next_host(page(), [A, B], [], paris(1, "09:00"), now=NOW, account_id="acct-b") == B


def test_fairness_offers_only_the_host_in_turn_even_when_busy() -> None:
    config = page({"scheduling_method": "round-robin-maximize-fairness"})
    busy_b = Host(B.account_id, B.name, B.email, B.booking_calendar_id,
                  (Interval(paris(1, "09:00"), paris(1, "16:00")),))
    hosts = [A, busy_b, C]
    assert {s.account_id for s in compute_slots(config, hosts, [], NOW)} == {"acct-a"}
    after_a = [booked(paris(1, "09:00"), A)]
    slots = compute_slots(config, hosts, after_a, NOW)
    assert local_starts(slots) == ["Mon 16:00", "Mon 16:30"]  # narrowed to Bob's free time
    assert {s.account_id for s in slots} == {"acct-b"}
    # A cancelled booking gives the turn back.
    assert fairness_turn(hosts, [booked(paris(1, "09:00"), A, "cancelled")]) == A


def test_fairness_turn_goes_to_the_least_booked_then_after_the_last() -> None:
    history = [booked(paris(1, "09:00"), A), booked(paris(1, "10:00"), B), booked(paris(1, "11:00"), C)]
    assert fairness_turn([A, B, C], history) == A
    assert fairness_turn([A, B, C], history[:2]) == C
    # B was booked last, but C has fewer bookings than A.
    assert fairness_turn([A, B, C], [booked(paris(1, "09:00"), A), booked(paris(1, "10:00"), A),
                                     booked(paris(1, "11:00"), C), booked(paris(1, "12:00"), B)]) == C


def test_availability_gives_each_slot_to_the_least_booked_free_host() -> None:
    config = page({"scheduling_method": "round-robin-maximize-availability"})
    a_busy = Host(A.account_id, A.name, A.email, A.booking_calendar_id,
                  (Interval(paris(1, "09:00"), paris(1, "10:00")),))
    history = [booked(paris(2, "09:00"), B)]
    slots = compute_slots(config, [a_busy, B, C], history, NOW)
    assert pairs(slots[:3]) == [
        ("acct-c", "Mon 09:00"), ("acct-c", "Mon 09:30"), ("acct-a", "Mon 10:00")]
    assert len(slots) == 16  # one slot per start
    assert next_host(config, [a_busy, B, C], history, paris(1, "09:00"), now=NOW) == C


def test_availability_offers_a_slot_only_one_host_has_free() -> None:
    config = page({"scheduling_method": "round-robin-maximize-availability"})
    day = Interval(paris(1, "09:00"), paris(1, "17:00"))
    a = Host(A.account_id, A.name, A.email, A.booking_calendar_id, (day,))
    b = Host(B.account_id, B.name, B.email, B.booking_calendar_id,
             (Interval(paris(1, "09:00"), paris(1, "14:00")), Interval(paris(1, "14:30"), paris(1, "17:00"))))
    slots = compute_slots(config, [a, b], [booked(paris(2, "09:00"), B)] * 3, NOW)
    assert pairs(slots) == [("acct-b", "Mon 14:00")]


def test_next_host_refuses_a_slot_that_is_not_offered() -> None:
    config = page({"scheduling_method": "round-robin-maximize-fairness"})
    with pytest.raises(SlotUnavailable) as caught:
        next_host(config, [A, B], [], paris(1, "09:00"), now=NOW, account_id="acct-b")
    assert (caught.value.slot_start, caught.value.account_id) == (paris(1, "09:00"), "acct-b")
    assert next_host(config, [A, B], [booked(paris(1, "09:00"), A)], paris(1, "09:00"), now=NOW) == B
    with pytest.raises(SlotUnavailable):  # taken
        next_host(page(), [A], [booked(paris(1, "09:00"), A)], paris(1, "09:00"), now=NOW)
    with pytest.raises(SlotUnavailable):  # off the grid
        next_host(config, [A, B], [], paris(1, "09:10"), now=NOW)
