"""The shared slot engine with v3 semantics as parameters (pure): separate buffers, round_to,
per-rule zones, exdates and one-day rules, collective, and last-booked round robin."""

from __future__ import annotations

import ast
import dataclasses
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from provisioner import slots

MON = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday
NOW = MON.replace(hour=6)
WEEKDAYS = frozenset(range(5))


def at(hour: int, minute: int = 0, day: int = 0) -> datetime:
    return MON + timedelta(days=day, hours=hour, minutes=minute)


def settings(method: str = slots.COLLECTIVE, rules: tuple[slots.HoursRule, ...] | None = None,
             **changes: object) -> slots.Settings:
    base = slots.Settings(zone=ZoneInfo("UTC"),
                          rules=rules or (slots.HoursRule(WEEKDAYS, "09:00", "12:00"),),
                          duration_s=1800, step_s=1800, notice_s=0, buffer_s=0, days=7, capacity=1,
                          method=method, round_s=900)
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def host(name: str, *busy: tuple[datetime, datetime]) -> slots.Host:
    return slots.Host(account_id=f"g-{name}", name=name, email=f"{name}@example.com",
                      booking_calendar_id="primary", busy=tuple(slots.Interval(s, e) for s, e in busy))


def starts(found: list[slots.Slot]) -> list[datetime]:
    return [s.start for s in found]


def day_one(cfg: slots.Settings, hosts: list[slots.Host], bookings: list[slots.Booking] = ()) -> list[slots.Slot]:
    return slots.compute_slots(cfg, hosts, list(bookings), NOW, window_start=at(0), window_end=at(24))


def test_before_and_after_buffers_are_separate() -> None:
    busy = host("ann", (at(10), at(10, 30)))
    found = starts(day_one(settings(buffer_s=0, buffer_after_s=30 * 60), [busy]))
    assert at(9, 30) not in found  # its 30 minutes after would reach the 10:00 event
    assert at(10, 30) in found  # nothing needed before it
    found = starts(day_one(settings(buffer_s=30 * 60, buffer_after_s=0), [busy]))
    assert at(9, 30) in found and at(10, 30) not in found and at(11) in found


def test_round_to_aligns_starts_on_local_multiples() -> None:
    rule = slots.HoursRule(frozenset({0}), "09:05", "11:00")
    found = starts(day_one(settings(rules=(rule,), round_s=20 * 60, step_s=40 * 60), [host("ann")]))
    assert found == [at(9, 20), at(10, 0)]


def test_rules_carry_their_own_zone_exdates_and_dates() -> None:
    tokyo = slots.HoursRule(frozenset({0}), "18:00", "19:00", zone=ZoneInfo("Asia/Tokyo"))  # 09:00 UTC
    closed = slots.HoursRule(frozenset({0}), "13:00", "14:00", exdates=frozenset({date(2026, 3, 2)}))
    once = slots.HoursRule(frozenset(), "15:00", "15:30", on_date=date(2026, 3, 2))
    found = starts(day_one(settings(rules=(tokyo, closed, once)), [host("ann")]))
    assert found == [at(9), at(9, 30), at(15)]


def test_collective_needs_everyone_and_names_everyone() -> None:
    ann, bob = host("ann"), host("bob", (at(9), at(10)))
    found = day_one(settings(), [ann, bob])
    assert starts(found) == [at(10), at(10, 30), at(11), at(11, 30)]
    assert found[0].emails == ("ann@example.com", "bob@example.com") and found[0].account_id == "g-ann"


def test_last_booked_order_puts_never_booked_first_alphabetically() -> None:
    cat, ann, bob = host("cat"), host("ann"), host("bob")
    history = [slots.Booking(at(9), at(9, 30), "g-bob"), slots.Booking(at(10), at(10, 30), "g-cat"),
               slots.Booking(at(11), at(11, 30), "g-bob", "cancelled")]
    assert [h.email for h in slots.last_booked_order([cat, ann, bob], history)] == [
        "ann@example.com", "bob@example.com", "cat@example.com"]
    assert [h.account_id for h in slots.fairness_pool(slots.last_booked_order([cat, ann, bob], history))] == [
        "g-ann", "g-bob"]


def test_max_fairness_offers_the_pool_and_falls_back_when_it_has_nothing() -> None:
    ann, bob = host("ann"), host("bob")
    booked = [slots.Booking(at(9, day=7), at(9, 30, day=7), "g-ann")]  # ann booked last: the pool is bob
    found = day_one(settings(slots.MAX_FAIRNESS), [ann, bob], booked)
    assert {s.account_id for s in found} == {"g-bob"}
    busy_bob = host("bob", (at(0), at(0, day=8)))  # bob busy over the whole horizon: everyone again
    assert {s.account_id for s in day_one(settings(slots.MAX_FAIRNESS), [ann, busy_bob], booked)} == {"g-ann"}


def test_max_availability_gives_a_start_to_the_first_free_host_in_order() -> None:
    ann, bob = host("ann", (at(9), at(10))), host("bob")
    found = day_one(settings(slots.MAX_AVAILABILITY), [ann, bob])
    assert [(s.start, s.account_id) for s in found][:3] == [(at(9), "g-bob"), (at(9, 30), "g-bob"), (at(10), "g-ann")]
    assert slots.next_host(settings(slots.MAX_AVAILABILITY), [ann, bob], [], at(10), now=NOW).account_id == "g-ann"


def test_the_v3_package_never_imports_the_engine() -> None:
    forbidden = {"load", "plan", "apply", "state", "cli", "workflows", "diff", "drift", "client", "model", "spec"}
    root = Path(__file__).resolve().parents[3] / "provisioner" / "apis" / "nylas_v3"
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else (
                [a.name for a in node.names] if isinstance(node, ast.Import) else [])
            for name in names:
                parts = name.split(".")
                if parts[0] == "provisioner" and len(parts) > 1:
                    # errors: the domain errors the client raises (typed, rendered by the engine's CLI)
                    assert parts[1] in {"apis", "slots", "emulator", "errors"}, f"{path.name} imports {name}"
                    if parts[1] == "emulator":
                        assert parts[2] in {"faults", "ratelimit", "clock", "transport", "serve"}, name
                    assert parts[1] not in forbidden, name


def test_round_to_follows_the_zone_of_the_rule_that_opens() -> None:
    kolkata = slots.HoursRule(frozenset({0}), "14:00", "16:00", zone=ZoneInfo("Asia/Kolkata"))  # 08:30 UTC
    found = starts(day_one(settings(rules=(kolkata,), round_s=3600, step_s=3600), [host("ann")]))
    assert found == [at(8, 30), at(9, 30)]  # whole local hours (14:00, 15:00), not 09:00 UTC (14:30 local)
