"""What a page-config change does to the people booking: slots the YAML adds and removes. Pure.

Both sides are computed by the same slot engine (`provisioner.slots`) over the same window and
calendars (assumed free: provisioner cannot see the hosts' real calendars), so the difference is the
effect of the configuration alone. Each API package reads a config as the engine's parameters and
hosts (`provisioner.apis.SlotView`: v2 both sides share the YAML's hosts; v3 the hosts are each
side's participants). Slots are summarised per weekday, host and run of local times,
e.g. ``Fri 14:00-17:00 Europe/Paris, Alice: -12 slots``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from .apis import SlotView
from .fairness import booking_share

if TYPE_CHECKING:
    from .slots import Host, Slot

Config = Any  # what `compute_slots` reads: a v2 page config, or `slots.Settings` (v3)
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True)
class SlotRun:
    """Slots on one weekday, for one host, covering local times ``start``-``end`` (``count`` slots over
    every such weekday in the window)."""

    weekday: str
    start: str  # "HH:MM", local to the page's zone
    end: str
    host: str
    count: int

    def describe(self, zone: str, sign: str = "") -> str:
        return f"{self.weekday} {self.start}-{self.end} {zone}, {self.host}: {sign}{self.count} slot(s)"


@dataclass(frozen=True)
class Preview:
    address: str
    timezone: str
    start: date
    days: int
    desired_total: int
    live_total: int | None  # None: the page is not live yet
    desired: tuple[SlotRun, ...]  # every slot of the YAML, summarised
    added: tuple[SlotRun, ...] = ()  # in the YAML, not live
    removed: tuple[SlotRun, ...] = ()  # live, not in the YAML
    # Round-robin pages: bookings per host (name, count) if every offered start were booked in turn.
    desired_share: tuple[tuple[str, int], ...] = ()
    live_share: tuple[tuple[str, int], ...] = ()

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed)


def window(zone: str, start: date, days: int) -> tuple[datetime, datetime]:
    tz = ZoneInfo(zone)
    begin = datetime.combine(start, time(0), tz)
    return begin, datetime.combine(start + timedelta(days=days), time(0), tz)


def slots_for(config: Config, hosts: Sequence[Host], start: date, days: int, zone: str | None = None) -> list[Slot]:
    """The slots of ``config`` from the start of ``start`` (page zone) for ``days`` days, as a booker
    at that moment would see them with no bookings and free calendars."""
    from .slots import compute_slots  # only here: rendering a preview needs no slot engine

    begin, end = window(zone or config.timezone or "UTC", start, days)
    return compute_slots(config, hosts, [], begin, window_start=begin, window_end=end)


def summarize(slots: Iterable[Slot], zone: str) -> tuple[SlotRun, ...]:
    """Group slots by (weekday, host) and merge runs of local times that touch or overlap."""
    tz = ZoneInfo(zone)
    groups: dict[tuple[int, str], list[tuple[str, str]]] = defaultdict(list)
    for slot in slots:
        local_start, local_end = slot.start.astimezone(tz), slot.end.astimezone(tz)
        end_text = "24:00" if local_end.date() != local_start.date() else f"{local_end:%H:%M}"
        groups[(local_start.weekday(), slot.host_name)].append((f"{local_start:%H:%M}", end_text))
    runs: list[SlotRun] = []
    for (weekday, host), spans in sorted(groups.items()):
        spans.sort()
        current_start, current_end, count = spans[0][0], spans[0][1], 0
        for span_start, span_end in spans:
            if span_start > current_end:
                runs.append(SlotRun(WEEKDAYS[weekday], current_start, current_end, host, count))
                current_start, current_end, count = span_start, span_end, 0
            current_end = max(current_end, span_end)
            count += 1
        runs.append(SlotRun(WEEKDAYS[weekday], current_start, current_end, host, count))
    return tuple(runs)


def compare(
    address: str,
    desired: Config,
    live: Config | None,
    hosts: Sequence[Host],
    start: date,
    days: int,
) -> Preview:
    """`compare_views` for two v2 page configs sharing ``hosts``."""
    def view(config: Config) -> SlotView:
        duration = config.event.duration if config.event and config.event.duration else 30
        return SlotView(config, tuple(hosts), config.timezone or "UTC", duration)

    return compare_views(address, view(desired), view(live) if live is not None else None, start, days)


def compare_views(address: str, desired: SlotView, live: SlotView | None, start: date, days: int) -> Preview:
    """The YAML's slots, and when the page is live, what the YAML adds and removes."""
    zone = desired.zone
    wanted = slots_for(desired.config, desired.hosts, start, days, zone)
    share = booking_share(desired.config, desired.hosts, *window(zone, start, days),
                          duration_minutes=desired.duration_minutes)
    if live is None:
        return Preview(address, zone, start, days, len(wanted), None, summarize(wanted, zone), desired_share=share)
    current = slots_for(live.config, live.hosts, start, days, live.zone)
    key = lambda s: (s.start, s.end, s.account_id)  # noqa: E731 - a slot's identity
    have, want = {key(s) for s in current}, {key(s) for s in wanted}
    live_share = booking_share(live.config, live.hosts, *window(live.zone, start, days),
                               duration_minutes=live.duration_minutes)
    return Preview(
        address, zone, start, days, len(wanted), len(current), summarize(wanted, zone),
        added=summarize((s for s in wanted if key(s) not in have), zone),
        removed=summarize((s for s in current if key(s) not in want), zone),
        desired_share=share, live_share=live_share,
    )
