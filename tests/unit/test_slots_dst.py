"""Opening hours across daylight-saving changes: wall-clock hours stay wall-clock hours.

The four changes of 2026 in America/Los_Angeles (03-08, 11-01) and Europe/Paris (03-29, 10-25), all
Sundays; and the two named choices for a wall-clock time that does not exist or happens twice.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from provisioner.apis.nylas_v2.model import Config
from provisioner.slots import Host, compute_slots, local_to_utc

HOST = Host("acct-a", "Ann", "ann@example.com", "cal-a")
EVERY_DAY = ["M", "T", "W", "R", "F", "S", "U"]
CHANGES = [
    ("America/Los_Angeles", date(2026, 3, 8)),
    ("America/Los_Angeles", date(2026, 11, 1)),
    ("Europe/Paris", date(2026, 3, 29)),
    ("Europe/Paris", date(2026, 10, 25)),
]


def page(zone: str, start: str, end: str, days: list[str] = EVERY_DAY) -> Config:
    return Config.model_validate({
        "timezone": zone,
        "booking": {"opening_hours": [{"days": days, "start": start, "end": end}],
                    "available_days_in_future": 8},
    })


@pytest.mark.parametrize(("zone", "change"), CHANGES)
def test_nine_to_five_stays_nine_to_five_across_the_change(zone: str, change: date) -> None:
    tz = ZoneInfo(zone)
    now = datetime.combine(change - timedelta(days=4), datetime.min.time(), tzinfo=tz)
    slots = compute_slots(page(zone, "09:00", "17:00"), [HOST], [], now)
    by_day: dict[date, list[str]] = {}
    for slot in slots:
        local = slot.start.astimezone(tz)
        by_day.setdefault(local.date(), []).append(local.strftime("%H:%M"))
        assert slot.end.astimezone(tz).strftime("%H:%M") <= "17:00"
    expected = [f"{h:02d}:{m:02d}" for h in range(9, 17) for m in (0, 30)]
    for offset in range(-3, 4):
        assert by_day[change + timedelta(days=offset)] == expected, change + timedelta(days=offset)
    # The same wall-clock hours sit at different UTC instants on either side: the offset really changed.
    before, after = (datetime.combine(change + timedelta(days=d), datetime.min.time(), tzinfo=tz)
                     for d in (-1, 1))
    assert before.utcoffset() != after.utcoffset()
    first = {s.start.astimezone(tz).date(): s.start for s in reversed(slots)}
    assert (first[change + timedelta(days=1)] - first[change - timedelta(days=1)]) != timedelta(days=2)


@pytest.mark.parametrize(("zone", "change", "hours", "expected"), [
    # Spring forward: 02:00–03:00 does not exist; a window opening at 02:00 opens at 03:00 (moved forward).
    ("America/Los_Angeles", date(2026, 3, 8), ("02:00", "04:00"), ["03:00 PDT", "03:30 PDT"]),
    ("Europe/Paris", date(2026, 3, 29), ("02:00", "04:00"), ["03:00 CEST", "03:30 CEST"]),
    # Fall back: 01:00–02:00 (LA) and 02:00–03:00 (Paris) happen twice; a window opening there opens at
    # the first occurrence, so it is an hour longer in absolute time.
    ("America/Los_Angeles", date(2026, 11, 1), ("01:00", "03:00"),
     ["01:00 PDT", "01:30 PDT", "01:00 PST", "01:30 PST", "02:00 PST", "02:30 PST"]),
    ("Europe/Paris", date(2026, 10, 25), ("02:00", "04:00"),
     ["02:00 CEST", "02:30 CEST", "02:00 CET", "02:30 CET", "03:00 CET", "03:30 CET"]),
])
def test_nonexistent_and_repeated_wall_clock_times(
    zone: str, change: date, hours: tuple[str, str], expected: list[str]
) -> None:
    tz = ZoneInfo(zone)
    now = datetime.combine(change - timedelta(days=1), datetime.min.time(), tzinfo=tz)
    slots = compute_slots(page(zone, *hours, days=["U"]), [HOST], [], now)
    on_change = [s for s in slots if s.start.astimezone(tz).date() == change]
    assert [s.start.astimezone(tz).strftime("%H:%M %Z") for s in on_change] == expected


def test_local_to_utc_resolves_gap_forward_and_repeat_to_the_first() -> None:
    la = ZoneInfo("America/Los_Angeles")
    assert local_to_utc(date(2026, 3, 8), "02:30", la).isoformat() == "2026-03-08T10:30:00+00:00"  # 03:30 PDT
    # 01:30 happens twice on 2026-11-01: the first, PDT.
    assert local_to_utc(date(2026, 11, 1), "01:30", la).isoformat() == "2026-11-01T08:30:00+00:00"
