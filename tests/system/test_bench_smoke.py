"""The benchmark scripts still run end to end (at a tiny size; their figures are not asserted as speed)."""

from __future__ import annotations

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
