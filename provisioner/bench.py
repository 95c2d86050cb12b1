"""Benchmark: ``python -m provisioner.bench [--pages 1000] [--latency-ms 100] [--parallelism 16]``.

Generates N pages in a temporary folder, serves the emulator over real HTTP on 127.0.0.1 with the
injected latency, and runs the workflows in process, measuring in one run:

- ``apply`` of N creates, ``plan`` on the converged set, ``apply`` of N updates, a no-change ``apply``;
- the same plan with parallelism 1 on a subset (``--sequential-pages``, default min(N, 100): at 100 ms a
  sequential plan of 1,000 pages takes 100 s) for the ratio;
- wall time, the physical bound (requests x latency / parallelism), the ratio to the bound, requests sent
  (the emulator's ``/_emulator/stats``), write calls on the no-change apply, peak memory (maxrss, the
  emulator's thread included), CPU per page for load + validate + diff with no network, and lockfile I/O
  (bytes and writes of ``pages.lock`` and its journal).

``--memory`` runs the CLI as child processes (``apply`` of N creates then ``plan``, no latency) and
reports the children's peak memory alone: ``python -m provisioner.bench --memory --pages 10000``.
Speed is reported here, never asserted by tests.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

CLI = [sys.executable, "-c", "from provisioner.cli import main; main()"]
# The CLI, printing its own peak memory (KiB) on stderr when it exits.
_CLI_MEASURED = [sys.executable, "-c", "import atexit, resource, sys; atexit.register(lambda: sys.stderr.write("
                 "'\\nMAXRSS_KB %d\\n' % resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)); "
                 "from provisioner.cli import main; main()"]
ACCOUNTS = 8  # distinct access tokens the pages are spread over
TARGETS = {"plan_ratio": 1.15, "cpu_ms_per_page": 1.0, "no_change_writes": 0, "memory_mb_10k": 200}


# --- the pages --------------------------------------------------------------------------------------


def page_yaml(i: int, variant: int) -> str:
    """One generated page; ``variant`` changes the title and duration of every page (an update)."""
    duration = 30 + 15 * (variant % 2)
    return (
        f"slug: bench-page-{i:05d}\n"
        f"name: Bench page {i}\n"
        "access_tokens:\n"
        f"  - ${{BENCH_TOKEN_{i % ACCOUNTS}}}\n"
        "config:\n"
        "  event:\n"
        f"    title: Bench meeting {i} v{variant}\n"
        f"    duration: {duration}\n"
        "  booking:\n"
        "    opening_hours:\n"
        "      - {days: [M, T, W, R, F], start: \"09:00\", end: \"17:00\"}\n"
    )


def generate(pages_dir: Path, n: int, variant: int = 0) -> list[str]:
    """Write N page files (100 per folder, a shared ``_defaults.yaml``); returns their addresses."""
    pages_dir.mkdir(parents=True, exist_ok=True)
    (pages_dir / "_defaults.yaml").write_text("config:\n  timezone: Europe/Paris\n  locale: en\n")
    addresses = []
    for i in range(n):
        folder = pages_dir / f"group-{i // 100:03d}"
        folder.mkdir(exist_ok=True)
        (folder / f"page-{i:05d}.yaml").write_text(page_yaml(i, variant))
        addresses.append(f"group-{i // 100:03d}/page-{i:05d}")
    return addresses


def bench_env(key: str) -> dict[str, str]:
    env = {f"BENCH_TOKEN_{k}": f"bench-access-token-{k}-q8Zr" for k in range(ACCOUNTS)}
    env["PROVISIONER_LOCK_KEY"] = key
    return env


# --- the server -------------------------------------------------------------------------------------


@contextmanager
def served(mode: str, db: Path, latency_ms: float) -> Iterator[str]:
    """The emulator over real HTTP on 127.0.0.1; yields its base URL.

    ``process`` (default): ``provisioner emulator serve`` in a child process, like a remote API: its CPU
    and memory are not the client's. ``thread``: `serve_in_thread` in this process.
    """
    from .emulator import Emulator, FaultConfig

    if mode == "thread":
        from .emulator.serve import serve_in_thread

        emulator = Emulator(db, FaultConfig(latency_ms=int(latency_ms)))
        try:
            with serve_in_thread(emulator) as url:
                yield url
        finally:
            emulator.close()
        return
    with socket.socket() as probe:  # a free port (the tiny race until the child binds it is acceptable here)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    cmd = [*CLI, "emulator", "serve", "--host", "127.0.0.1", "--port", str(port), "--db", str(db),
           "--latency-ms", str(latency_ms)]
    child = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if child.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("the emulator server did not start") from None
                time.sleep(0.05)  # polling a child's start-up (a benchmark, not a test)
        yield f"http://127.0.0.1:{port}"
    finally:
        child.terminate()
        child.wait(timeout=20)


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
    from . import journal
    from .state import lockfile

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


class Stats:
    """The served emulator's request counters (``/_emulator/stats``)."""

    def __init__(self, url: str):
        self.url = url + "/_emulator/stats"

    def reset(self) -> None:
        httpx.delete(self.url).raise_for_status()

    def get(self) -> dict[str, int]:
        data = httpx.get(self.url).json()
        return {**data["requests"], "total": data["total"]}


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
        server: str = "process") -> dict[str, Any]:
    """The whole benchmark in `workdir`; returns every figure (see `report`)."""
    from . import workflows
    from .safety import Limits
    from .secrets import keygen

    pages_dir, lock = workdir / "pages", workdir / "pages.lock"
    addresses = generate(pages_dir, n)
    rows: list[Row] = []
    out: dict[str, Any] = {"pages": n, "latency_ms": latency_ms, "parallelism": parallelism, "rows": rows,
                           "server": server}
    with served(server, workdir / "emulator.db", latency_ms) as url, counting_io() as io:
        stats = Stats(url)
        settings = workflows.Settings(pages_dir=pages_dir, lockfile=lock, api_url=url, parallelism=parallelism,
                                      state_dir=workdir / ".provisioner", env=bench_env(keygen()),
                                      limits=Limits(max_deletes=0, max_changes_percent=100))

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


