"""Benchmark: ``python -m tests.bench.plan [--pages 1000] [--latency-ms 100] [--parallelism 16]``.

Generates N pages in a temporary folder, serves the emulator over real HTTP on 127.0.0.1 with the
injected latency, and runs the workflows in process, measuring in one run:

- ``apply`` of N creates, ``plan`` on the converged set, ``apply`` of N updates, a no-change ``apply``;
- the plan side by side with a minimal reference client (plain httpx reads of the same pages at the same
  parallelism; `tests.bench.sidebyside`), alternating ``--rounds`` times: the ratio of their best wall
  times, and the plan's CPU per page **including HTTP** (the whole `workflows.plan`);
- the same plan with parallelism 1 on a subset (``--sequential-pages``, default min(N, 100): at 100 ms a
  sequential plan of 1,000 pages takes 100 s) for the ratio;
- wall time, the physical bound (requests x latency / parallelism), the ratio to the bound, requests sent
  (the emulator's ``/_emulator/stats``), write calls on the no-change apply, peak memory (maxrss, the
  emulator's thread included), CPU per page for load + validate, state read, live view and diff with no
  network (`cpu_per_page`), and lockfile I/O (bytes and writes of ``pages.lock`` and its journal).

Every plan refreshes page by page (``--refresh page``), as the reference
client reads: the comparison is like for like, and the engine's own CPU per page is what both modes pay.

``--memory`` runs the CLI as child processes (``apply`` of N creates then ``plan``, no latency) and
reports the children's peak memory alone: ``python -m tests.bench.plan --memory --pages 10000``.
Speed is reported here, never asserted by tests.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from provisioner import cores

from .common import Stats, bench_env, cpu_time, generate, page_mode, served
from .sidebyside import side_by_side

# The CLI, printing its own peak memory (KiB) on stderr when it exits.
_CLI_MEASURED = [sys.executable, "-c", "import atexit, resource, sys; atexit.register(lambda: sys.stderr.write("
                 "'\\nMAXRSS_KB %d\\n' % resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)); "
                 "from provisioner.cli import main; main()"]
TARGETS = {"plan_ratio": 1.15, "cpu_ms_per_page": 1.0, "no_change_writes": 0, "memory_mb_10k": 200,
           "side_by_side": 1.10, "plan_cpu_ms_per_page_http": 1.5}


# --- counters ---------------------------------------------------------------------------------------


@dataclass
class IoCounter:
    """Bytes and writes of ``pages.lock`` (atomic rewrites) and of its journal (appended lines)."""

    lock_writes: int = 0
    lock_bytes: int = 0
    journal_writes: int = 0
    journal_bytes: int = 0

    def reset(self) -> None:
        self.lock_writes = self.lock_bytes = self.journal_writes = self.journal_bytes = 0


@contextmanager
def counting_io() -> Iterator[IoCounter]:
    """Count lockfile and journal writes by wrapping the two functions that do them."""
    from provisioner import journal
    from provisioner.state import lockfile

    counter = IoCounter()
    real_atomic, real_write = lockfile.atomic_write, journal.JournalWriter._write

    def atomic_write(path: Path, data: Any, mode: int | None = None) -> None:
        real_atomic(path, data, mode)
        counter.lock_writes += 1
        counter.lock_bytes += path.stat().st_size  # data may be a generator of text chunks

    def write(self: Any, data: bytes) -> None:
        counter.journal_writes += 1
        counter.journal_bytes += len(data)
        real_write(self, data)

    lockfile.atomic_write = atomic_write  # type: ignore[assignment]
    journal.JournalWriter._write = write  # type: ignore[method-assign]
    try:
        yield counter
    finally:
        lockfile.atomic_write = real_atomic  # type: ignore[assignment]
        journal.JournalWriter._write = real_write  # type: ignore[method-assign]


class _Quiet:
    def begin(self, total: int) -> None: ...

    def step(self, address: str, outcome: str) -> None: ...

    def end(self) -> None: ...


@dataclass
class Row:
    name: str
    wall_s: float
    requests: dict[str, int]
    parallelism: int
    latency_ms: float
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def bound_s(self) -> float:
        """The physical bound: requests x latency / parallelism."""
        return self.requests.get("total", 0) * self.latency_ms / 1000 / self.parallelism

    @property
    def ratio(self) -> float | None:
        return self.wall_s / self.bound_s if self.bound_s else None


# --- the run ----------------------------------------------------------------------------------------


def _timed(stats: Stats, fn: Callable[[], Any]) -> tuple[float, dict[str, int], Any]:
    stats.reset()
    start = time.perf_counter()
    out = fn()
    wall = time.perf_counter() - start
    return wall, stats.get(), out


def run(n: int, latency_ms: float, parallelism: int, sequential_pages: int, workdir: Path,
        server: str = "process", rounds: int = 3) -> dict[str, Any]:
    """The whole benchmark in `workdir`; returns every figure (see `report`)."""
    from provisioner import workflows
    from provisioner.safety import Limits
    from provisioner.secrets import keygen

    pages_dir, lock = workdir / "pages", workdir / "pages.lock"
    addresses = generate(pages_dir, n)
    rows: list[Row] = []
    out: dict[str, Any] = {"pages": n, "latency_ms": latency_ms, "parallelism": parallelism, "rows": rows,
                           "server": server}
    with served(server, workdir / "emulator.db", latency_ms) as url, counting_io() as io:
        stats = Stats(url)
        settings = page_mode(workflows.Settings(  # one GET per page, as the reference client reads
            pages_dir=pages_dir, lockfile=lock, api_url=url, parallelism=parallelism,
            state_dir=workdir / ".provisioner", env=bench_env(keygen()),
            limits=Limits(max_deletes=0, max_changes_percent=100)))

        def apply(s: workflows.Settings = settings) -> Any:
            return workflows.apply(s, workflows.ApplyRequest(), lambda _plan: True, _Quiet())

        def measured_apply(name: str) -> Any:
            io.reset()
            wall, reqs, (plan, result) = _timed(stats, apply)
            assert result is None or not result.failed, result.failed[:3]
            rows.append(Row(name, wall, reqs, parallelism, latency_ms, {
                "writes": (result.api_writes if result else 0), "lock_writes": io.lock_writes,
                "lock_bytes": io.lock_bytes, "journal_lines": io.journal_writes,
                "journal_bytes": io.journal_bytes}))
            return plan

        measured_apply(f"apply: {n} creates")
        wall, reqs, plan = _timed(stats, lambda: workflows.plan(settings))
        assert not plan.has_changes
        rows.append(Row(f"plan: {n} converged", wall, reqs, parallelism, latency_ms))
        out["side_by_side"] = side_by_side(settings, rounds)
        generate(pages_dir, n, variant=1)
        measured_apply(f"apply: {n} updates")
        measured_apply("apply: no change")
        subset = tuple(addresses[:sequential_pages])
        sequential = workflows.Settings(**{**settings.__dict__, "parallelism": 1})
        wall, reqs, plan = _timed(stats, lambda: workflows.plan(sequential, subset))
        rows.append(Row(f"plan: {len(subset)} converged, parallelism 1", wall, reqs, 1, latency_ms))
        out["cpu"] = cpu_per_page(settings)
        out["lockfile_bytes"] = lock.stat().st_size
    out["maxrss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def _on_one_core(fn: Any, *args: Any, **kwargs: Any) -> Any:
    saved, cores.MAX_CORES = cores.MAX_CORES, 1
    try:
        return fn(*args, **kwargs)
    finally:
        cores.MAX_CORES = saved


def cpu_per_page(settings: Any, repeats: int = 3) -> dict[str, float]:
    """CPU ms per page of load + validate (pages/ and the policies: `validation.validate`), state read
    (unsealing), live view (each fetched page normalized and fingerprinted, its HTTP and parsing left
    out) and diff, with live pages fetched beforehand (no network inside the measurement). Best of
    `repeats`. Any API (`settings.api`): v3 configurations have no tokens to digest. The pages are
    loaded on one core: this is the work a page costs (on two cores it costs ~10% more CPU in all, for
    less wall time; the side-by-side figures show that)."""
    import asyncio

    from provisioner import workflows
    from provisioner.plan import LiveView, make_plan
    from provisioner.validation import validate

    seal = workflows.sealer(settings)
    api = settings.api
    state = workflows.backend(settings, seal).read(settings.target.state_key)

    async def fetch() -> Any:
        async with workflows.open_client(settings) as client:  # fetched once, not measured
            return {a: await client.get(r.handle) for a, r in state.resources.items()}

    fetched = asyncio.run(fetch())
    best: dict[str, float] = {}
    for _ in range(repeats):
        t0 = cpu_time()
        desired = _on_one_core(validate, settings, need_tokens=True)
        t1 = cpu_time()
        fresh_state = workflows.backend(settings, seal).read(settings.target.state_key)
        t2 = cpu_time()
        live = {a: LiveView.of(page, fresh_state.resources[a], api) for a, page in fetched.items()}
        t3 = cpu_time()
        digests = {a: seal.digest(p.access_tokens) for a, p in desired.items()} if api.owner_is_secret else None
        plan = make_plan(settings.target, desired, fresh_state, live, digests, api=api)
        t4 = cpu_time()
        assert not plan.has_changes
        n = max(len(desired), 1)
        sample = {"load_validate": (t1 - t0) / n * 1000, "state_read": (t2 - t1) / n * 1000,
                  "live_view": (t3 - t2) / n * 1000, "diff": (t4 - t3) / n * 1000}
        sample["total"] = sum(sample.values())
        best = sample if not best or sample["total"] < best["total"] else best
    return best


def memory_check(n: int, workdir: Path, server: str = "process") -> dict[str, Any]:
    """The CLI as child processes at N pages (no latency): peak memory of apply and of plan."""
    from provisioner.secrets import keygen

    generate(workdir / "pages", n)
    results: dict[str, Any] = {"pages": n}
    with served(server, workdir / "emulator.db", 0) as url:
        env = {**os.environ, **bench_env(keygen()), "PROVISIONER_API_URL": url}
        for name, args in (("apply", ["apply", "--auto-approve", "--parallelism", "16"]),
                           ("plan", ["plan", "--parallelism", "16", "--detailed-exitcode"])):
            start = time.perf_counter()
            proc = subprocess.run([*_CLI_MEASURED, *args], cwd=workdir, env=env, capture_output=True)
            wall = time.perf_counter() - start
            if proc.returncode != 0:
                raise SystemExit(f"{name} failed ({proc.returncode}): {proc.stderr.decode()[-2000:]}")
            marks = [line for line in proc.stderr.decode().splitlines() if line.startswith("MAXRSS_KB ")]
            results[name] = {"wall_s": wall, "maxrss_mb": int(marks[-1].split()[1]) / 1024}
    results["lockfile_bytes"] = (workdir / "pages.lock").stat().st_size
    return results


# --- output -----------------------------------------------------------------------------------------


_THREAD_NOTE = ", emulator thread included"


def report(out: dict[str, Any]) -> str:
    lines = [f"provisioner bench: {out['pages']} pages, latency {out['latency_ms']:g} ms, "
             f"parallelism {out['parallelism']}, emulator in a {out['server']}", ""]
    header = f"{'phase':42} {'wall s':>8} {'bound s':>8} {'ratio':>6} {'requests':>24}"
    lines += [header, "-" * len(header)]
    for row in out["rows"]:
        reqs = " ".join(f"{k}={v}" for k, v in sorted(row.requests.items()) if k != "total")
        ratio = f"{row.ratio:.3f}" if row.ratio else "-"
        lines.append(f"{row.name:42} {row.wall_s:8.2f} {row.bound_s:8.2f} {ratio:>6} {reqs or '0':>24}")
    lines.append("")
    for row in out["rows"]:
        if "writes" in row.extra:
            e = row.extra
            lines.append(f"{row.name:26} API writes {e['writes']:5}; pages.lock {e['lock_writes']} write(s) "
                         f"{e['lock_bytes']:>9} B; journal {e['journal_lines']:5} line(s) {e['journal_bytes']:>9} B "
                         f"({(e['lock_bytes'] + e['journal_bytes']) / out['pages']:.0f} B/page)")
    cpu, sbs = out["cpu"], out["side_by_side"]
    in_process = " (the emulator thread's CPU included)" if out["server"] == "thread" else ""
    lines += ["", f"side by side, best of {len(sbs.plan.walls)} alternating rounds at parallelism "
              f"{sbs.parallelism}: reference client {sbs.reference.wall:.2f} s, plan {sbs.plan.wall:.2f} s "
              f"-> {sbs.ratio:.3f}x",
              f"  rounds: reference {' '.join(f'{w:.2f}' for w in sbs.reference.walls)} s; "
              f"plan {' '.join(f'{w:.2f}' for w in sbs.plan.walls)} s",
              f"plan CPU per page, HTTP included: {sbs.plan.cpu_ms_per_page(sbs.pages):.3f} ms "
              f"(reference client {sbs.reference.cpu_ms_per_page(sbs.pages):.3f} ms){in_process}"]
    lines += [f"CPU per page, no network: {cpu_line(cpu)}",
              f"pages.lock: {out['lockfile_bytes']} B ({out['lockfile_bytes'] / out['pages']:.0f} B/page)",
              f"peak memory (maxrss of this process{_THREAD_NOTE if out['server'] == 'thread' else ''}): "
              f"{out['maxrss_mb']:.1f} MB"]
    converged = next(r for r in out["rows"] if r.name.startswith("plan") and r.parallelism == out["parallelism"])
    seq = next(r for r in out["rows"] if r.parallelism == 1)
    no_change = next(r for r in out["rows"] if r.name == "apply: no change")
    writes = sum(no_change.requests.get(m, 0) for m in ("POST", "PUT", "DELETE"))
    lines += ["", "targets:",
              _target("plan / bound at parallelism", converged.ratio, TARGETS["plan_ratio"]),
              _target("plan / reference client", sbs.ratio, TARGETS["side_by_side"]),
              _target("plan CPU ms per page, HTTP incl.", sbs.plan.cpu_ms_per_page(sbs.pages),
                      TARGETS["plan_cpu_ms_per_page_http"]),
              _target("CPU ms per page, no network", cpu["total"], TARGETS["cpu_ms_per_page"]),
              _target("write calls on no-change apply", writes, TARGETS["no_change_writes"]),
              f"  sequential plan / bound: {seq.ratio:.3f}; time per page sequential / parallel: "
              f"{_per_page(seq) / _per_page(converged):.1f}x" if seq.ratio else "  (no sequential figure)"]
    return "\n".join(lines)


def cpu_line(cpu: dict[str, float]) -> str:
    """`cpu_per_page`'s figures on one line."""
    return (f"{cpu['total']:.3f} ms (load+validate {cpu['load_validate']:.3f}, state read {cpu['state_read']:.3f}, "
            f"live view {cpu['live_view']:.3f}, diff {cpu['diff']:.3f})")


