"""Benchmark of refresh by listing (issue 15): ``python -m tests.bench.refresh [--pages 1000] [--groups 4]
[--large-pages 10000] [--large-groups 10] [--latency-ms 100] [--parallelism 16] [--rounds 1] [--api v2 v3]
[--large-page-mode] [--check] [--json]``.

For each API (v2: pages spread over accounts, each page file naming its account's access token; v3:
configurations spread over grants), converged worlds are written straight into the emulator's database
and the lockfile (`tests.bench.world`), the emulator is served over real HTTP on 127.0.0.1 (a child
process, `tests.bench.common.served`), and ``workflows.plan`` runs in this process with
``refresh`` = ``page``, ``list`` and ``auto`` (the CLI's ``--refresh``), measuring in one run:

1. **1,000 pages over 4 accounts/grants**, 100 ms injected latency, parallelism 16: wall time of the
   whole plan (load, refresh, diff) and its requests for each mode side by side, best of ``--rounds``
   alternating rounds. Requests are counted twice: by the plan (``Plan.refresh.requests``, HTTP
   attempts, retries included) and by the emulator (``/_emulator/stats``); they must agree. Targets
   (list): <= 50 requests, <= 1.5 s (the per-page bound is 1,000 x 100 ms / 16 = 6.25 s).
2. **10,000 pages over 10 accounts/grants**, same latency: list and auto requests (target <= 250);
   then, with no latency, the peak memory of ``provisioner plan --refresh list`` as a child process
   (its own maxrss, the emulator excluded; target <= 200 MB).
3. **Rate limits**, 10,000 pages, no latency: the plan in list mode against an emulator enforcing the
   published limits (v2 and v3 alike: 50 requests/s per bearer, 500/s per application; the client
   limited to the same), and the same plan against an emulator enforcing none. The bound is the
   requests the refresh made divided by the binding rate: ``max(total / 500, per-bearer / 50)``
   seconds, where a v2 listing is charged to its account's access token (requests spread evenly over
   the groups listed; a page read alone by its edit token is a bearer of its own) and every v3 request
   to the one API key. **The ratio is the whole plan's wall time under the limits divided by that
   bound** (target <= 1.1); the unlimited plan's wall time and the refresh phase alone are printed
   beside it, so a plan that is CPU-bound rather than request-bound shows as such.

``--large-page-mode`` adds page mode to parts 2 and 3 (no latency only: at 100 ms, 10,000 reads take
over a minute). Exit status 0 whatever the figures; ``--check`` exits 1 when a target is missed.
Speed is reported here, never asserted by tests.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from provisioner.apis import V2, V3

from .common import Stats, cpu_time, free_port, served
from .world import World, build

TARGETS = {"requests_small": 50, "wall_small_s": 1.5, "requests_large": 250, "memory_mb_large": 200,
           "rate_ratio": 1.1}
LIMITS = {"per_account": 50.0, "per_application": 500.0}  # shared/nylas-scheduler-api.md; v3 emulator alike
LIMIT_FLAGS = ["--rate-limit-account", f"{LIMITS['per_account']:g}", "--rate-limit-app",
               f"{LIMITS['per_application']:g}"]
# The CLI, printing its own peak memory (KiB) on stderr when it exits: VmHWM, the high-water mark of this
# process's own memory. Not ru_maxrss: on Linux that keeps the peak of the memory image exec replaced, and
# subprocess starts a child with vfork, so the child's ru_maxrss is at least this (large) process's peak.
CLI_MEASURED = [sys.executable, "-c", "import atexit, sys\n"
                "def peak():\n"
                "    with open('/proc/self/status') as f:\n"
                "        kb = next(int(l.split()[1]) for l in f if l.startswith('VmHWM:'))\n"
                "    sys.stderr.write('\\nMAXRSS_KB %d\\n' % kb)\n"
                "    import resource\n"  # the forked loaders (`provisioner.cores`): the largest one's peak
                "    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
                "    sys.stderr.write('CHILD_MAXRSS_KB %d\\n' % children)\n"
                "atexit.register(peak)\n"
                "from provisioner.cli import main; main()"]


# --- one measured plan ------------------------------------------------------------------------------


class RefreshClock:
    """A progress sink that notes when the refresh phase begins and ends (`apply.Reporter`)."""

    def __init__(self) -> None:
        self.began = self.ended = 0.0
        self.started = time.perf_counter()

    def begin(self, total: int) -> None:
        self.began = time.perf_counter()

    def step(self, address: str, outcome: str) -> None: ...

    def end(self) -> None:
        self.ended = time.perf_counter()

    @property
    def seconds(self) -> float | None:
        return self.ended - self.began if self.ended >= self.began > 0 else None

    @property
    def before(self) -> float | None:
        """From the plan's start to the refresh's: loading and validating pages/, reading the state."""
        return self.began - self.started if self.began > 0 else None


@dataclass
class Run:
    api: str
    pages: int
    groups: int
    mode: str
    latency_ms: float
    limited: bool
    walls: list[float]
    cpu_s: float  # this process's CPU in the best round (the emulator is another process)
    refresh_s: float | None  # the refresh phase alone in the best round (progress begin to end)
    before_s: float | None  # the plan's start to the refresh's in the best round (load, validate, state)
    served: int  # requests the emulator counted (every round alike)
    plan_requests: int | None  # Plan.refresh.requests (None: the engine reports none)
    listed_groups: int | None
    read_alone: int | None

    @property
    def wall(self) -> float:
        return min(self.walls)

    @property
    def agree(self) -> bool:
        return self.plan_requests is None or self.plan_requests == self.served

    def bound_s(self) -> float:
        """Requests over the binding rate (see the module docstring)."""
        total = self.served
        if self.api == V3:
            per_bearer = total
        elif self.listed_groups:
            per_bearer = math.ceil((total - (self.read_alone or 0)) / self.listed_groups)
        else:
            per_bearer = 1 if total else 0  # page mode: each page's edit token is a bearer of its own
        return max(total / LIMITS["per_application"], per_bearer / LIMITS["per_account"])


def measure(world: World, url: str, mode: str, parallelism: int, latency_ms: float, limited: bool,
            rounds: int = 1, runs: list[Run] | None = None) -> Run:
    """``workflows.plan`` of the world in ``mode``, ``rounds`` times; the plan must find no change."""
    from provisioner import workflows
    from provisioner.project import RateLimitSettings

    settings = world.settings(parallelism, refresh=mode,
                              rate_limits=RateLimitSettings(**LIMITS) if limited else None)
    stats = Stats(url)
    run: Run | None = None
    for _ in range(rounds):
        clock = RefreshClock()
        stats.reset()
        cpu, start = cpu_time(), time.perf_counter()
        plan = workflows.plan(settings, progress=clock)
        wall, cpu = time.perf_counter() - start, cpu_time() - cpu
        served_total = stats.get()["total"]
        if plan.has_changes:
            raise SystemExit(f"the {world.api} world of {world.pages} pages is not converged: the plan has changes")
        counted = plan.refresh
        if run is None:
            run = Run(world.api, world.pages, world.groups, mode, latency_ms, limited, [], cpu, clock.seconds,
                      clock.before, served_total, counted.requests if counted else None,
                      counted.listed_groups if counted else None, counted.read_alone if counted else None)
        elif wall < run.wall:
            run.cpu_s, run.refresh_s, run.before_s = cpu, clock.seconds, clock.before
        run.walls.append(wall)
    assert run is not None
    if runs is not None:
        runs.append(run)
    return run


def memory(world: World, mode: str, parallelism: int) -> dict[str, Any]:
    """``provisioner plan`` as a child process in the world's folder: its wall time and peak memory."""
    env = {**os.environ, **world.env}
    if world.api == V2:
        env["PROVISIONER_API_URL"] = world.url
    args = ["plan", "--parallelism", str(parallelism), "--detailed-exitcode", "--refresh", mode]
    start = time.perf_counter()
    proc = subprocess.run([*CLI_MEASURED, *args], cwd=world.root, env=env, capture_output=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:  # --detailed-exitcode: 2 would mean changes, which a converged world has none of
        raise SystemExit(f"provisioner plan failed ({proc.returncode}): {proc.stderr.decode()[-2000:]}")
    lines = proc.stderr.decode().splitlines()
    marks = [line for line in lines if line.startswith("MAXRSS_KB ")]
    children = [line for line in lines if line.startswith("CHILD_MAXRSS_KB ")]
    return {"api": world.api, "pages": world.pages, "mode": mode, "wall_s": wall,
            "maxrss_mb": int(marks[-1].split()[1]) / 1024, "child_maxrss_mb": int(children[-1].split()[1]) / 1024}


# --- the run ----------------------------------------------------------------------------------------


def say(text: str) -> None:
    """Where a long run is, on stderr (the figures go to stdout at the end)."""
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def run_all(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    modes = ("page", "list", "auto")
    small_modes = list(modes)
    large_modes = ["list", "auto", *(["page"] if args.large_page_mode else [])]
    out: dict[str, Any] = {"small": [], "large": [], "memory": [], "rate": [], "modes": modes,
                           "loadavg": [os.getloadavg()], "args": vars(args)}
    for api in args.api:
        name = {"v2": V2, "v3": V3}[api]
        port = free_port()
        say(f"{api}: writing {args.pages} pages over {args.groups} owners")
        world = build(name, workdir / f"{api}-small", args.pages, args.groups, f"http://127.0.0.1:{port}")
        say(f"{api}: part 1, modes {', '.join(small_modes)}")
        with served("process", world.db, args.latency_ms, port=port) as url:
            for _ in range(args.rounds):  # alternating, so a busy machine slows every mode alike
                for mode in small_modes:
                    _best_of(out["small"], measure(world, url, mode, args.parallelism, args.latency_ms, False))
        out["loadavg"].append(os.getloadavg())
        if args.large_pages <= 0:
            continue
        port = free_port()
        say(f"{api}: writing {args.large_pages} pages over {args.large_groups} owners")
        world = build(name, workdir / f"{api}-large", args.large_pages, args.large_groups, f"http://127.0.0.1:{port}")
        say(f"{api}: parts 2 and 3, modes {', '.join(large_modes)}")
        with served("process", world.db, args.latency_ms, port=port) as url:
            for mode in [m for m in large_modes if m != "page"]:
                measure(world, url, mode, args.parallelism, args.latency_ms, False, runs=out["large"])
        with served("process", world.db, 0, port=port) as url:
            for mode in large_modes:
                out["memory"].append(memory(world, mode, args.parallelism))
                measure(world, url, mode, args.parallelism, 0, False, runs=out["rate"])
        with served("process", world.db, 0, port=port, flags=LIMIT_FLAGS) as url:
            for mode in large_modes:
                measure(world, url, mode, args.parallelism, 0, True, runs=out["rate"])
        out["loadavg"].append(os.getloadavg())
    return out


def _best_of(runs: list[Run], new: Run) -> None:
    """Fold a round into the run of the same API and mode (walls kept, best round's CPU)."""
    for run in runs:
        if (run.api, run.mode) == (new.api, new.mode):
            if new.wall < run.wall:
                run.cpu_s, run.refresh_s, run.before_s = new.cpu_s, new.refresh_s, new.before_s
            run.walls += new.walls
            run.served = max(run.served, new.served)
            return
    runs.append(new)


# --- output -----------------------------------------------------------------------------------------


def _requests(run: Run) -> str:
    plan = "-" if run.plan_requests is None else str(run.plan_requests)
    return f"{plan:>6} {run.served:>7} {'yes' if run.agree else 'NO':>5}"


def _row(run: Run) -> str:
    refresh = "-" if run.refresh_s is None else f"{run.refresh_s:.2f}"
    before = "-" if run.before_s is None else f"{run.before_s:.2f}"
    groups = "-" if run.listed_groups is None else f"{run.listed_groups}/{run.read_alone}"
    return (f"  {run.api:9} {run.pages:>6} {run.mode:5} {run.wall:8.2f} {before:>7} {refresh:>8} {run.cpu_s:7.2f} "
            f"{_requests(run)} {groups:>9}")


_HEADER = (f"  {'api':9} {'pages':>6} {'mode':5} {'wall s':>8} {'before':>7} {'refresh':>8} {'CPU s':>7} {'plan':>6} "
           f"{'served':>7} {'agree':>5} {'lists/alone':>9}")


def verdicts(out: dict[str, Any]) -> list[tuple[str, float, float, bool, str]]:
    """(what, value, target, met, note) of every target."""
    found: list[tuple[str, float, float, bool, str]] = []
    for run in out["small"]:
        if run.mode == "list":
            found.append((f"{run.api} list, {run.pages} pages: requests", run.served, TARGETS["requests_small"],
                          run.served <= TARGETS["requests_small"] and run.agree, ""))
            found.append((f"{run.api} list, {run.pages} pages: wall s", run.wall, TARGETS["wall_small_s"],
                          run.wall <= TARGETS["wall_small_s"], ""))
    for run in out["large"]:
        found.append((f"{run.api} {run.mode}, {run.pages} pages: requests", run.served, TARGETS["requests_large"],
                      run.served <= TARGETS["requests_large"] and run.agree, ""))
    for m in out["memory"]:
        found.append((f"{m['api']} {m['mode']}, {m['pages']} pages: peak MB", m["maxrss_mb"],
                      TARGETS["memory_mb_large"], m["maxrss_mb"] <= TARGETS["memory_mb_large"], ""))
    for run in out["rate"]:
        if not run.limited:
            continue
        free = next((r for r in out["rate"] if not r.limited and (r.api, r.mode) == (run.api, run.mode)), None)
        bound = run.bound_s()
        ratio = run.wall / bound if bound else math.inf
        note = ""
        if free is not None and free.wall > bound:
            note = (f"CPU-bound: {free.wall:.2f} s with no limit > bound {bound:.2f} s; with / without the "
                    f"limits {run.wall / free.wall:.2f}")
        found.append((f"{run.api} {run.mode}, {run.pages} pages: limited / bound", ratio, TARGETS["rate_ratio"],
                      ratio <= TARGETS["rate_ratio"], note))
    return found


def report(out: dict[str, Any]) -> str:
    a = out["args"]
    loads = ", ".join(f"{x[0]:.1f}" for x in out["loadavg"])
    lines = [f"refresh by listing: {a['pages']} pages over {a['groups']} accounts/grants and {a['large_pages']} "
             f"over {a['large_groups']}, parallelism {a['parallelism']}, emulator in a child process; load "
             f"average (1 min) {loads} on {os.cpu_count()} CPUs; engine modes {', '.join(out['modes'])}", "",
             "wall = the whole plan (best round); before = its start to the refresh's (load, validate, state "
             "read); refresh = the refresh phase; CPU = this process's; after the refresh comes the diff",
             "requests: plan = Plan.refresh.requests, served = the emulator's count; lists/alone = groups "
             "listed / pages read alone", "",
             f"1. plan of {a['pages']} pages at {a['latency_ms']:g} ms latency (best of {a['rounds']} round(s); "
             f"per-page bound {a['pages'] * a['latency_ms'] / 1000 / a['parallelism']:.2f} s):", _HEADER,
             *(_row(r) for r in out["small"])]
    if out["large"] or out["rate"]:
        lines += ["", f"2. {a['large_pages']} pages at {a['latency_ms']:g} ms latency:", _HEADER,
                  *(_row(r) for r in out["large"]),
                  *(f"  peak memory of `provisioner plan --refresh {m['mode']}` ({m['api']}, child process, no "
                    f"latency): {m['maxrss_mb']:.1f} MB (its largest forked loader {m['child_maxrss_mb']:.1f} MB, "
                    f"shared pages included), {m['wall_s']:.2f} s" for m in out["memory"]),
                  "", f"3. {a['large_pages']} pages, no latency, without and with the rate limits "
                  f"({LIMITS['per_account']:g}/s per bearer, {LIMITS['per_application']:g}/s per application):",
                  _HEADER + f" {'limits':>7} {'bound s':>8} {'ratio':>6}"]
        for run in out["rate"]:
            bound = run.bound_s()
            ratio = f"{run.wall / bound:.2f}" if run.limited and bound else "-"
            lines.append(_row(run) + f" {'on' if run.limited else 'off':>7} {bound:8.2f} {ratio:>6}")
        lines.append("  ratio = the whole plan's wall time under the limits / (requests / binding rate)")
    lines += ["", "targets:"]
    for what, value, target, met, note in verdicts(out):
        shown = f"{value:.2f}" if isinstance(value, float) else str(value)
        lines.append(f"  {what:44} {shown:>8} (target <= {target:g}) {'ok' if met else 'MISSED'}"
                     + (f"; {note}" if note else ""))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.refresh", description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--groups", type=int, default=4, help="accounts (v2) / grants (v3) of --pages")
    parser.add_argument("--large-pages", type=int, default=10000, help="0 skips parts 2 and 3")
    parser.add_argument("--large-groups", type=int, default=10)
    parser.add_argument("--latency-ms", type=float, default=100.0)
    parser.add_argument("--parallelism", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=1, help="alternating rounds of part 1 (best counts)")
    parser.add_argument("--api", nargs="+", choices=["v2", "v3"], default=["v2", "v3"])
    parser.add_argument("--large-page-mode", action="store_true", help="page mode in parts 2 and 3 too")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="provisioner-bench-refresh-"))
    try:
        out = run_all(args, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if args.json:
        print(json.dumps(out, indent=2, default=lambda r: {**dataclasses.asdict(r), "bound_s": r.bound_s()}))
    else:
        print(report(out))
    missed = [v for v in verdicts(out) if not v[3]]
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