def cpu_per_page(settings: Any, repeats: int = 3) -> dict[str, float]:
    """CPU ms per page of load + validate (pages/), state read (unsealing) and diff, with live pages
    fetched beforehand (no network inside the measurement). Best of `repeats`."""
    import asyncio

    from . import workflows
    from .load import load_pages
    from .plan import make_plan

    seal = workflows.sealer(settings)
    state = workflows.backend(settings).read(settings.target.api_url)

    async def fetch() -> Any:
        async with workflows.open_client(settings) as client:
            return await workflows.refresh(client, state, {})  # fetched once, not measured

    live = asyncio.run(fetch())
    best: dict[str, float] = {}
    for _ in range(repeats):
        t0 = time.process_time()
        desired = load_pages(settings.pages_dir, settings.env)
        t1 = time.process_time()
        fresh_state = workflows.backend(settings).read(settings.target.api_url)
        t2 = time.process_time()
        digests = {a: seal.digest(p.access_tokens) for a, p in desired.items()}
        plan = make_plan(settings.target, desired, fresh_state, live, digests)
        t3 = time.process_time()
        assert not plan.has_changes
        n = max(len(desired), 1)
        sample = {"load_validate": (t1 - t0) / n * 1000, "state_read": (t2 - t1) / n * 1000,
                  "diff": (t3 - t2) / n * 1000}
        sample["total"] = sum(sample.values())
        best = sample if not best or sample["total"] < best["total"] else best
    return best


def memory_check(n: int, workdir: Path, server: str = "process") -> dict[str, Any]:
    """The CLI as child processes at N pages (no latency): peak memory of apply and of plan."""
    from .secrets import keygen

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
    cpu = out["cpu"]
    lines += ["", f"CPU per page, no network: {cpu['total']:.3f} ms (load+validate {cpu['load_validate']:.3f}, "
              f"state read {cpu['state_read']:.3f}, diff {cpu['diff']:.3f})",
              f"pages.lock: {out['lockfile_bytes']} B ({out['lockfile_bytes'] / out['pages']:.0f} B/page)",
              f"peak memory (maxrss of this process{_THREAD_NOTE if out['server'] == 'thread' else ''}): "
              f"{out['maxrss_mb']:.1f} MB"]
    converged = next(r for r in out["rows"] if r.name.startswith("plan") and r.parallelism == out["parallelism"])
    seq = next(r for r in out["rows"] if r.parallelism == 1)
    no_change = next(r for r in out["rows"] if r.name == "apply: no change")
    writes = sum(no_change.requests.get(m, 0) for m in ("POST", "PUT", "DELETE"))
    lines += ["", "targets:",
              _target("plan / bound at parallelism", converged.ratio, TARGETS["plan_ratio"]),
              _target("CPU ms per page", cpu["total"], TARGETS["cpu_ms_per_page"]),
              _target("write calls on no-change apply", writes, TARGETS["no_change_writes"]),
              f"  sequential plan / bound: {seq.ratio:.3f}; time per page sequential / parallel: "
              f"{_per_page(seq) / _per_page(converged):.1f}x" if seq.ratio else "  (no sequential figure)"]
    return "\n".join(lines)


def _per_page(row: Row) -> float:
    return row.wall_s / max(row.requests.get("total", 0), 1)


def _target(name: str, value: float | None, limit: float) -> str:
    ok = value is not None and value <= limit
    shown = "-" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)
    return f"  {name:34} {shown:>8} (target <= {limit:g}) {'ok' if ok else 'MISSED'}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m provisioner.bench", description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--latency-ms", type=float, default=100.0)
    parser.add_argument("--parallelism", type=int, default=16)
    parser.add_argument("--sequential-pages", type=int, default=None,
                        help="pages in the parallelism-1 plan (default min(N, 100))")
    parser.add_argument("--memory", action="store_true", help="peak memory of the CLI at --pages (no latency)")
    parser.add_argument("--server", choices=["process", "thread"], default="process",
                        help="run the emulator in a child process (default) or in a thread of this one")
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
        out = run(args.pages, args.latency_ms, args.parallelism, seq, workdir, args.server)
        if args.json:
            rows = [{**r.__dict__, "bound_s": r.bound_s, "ratio": r.ratio} for r in out["rows"]]
            print(json.dumps({**out, "rows": rows}, indent=2))
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
