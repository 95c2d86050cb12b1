"""The benchmark scripts still run end to end (at a tiny size; their figures are not asserted as speed)."""

from __future__ import annotations

import argparse
from pathlib import Path

from tests.bench import plan, ratelimit, slots


def test_the_plan_benchmark_runs_and_counts_requests_writes_and_lockfile_io(tmp_path):
    out = plan.run(6, latency_ms=0, parallelism=4, sequential_pages=2, workdir=tmp_path, server="thread", rounds=2)
    rows = {row.name: row for row in out["rows"]}
    assert rows["apply: 6 creates"].requests.get("POST") == 6
    assert rows["apply: 6 creates"].extra["lock_writes"] == 1  # the lockfile once per apply, not per page
    assert rows["apply: no change"].extra["writes"] == 0
    assert rows["plan: 6 converged"].requests.get("GET") == 6
    assert out["cpu"] and out["lockfile_bytes"] > 0
    side = out["side_by_side"]
    assert side.pages == 6 and len(side.plan.walls) == len(side.reference.walls) == 2
    text = plan.report(out)
    assert "targets:" in text and "plan CPU per page, HTTP included:" in text and "plan / reference client" in text


def test_the_benchmarks_are_not_part_of_the_installed_package():
    import provisioner

    package = Path(provisioner.__file__).parent
    assert not [p.name for p in package.rglob("bench*.py")]


def test_the_rate_limit_and_slot_benchmarks_run(capsys):
    assert ratelimit.main(["--pages", "8", "--accounts", "2", "--per-account", "1000", "--per-app", "1000"]) == 0
    slots.main(["--runs", "1"])
    out = capsys.readouterr().out
    assert "429s" in out and "compute_slots" in out


def test_the_refresh_benchmark_runs_and_the_plan_counts_what_the_emulator_served(tmp_path):
    from tests.bench import refresh

    args = argparse.Namespace(pages=6, groups=2, large_pages=0, large_groups=2, latency_ms=0, parallelism=4,
                              rounds=1, api=["v2", "v3"], large_page_mode=False)
    out = refresh.run_all(args, tmp_path)
    runs = {(r.api, r.mode): r for r in out["small"]}
    assert set(runs) == {(api, mode) for api in ("nylas-v2", "nylas-v3") for mode in ("page", "list", "auto")}
    assert all(r.plan_requests == r.served for r in runs.values())  # the plan's count is the emulator's
    assert runs["nylas-v2", "page"].served == runs["nylas-v3", "page"].served == 6
    assert runs["nylas-v2", "list"].served == 2 + 2  # a count and one list per account
    assert runs["nylas-v3", "list"].served == 2  # one list per grant
    assert "requests" in refresh.report(out)
