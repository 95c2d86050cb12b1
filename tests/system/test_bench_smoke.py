"""The benchmark script still runs end to end (at a tiny size; its figures are not asserted as speed)."""

from __future__ import annotations

from provisioner import bench


def test_the_benchmark_runs_and_counts_requests_writes_and_lockfile_io(tmp_path):
    out = bench.run(6, latency_ms=0, parallelism=4, sequential_pages=2, workdir=tmp_path, server="thread")
    rows = {row.name: row for row in out["rows"]}
    assert rows["apply: 6 creates"].requests.get("POST") == 6
    assert rows["apply: 6 creates"].extra["lock_writes"] == 1  # the lockfile once per apply, not per page
    assert rows["apply: no change"].extra["writes"] == 0
    assert rows["plan: 6 converged"].requests.get("GET") == 6
    assert out["cpu"] and out["lockfile_bytes"] > 0
    assert "targets:" in bench.report(out)
