"""Chaos harness: SIGKILL `provisioner apply` at random moments, rerun until it succeeds, check the result.

Each run makes a fresh project (generated pages) and its own emulator database, served over HTTP on
loopback in a thread of this process with slight latency and, optionally, injected faults (5xx, 429,
connections dropped before or after processing). It then goes through two phases: create the pages,
then change them (updates, deletes, new pages). In each phase ``provisioner apply --auto-approve`` runs
as a real child process and is killed (SIGKILL) after a seeded random number of progress lines on its
stderr (one per completed page: stderr is a pipe, not a terminal), up to ``kills`` times; then it is run
to completion (a run that fails on an exhausted retry is simply run again, as a user would). Once it
exits 0 the emulator's database (sqlite3) and the lockfile are checked:

- every live page is in the lockfile (no orphan from an interrupted create) and every lockfile page
  is live, with the same slug; the live slugs are exactly the desired ones (no duplicate, none missing);
- no journal and no pending create is left behind;
- ``plan --detailed-exitcode`` (faults off) exits 0: converged.

By hand, larger: ``python -m tests.system.chaos --runs 200 [--pages 12] [--seed 1] [--faults all]``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from provisioner.bench import bench_env, generate, page_yaml
from provisioner.emulator import Emulator, FaultConfig
from provisioner.emulator.serve import serve_in_thread
from provisioner.secrets import keygen

CLI = [sys.executable, "-c", "from provisioner.cli import main; main()"]
FAULTS = {
    "none": {},
    "5xx": {"error_rate": 0.15},
    "429": {"rate_limit_rate": 0.15, "retry_after": 0},
    "drop-before": {"drop_before_rate": 0.15},
    "drop-after": {"drop_after_rate": 0.15},
    "all": {"error_rate": 0.05, "rate_limit_rate": 0.05, "retry_after": 0, "drop_before_rate": 0.05,
            "drop_after_rate": 0.05},
}
COMPLETION_ATTEMPTS = 8  # runs without a kill allowed to fail (exhausted retries) before giving up


class ChaosFailure(AssertionError):
    """An invariant did not hold; the message says which, with the seed to replay it."""


@dataclass
class RunReport:
    seed: int
    faults: str
    kills: int = 0
    applies: int = 0
    failed_applies: int = 0  # exit 1 (e.g. retries exhausted), not killed
    adopted: int = 0  # pages adopted after an interrupted create
    faults_injected: dict[str, int] = field(default_factory=dict)


class _Project:
    def __init__(self, root: Path, url: str, db: Path):
        self.root, self.url, self.db = root, url, db
        self.delta = {**bench_env(keygen()), "PROVISIONER_API_URL": url}
        self.env = {**os.environ, **self.delta}

    def apply(self, kill_after: int | None) -> tuple[int | None, str]:
        """Run apply; kill it after ``kill_after`` progress lines. (exit code or None if killed, stderr)."""
        cmd = [*CLI, "apply", "--auto-approve", "--parallelism", "4", "--max-deletes", "1000"]
        proc = subprocess.Popen(cmd, cwd=self.root, env=self.env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        assert proc.stderr is not None
        lines: list[str] = []
        try:
            while kill_after is None or len(lines) < kill_after:
                line = proc.stderr.readline()  # blocks until a page completes (or the process ends)
                if not line:
                    break
                lines.append(line)
            else:
                proc.send_signal(signal.SIGKILL)
                proc.wait(timeout=60)
                return None, "".join(lines)
            lines.append(proc.stderr.read())
            return proc.wait(timeout=120), "".join(lines)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=60)
            proc.stderr.close()

    def plan_exit(self) -> tuple[int, str]:
        """``plan --detailed-exitcode``, in process (the CLI's own code path, without a start-up)."""
        from click.testing import CliRunner

        from provisioner.cli import main

        args = ["plan", "--detailed-exitcode", "--dir", str(self.root / "pages"),
                "--lockfile", str(self.root / "pages.lock")]
        result = CliRunner().invoke(main, args, env=self.delta)
        return result.exit_code, result.output

    def live(self) -> dict[int, str]:
        conn = sqlite3.connect(self.db)
        try:
            return dict(conn.execute("SELECT id, slug FROM pages").fetchall())
        finally:
            conn.close()


def _desired_slugs(pages: Path) -> set[str]:
    return {line.split(": ", 1)[1] for f in pages.rglob("page-*.yaml")
            for line in f.read_text().splitlines() if line.startswith("slug: ")}


def check(project: _Project, where: str) -> None:
    """The invariants (see the module docstring); raises ChaosFailure."""
    lock_path = project.root / "pages.lock"
    lock = json.loads(lock_path.read_text())
    recorded = {p["id"]: p["slug"] for p in lock["pages"].values()}
    live = project.live()
    problems = []
    if orphans := sorted(set(live) - set(recorded)):
        problems.append(f"live pages missing from the lockfile (orphans): {[live[i] for i in orphans]}")
    if ghosts := sorted(set(recorded) - set(live)):
        problems.append(f"lockfile pages not live: {[recorded[i] for i in ghosts]}")
    if mismatched := [i for i in set(live) & set(recorded) if live[i] != recorded[i]]:
        problems.append(f"slug differs between lockfile and live for ids {mismatched}")
    desired = _desired_slugs(project.root / "pages")
    if sorted(live.values()) != sorted(desired):
        problems.append(f"live slugs != desired: extra {sorted(set(live.values()) - desired)}, "
                        f"missing {sorted(desired - set(live.values()))}, {len(live)} live rows")
    if lock.get("pending_creates"):
        problems.append(f"pending creates left: {lock['pending_creates']}")
    if lock_path.with_name("pages.lock.journal").exists():
        problems.append("a journal was left behind by a successful apply")
    code, output = project.plan_exit()
    if code != 0:
        problems.append(f"plan --detailed-exitcode exited {code}:\n{output[-1500:]}")
    if problems:
        raise ChaosFailure(f"{where}: " + "; ".join(problems))


def _mutate(pages: Path, n: int, rng: random.Random) -> None:
    """Update about half the pages, delete two, add two."""
    files = sorted(pages.rglob("page-*.yaml"))
    for f in rng.sample(files, k=max(1, len(files) // 2)):
        f.write_text(f.read_text().replace(" v0\n", " v1\n"))
    for f in rng.sample(files, k=min(2, len(files) - 1)):
        f.unlink()
    for i in range(n, n + 2):
        (pages / "group-000" / f"page-{i:05d}.yaml").write_text(page_yaml(i, 0))


def _converge(project: _Project, rng: random.Random, report: RunReport, steps: int, kills: int,
              where: str) -> None:
    for _ in range(kills):
        code, err = project.apply(kill_after=rng.randint(1, max(steps, 1)))
        report.applies += 1
        report.adopted += err.count(": adopted")
        if code is None:
            report.kills += 1
        elif code != 0:
            report.failed_applies += 1
    for _ in range(COMPLETION_ATTEMPTS):
        code, err = project.apply(kill_after=None)
        report.applies += 1
        report.adopted += err.count(": adopted")
        if code == 0:
            return
        if code != 1 or "Traceback" in err:
            raise ChaosFailure(f"{where}: apply exited {code}:\n{err[-2000:]}")
        report.failed_applies += 1
    raise ChaosFailure(f"{where}: apply did not succeed in {COMPLETION_ATTEMPTS} attempts:\n{err[-2000:]}")


def run_once(seed: int, faults: str = "none", pages: int = 6, kills: int = 2, latency_ms: int = 5,
             workdir: Path | None = None) -> RunReport:
    """One seeded run (two phases); raises ChaosFailure if an invariant breaks."""
    rng = random.Random(seed)
    report = RunReport(seed=seed, faults=faults)
    root = Path(tempfile.mkdtemp(prefix=f"chaos-{seed}-", dir=workdir))
    db = root / "emulator.db"
    emulator = Emulator(db, FaultConfig(latency_ms=latency_ms))
    try:
        with serve_in_thread(emulator) as url:
            project = _Project(root, url, db)
            generate(root / "pages", pages)
            for phase in ("create", "change"):
                if phase == "change":
                    _mutate(root / "pages", pages, rng)
                where = f"seed {seed}, faults {faults}, phase {phase}"
                emulator.faults = FaultConfig(latency_ms=latency_ms, seed=rng.randrange(2**31),
                                              **FAULTS[faults])  # type: ignore[arg-type]
                _converge(project, rng, report, pages, kills, where)
                for kind, count in emulator.stats()["faults"].items():
                    report.faults_injected[kind] = report.faults_injected.get(kind, 0) + count
                emulator.faults = FaultConfig()
                check(project, where)
    finally:
        emulator.close()
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.system.chaos", description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--pages", type=int, default=12)
    parser.add_argument("--kills", type=int, default=3, help="kills per phase before running to completion")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--faults", choices=[*FAULTS, "cycle"], default="cycle",
                        help="fault profile, or cycle through all of them")
    args = parser.parse_args(argv)
    profiles = list(FAULTS) if args.faults == "cycle" else [args.faults]
    totals: dict[str, int] = {"kills": 0, "applies": 0, "failed_applies": 0, "adopted": 0}
    injected: dict[str, int] = {}
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="chaos-") as tmp:
        for i in range(args.runs):
            seed, faults = args.seed + i, profiles[i % len(profiles)]
            try:
                report = run_once(seed, faults, args.pages, args.kills, workdir=Path(tmp))
            except ChaosFailure as exc:
                print(f"FAILED run {i + 1}: {exc}", file=sys.stderr)
                return 1
            for key in totals:
                totals[key] += getattr(report, key)
            for kind, count in report.faults_injected.items():
                injected[kind] = injected.get(kind, 0) + count
            print(f"run {i + 1}/{args.runs} seed {seed} faults {faults}: ok ({report.kills} kills, "
                  f"{report.applies} applies, {report.adopted} adopted)", flush=True)
    print(f"{args.runs} runs ok in {time.perf_counter() - start:.0f} s: {totals}, faults injected {injected}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