def _per_page(row: Row) -> float:
    return row.wall_s / max(row.requests.get("total", 0), 1)


def _target(name: str, value: float | None, limit: float) -> str:
    ok = value is not None and value <= limit
    shown = "-" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)
    return f"  {name:34} {shown:>8} (target <= {limit:g}) {'ok' if ok else 'MISSED'}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.plan", description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--latency-ms", type=float, default=100.0)
    parser.add_argument("--parallelism", type=int, default=16)
    parser.add_argument("--sequential-pages", type=int, default=None,
                        help="pages in the parallelism-1 plan (default min(N, 100))")
    parser.add_argument("--memory", action="store_true", help="peak memory of the CLI at --pages (no latency)")
    parser.add_argument("--server", choices=["process", "thread"], default="process",
                        help="run the emulator in a child process (default) or in a thread of this one")
    parser.add_argument("--rounds", type=int, default=3,
                        help="alternating rounds of the side-by-side plan and reference client (default 3)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="provisioner-bench-"))
    try:
        if args.memory:
            figures = memory_check(args.pages, workdir, args.server)
            if args.json:
                print(json.dumps(figures, indent=2))
            else:
                for name in ("apply", "plan"):
                    f = figures[name]
                    print(f"{name} of {args.pages} pages: {f['wall_s']:.1f} s, peak memory {f['maxrss_mb']:.1f} MB")
                peak = max(figures[name]["maxrss_mb"] for name in ("apply", "plan"))
                print(f"pages.lock: {figures['lockfile_bytes']} B; peak {peak:.1f} MB, target <= "
                      f"{TARGETS['memory_mb_10k']} MB: {'ok' if peak <= TARGETS['memory_mb_10k'] else 'MISSED'}")
            return 0
        seq = args.sequential_pages if args.sequential_pages is not None else min(args.pages, 100)
        out = run(args.pages, args.latency_ms, args.parallelism, seq, workdir, args.server, args.rounds)
        if args.json:
            rows = [{**r.__dict__, "bound_s": r.bound_s, "ratio": r.ratio} for r in out["rows"]]
            print(json.dumps({**out, "rows": rows, "side_by_side": out["side_by_side"].figures()}, indent=2))
        else:
            print(report(out))
        return 0
    finally:
        if args.keep:
            print(f"(kept {workdir})", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
