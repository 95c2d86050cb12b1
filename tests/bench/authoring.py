"""Benchmark: ``python -m tests.bench.authoring [--people 1000] [--pages 1000]``.

Measures, in one run, with the embedded emulator (in process, no network):

- a roster of N people and one template under ``pages/reps/``, checked by five policy rules:
  CPU per generated page for load + generate + validate + policy (`validation.validate`, best of 5);
- ``plan`` and ``apply`` of the N creates, then a one-person change (one entry's name) planned and
  applied: wall time and what the plan says;
- a policy run over N hand-written pages (`tests.bench.common.generate`): CPU per page of validate
  with the rules and without them (the rules' own share).

The target is 1 ms CPU per page for load + generate + validate + policy; it is printed, never asserted.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from provisioner import workflows
from provisioner.policy import Policies
from provisioner.secrets import keygen
from provisioner.settings import Settings
from provisioner.validation import validate

from .common import bench_env, cpu_time, generate

TARGET_CPU_MS = 1.0
POLICIES = Policies.model_validate({"rules": {
    "notice": {"builtin": "min_booking_notice", "min": 30},
    "branding": {"builtin": "branding_off", "severity": "warning"},
    "rr": {"builtin": "round_robin_hosts"},
    "buffer": {"builtin": "buffer_range", "max": 30},
    "zones": {"builtin": "allowed_timezones", "one_of": ["Europe/Paris", "America/New_York", "Asia/Tokyo"]},
}})
TEMPLATE = """slug: demo-{{ key }}
name: Demo with {{ name }}
access_tokens: ["{{ token }}"]
member_fields: [config.appearance.color]
config:
  timezone: "{{ timezone }}"
  event: {title: "Demo with {{ name }}", duration: 30, location: "{{ email }}"}
  appearance: {company_name: "{{ name }}", show_nylas_branding: false}
  booking:
    min_booking_notice: 60
    min_buffer: 10
    opening_hours:
      - {days: [M, T, W, R, F], start: "09:00", end: "17:00"}
"""
ZONES = ("Europe/Paris", "America/New_York", "Asia/Tokyo")


def roster(n: int, renamed: int | None = None) -> str:
    lines = []
    for i in range(n):
        name = f"Person {i}" if i != renamed else f"Person {i} (renamed)"
        lines += [f"p{i:05d}:", f"  name: {name}", f"  email: p{i}@example.com",
                  f"  token: ${{BENCH_TOKEN_{i % 8}}}", f"  timezone: {ZONES[i % 3]}"]
    return "\n".join(lines) + "\n"


def cpu_ms_per_page(settings: Settings, pages: int) -> float:
    best = float("inf")
    for _ in range(5):
        start = cpu_time()
        validate(settings, need_tokens=True, warnings=[])
        best = min(best, cpu_time() - start)
    return 1000 * best / pages


class _Quiet:
    def begin(self, total: int) -> None: ...

    def step(self, address: str, outcome: str) -> None: ...

    def end(self) -> None: ...


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=1000)
    parser.add_argument("--pages", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        env = bench_env(keygen())
        reps = root / "pages" / "reps"
        reps.mkdir(parents=True)
        (reps / "_demo.template.yaml").write_text(TEMPLATE)
        (reps / "_roster.yaml").write_text(roster(args.people))
        settings = Settings(pages_dir=root / "pages", lockfile=root / "pages.lock", state_dir=root / ".provisioner",
                            env=env, policies=POLICIES)
        roster_ms = cpu_ms_per_page(settings, args.people)
        print(f"roster of {args.people}: load + generate + validate + policy: {roster_ms:.3f} ms CPU per page "
              f"(target <= {TARGET_CPU_MS} ms: {'ok' if roster_ms <= TARGET_CPU_MS else 'OVER'})")

        wall, plan = timed(lambda: workflows.plan(settings))
        creates = sum(p.action.value == "create" for p in plan.pages)
        print(f"plan of {args.people} people: {wall:.2f} s wall, {creates} creates")
        wall, (applied, _) = timed(lambda: workflows.apply(settings, workflows.ApplyRequest(), lambda _p: True,
                                                           _Quiet()))
        print(f"apply of {args.people} creates: {wall:.2f} s wall ({len(applied.pages)} pages in the plan)")
        (reps / "_roster.yaml").write_text(roster(args.people, renamed=args.people // 2))
        wall, plan = timed(lambda: workflows.plan(settings))
        changed = [(p.address, p.action.value) for p in plan.pages if p.action.value != "noop"]
        print(f"one-person change: plan {wall:.2f} s wall, changes {changed}")
        wall, _ = timed(lambda: workflows.apply(settings, workflows.ApplyRequest(), lambda _p: True, _Quiet()))
        print(f"one-person change: apply {wall:.2f} s wall")

        plain = root / "plain"
        generate(plain, args.pages)
        # The same five rules as warnings: these pages set no booking notice, so every page is reported.
        warn = Policies.model_validate({"rules": {k: {**r.model_dump(exclude_defaults=True), "severity": "warning"}
                                                  for k, r in POLICIES.rules.items()}})
        with_rules = Settings(pages_dir=plain, env=env, policies=warn)
        without = Settings(pages_dir=plain, env=env)
        ms_rules, ms_plain = cpu_ms_per_page(with_rules, args.pages), cpu_ms_per_page(without, args.pages)
        print(f"policy run over {args.pages} pages: {ms_rules:.3f} ms CPU per page with 5 rules, {ms_plain:.3f} "
              f"without (the rules: {ms_rules - ms_plain:.3f} ms per page)")


if __name__ == "__main__":
    main()
