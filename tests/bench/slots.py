"""Benchmark of the slot engine: ``python -m tests.bench.slots [--runs N]``.

A 10-host round-robin page over 60 days with 500 busy blocks per host (issue 7, target ≤ 50 ms per
`compute_slots`). Prints the median and best of several runs per round-robin mode; asserts nothing
about speed. The inputs are generated deterministically (a fixed seed), outside the timed part.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from datetime import UTC, datetime, timedelta

from provisioner.apis.nylas_v2.model import Config
from provisioner.slots import Host, Interval, compute_slots

HOSTS = 10
DAYS = 60
BUSY_PER_HOST = 500
NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def page(method: str) -> Config:
    """The benchmark page: weekdays 08:00–18:00 Paris, 30-minute slots every 15 minutes, a buffer."""
    return Config.model_validate({
        "timezone": "Europe/Paris",
        "event": {"duration": 30},
        "booking": {
            "available_days_in_future": DAYS,
            "interval_minutes": 15,
            "min_buffer": 10,
            "min_booking_notice": 60,
            "opening_hours": [{"days": ["M", "T", "W", "R", "F"], "start": "08:00", "end": "18:00"}],
            "scheduling_method": method,
        },
    })


def hosts(seed: int = 7) -> list[Host]:
    """Ten hosts, each with 500 busy blocks of 15–120 minutes spread over the 60 days."""
    rng = random.Random(seed)
    out = []
    for n in range(HOSTS):
        busy = []
        for _ in range(BUSY_PER_HOST):
            start = NOW + timedelta(minutes=5 * rng.randrange(DAYS * 24 * 12))
            busy.append(Interval(start, start + timedelta(minutes=15 * rng.randint(1, 8))))
        out.append(Host(f"acct{n:02d}", f"Host {n}", f"host{n}@example.com", f"cal{n:02d}", tuple(busy)))
    return out


def measure(config: Config, team: list[Host], runs: int) -> tuple[list[float], int]:
    """Milliseconds of each run, and the number of slots."""
    times, count = [], 0
    for _ in range(runs):
        began = time.perf_counter()
        count = len(compute_slots(config, team, [], NOW))
        times.append((time.perf_counter() - began) * 1000)
    return times, count


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args(argv)
    team = hosts()
    print(f"compute_slots: {HOSTS} hosts, {DAYS} days, {BUSY_PER_HOST} busy blocks per host,"
          f" median of {args.runs} runs")
    for method in ("round-robin-maximize-availability", "round-robin-maximize-fairness"):
        times, count = measure(page(method), team, args.runs)
        print(f"  {method:36} median {statistics.median(times):6.1f} ms   best {min(times):6.1f} ms"
              f"   {count} slots   (target ≤ 50 ms)")


if __name__ == "__main__":
    main()
