"""Chaos harness: SIGKILL `provisioner apply` at random moments, rerun until it succeeds, check the result.

Each run makes a fresh project (generated pages) and its own emulator database, served over HTTP on
loopback in a thread of this process with slight latency and, optionally, injected faults (5xx, 429,
connections dropped before or after processing). It then goes through two phases: create the pages,
then change them (updates, deletes, new pages). In each phase ``provisioner apply --auto-approve`` runs
as a real child process and is killed (SIGKILL) after a seeded random number of progress lines on its
stderr (one per completed page: stderr is a pipe, not a terminal), up to ``kills`` times; then it is run
to completion (a run that fails on an exhausted retry is simply run again, as a user would). Once it
exits 0 the emulator's database (sqlite3) and the state (as ``provisioner state list`` shows it) are
checked:

- every live page is in the state (no orphan from an interrupted create) and every page in the state
  is live, with the same slug; the live slugs are exactly the desired ones (no duplicate, none missing);
- no journal, no pending create and no apply lock holder is left behind;
- ``plan --detailed-exitcode`` (faults off) exits 0: converged.

The state is the lockfile (backend ``lockfile``) or PostgreSQL (backend ``postgres``): then the project
has a ``provisioner.yaml`` with one target, named afresh for each run (``chaos_<hex>``), whose state is
``{postgres_dsn_env: PROVISIONER_CHAOS_PG_DSN}``; its rows are deleted when the run ends.

By hand, larger: ``python -m tests.system.chaos --runs 200 [--pages 12] [--seed 1] [--faults all]
[--backend postgres]`` (postgres reads the DSN from ``PROVISIONER_TEST_PG_DSN``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from provisioner.emulator import Emulator, FaultConfig
from provisioner.emulator.serve import serve_in_thread
from provisioner.secrets import keygen
from tests.bench.common import bench_env, generate, page_yaml

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
BACKENDS = ("lockfile", "postgres")
PG_DSN_VAR = "PROVISIONER_CHAOS_PG_DSN"  # the variable the generated provisioner.yaml names
PG_SCHEMA = "provisioner"  # the CLI's schema (it cannot choose another): runs differ by target name
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


class ChaosProject:
    """A project folder (``root``) applied to the emulator at ``url`` (database ``db``), with its state
    in the lockfile or in a PostgreSQL target of its own (``backend``, see the module docstring)."""

    def __init__(self, root: Path, url: str, db: Path, backend: str = "lockfile", pg_dsn: str | None = None,
                 env: dict[str, str] | None = None):
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, not {backend!r}")
        self.root, self.url, self.db, self.backend, self.pg_dsn = root, url, db, backend, pg_dsn
        self.delta = {**(env if env is not None else bench_env(keygen())), "PROVISIONER_API_URL": url}
        self.target: str | None = None
        if backend == "postgres":
            if not pg_dsn:
                raise ValueError("the postgres backend needs a DSN")
            self.target = f"chaos_{uuid.uuid4().hex[:12]}"
            self.delta[PG_DSN_VAR] = pg_dsn
            (root / "provisioner.yaml").write_text(
                f"targets:\n  {self.target}:\n    api_url: {url}\n    state: {{postgres_dsn_env: {PG_DSN_VAR}}}\n")
        self.env = {**os.environ, **self.delta}

    def start(self, *args: str) -> subprocess.Popen[str]:
        """``provisioner ARGS`` as a child process in ``root``; stderr (progress) is a pipe."""
        return subprocess.Popen([*CLI, *args], cwd=self.root, env=self.env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

    def apply(self, kill_after: int | None) -> tuple[int | None, str]:
        """Run apply; kill it after ``kill_after`` progress lines. (exit code or None if killed, stderr)."""
        proc = self.start("apply", "--auto-approve", "--parallelism", "4", "--max-deletes", "1000")
        assert proc.stderr is not None
        lines: list[str] = []
        try:
            while kill_after is None or len(lines) < kill_after:
                line = proc.stderr.readline()  # blocks until a page completes (or the process ends)
                if not line:
                    break
                lines.append(line)
            else:
                self.kill(proc)
                return None, "".join(lines)
            lines.append(proc.stderr.read())
            return proc.wait(timeout=120), "".join(lines)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=60)
            proc.stderr.close()

    def kill(self, proc: subprocess.Popen[str]) -> None:
        """SIGKILL ``proc`` mid-apply and wait until its apply lock is free again. A lockfile's flock dies
        with the process; PostgreSQL frees the advisory lock when the server sees the connection gone."""
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        if self.backend == "postgres":
            import psycopg

            from provisioner.secrets import Sealer
            from provisioner.state.postgres import PostgresBackend

            assert self.pg_dsn and self.target
            key = PostgresBackend(self.pg_dsn, Sealer(self.delta["PROVISIONER_LOCK_KEY"]), self.target).lock_key
            with psycopg.connect(self.pg_dsn, autocommit=True) as conn:
                conn.execute("SET lock_timeout = '60s'")  # bounds a failure; the server wakes us at once
                conn.execute("SELECT pg_advisory_lock(%s, %s)", key)
                conn.execute("SELECT pg_advisory_unlock(%s, %s)", key)

    def cli(self, *args: str) -> tuple[int, str]:
        """``provisioner ARGS`` in this process (the CLI's own code path, without a start-up), in ``root``.
        (exit code, stdout and stderr)."""
        from click.testing import CliRunner

        from provisioner.cli import main

        with contextlib.chdir(self.root):
            result = CliRunner().invoke(main, list(args), env=self.delta)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result.exit_code, result.output

    def plan_exit(self) -> tuple[int, str]:
        """``plan --detailed-exitcode``."""
        return self.cli("plan", "--detailed-exitcode")

    def recorded(self) -> dict[int, str]:
        """Page id -> slug of every page in the state, as ``provisioner state list`` shows it."""
        code, output = self.cli("state", "list")
        if code != 0:
            raise ChaosFailure(f"state list exited {code}: {output[-1500:]}")
        rows = [line.split("\t") for line in output.splitlines() if line.strip()]
        return {int(page.removeprefix("page ")): slug for _, page, slug in rows if page.startswith("page ")}

    def live(self) -> dict[int, str]:
        conn = sqlite3.connect(self.db)
        try:
            return dict(conn.execute("SELECT id, slug FROM pages").fetchall())
        finally:
            conn.close()

    def leftovers(self) -> list[str]:
        """What a finished apply must not leave behind: pending creates, a journal, a lock holder."""
        if self.backend == "lockfile":
            lock_path = self.root / "pages.lock"
            found = []
            if pending := json.loads(lock_path.read_text()).get("pending_creates"):
                found.append(f"pending creates left: {pending}")
            if lock_path.with_name("pages.lock.journal").exists():
                found.append("a journal was left behind by a successful apply")
            return found
        found = []
        if (self.root / "pages.lock").exists():
            found.append("pages.lock was written: the PostgreSQL target was not used")
        rows = self.sql(f"SELECT pending_creates, dirty FROM {PG_SCHEMA}.states WHERE target = %s", (self.target,))
        if not rows:
            return [*found, f"no state row for target {self.target}"]
        (pending, dirty), = rows
        if pending:
            found.append(f"pending creates left: {pending}")
        if dirty:
            found.append("the state is still marked dirty (an apply's steps were never folded)")
        if holders := self.sql(f"SELECT pid FROM {PG_SCHEMA}.holders WHERE target = %s", (self.target,)):
            found.append(f"an apply lock holder is still named: {holders}")
        return found

    def sql(self, statement: str, params: tuple[object, ...] = ()) -> list[tuple]:
        """One statement on the PostgreSQL state database; its rows."""
        import psycopg

        assert self.pg_dsn
        with psycopg.connect(self.pg_dsn, autocommit=True) as conn:
            cur = conn.execute(statement, params)  # type: ignore[arg-type]
            return cur.fetchall() if cur.description else []

    def drop_state(self) -> None:
        """Delete this run's PostgreSQL target (no-op for a lockfile, which goes with its folder)."""
        if self.backend == "postgres" and self.target:
            with contextlib.suppress(Exception):  # the schema may not exist if nothing ever ran
                self.sql(f"DELETE FROM {PG_SCHEMA}.holders WHERE target = %s", (self.target,))
                self.sql(f"DELETE FROM {PG_SCHEMA}.states WHERE target = %s", (self.target,))  # cascades


_Project = ChaosProject  # the name other tests (test_secrets_scan) import


def desired_slugs(pages: Path) -> set[str]:
    """The slugs of every page file under ``pages`` (a top-level ``slug:`` line)."""
    return {line.split(": ", 1)[1].strip() for f in pages.rglob("*.yaml") if not f.name.startswith("_")
            for line in f.read_text().splitlines() if line.startswith("slug: ")}


def check(project: ChaosProject, where: str) -> None:
    """The invariants (see the module docstring); raises ChaosFailure."""
    recorded = project.recorded()
    live = project.live()
    problems = []
    if orphans := sorted(set(live) - set(recorded)):
        problems.append(f"live pages missing from the state (orphans): {[live[i] for i in orphans]}")
    if ghosts := sorted(set(recorded) - set(live)):
        problems.append(f"pages in the state not live: {[recorded[i] for i in ghosts]}")
    if mismatched := [i for i in set(live) & set(recorded) if live[i] != recorded[i]]:
        problems.append(f"slug differs between the state and live for ids {mismatched}")
    desired = desired_slugs(project.root / "pages")
    if sorted(live.values()) != sorted(desired):
        problems.append(f"live slugs != desired: extra {sorted(set(live.values()) - desired)}, "
                        f"missing {sorted(desired - set(live.values()))}, {len(live)} live rows")
    problems.extend(project.leftovers())
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


def _converge(project: ChaosProject, rng: random.Random, report: RunReport, steps: int, kills: int,
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
             workdir: Path | None = None, backend: str = "lockfile", pg_dsn: str | None = None) -> RunReport:
    """One seeded run (two phases); raises ChaosFailure if an invariant breaks."""
    rng = random.Random(seed)
    report = RunReport(seed=seed, faults=faults)
    root = Path(tempfile.mkdtemp(prefix=f"chaos-{seed}-", dir=workdir))
    db = root / "emulator.db"
    emulator = Emulator(db, FaultConfig(latency_ms=latency_ms))
    project: ChaosProject | None = None
    try:
        with serve_in_thread(emulator) as url:
            project = ChaosProject(root, url, db, backend, pg_dsn)
            generate(root / "pages", pages)
            for phase in ("create", "change"):
                if phase == "change":
                    _mutate(root / "pages", pages, rng)
                where = f"seed {seed}, faults {faults}, backend {backend}, phase {phase}"
                emulator.faults = FaultConfig(latency_ms=latency_ms, seed=rng.randrange(2**31),
                                              **FAULTS[faults])  # type: ignore[arg-type]
                _converge(project, rng, report, pages, kills, where)
                for kind, count in emulator.stats()["faults"].items():
                    report.faults_injected[kind] = report.faults_injected.get(kind, 0) + count
                emulator.faults = FaultConfig()
                check(project, where)
    finally:
        emulator.close()
        if project is not None:
            project.drop_state()
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.system.chaos", description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--pages", type=int, default=12)
    parser.add_argument("--kills", type=int, default=3, help="kills per phase before running to completion")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--faults", choices=[*FAULTS, "cycle"], default="cycle",
                        help="fault profile, or cycle through all of them")
    parser.add_argument("--backend", choices=BACKENDS, default="lockfile",
                        help="where the state lives (postgres: DSN from PROVISIONER_TEST_PG_DSN)")
    args = parser.parse_args(argv)
    pg_dsn = os.environ.get("PROVISIONER_TEST_PG_DSN") if args.backend == "postgres" else None
    if args.backend == "postgres" and not pg_dsn:
        parser.error("--backend postgres needs PROVISIONER_TEST_PG_DSN (eval \"$(.ci/postgres)\")")
    profiles = list(FAULTS) if args.faults == "cycle" else [args.faults]
    totals: dict[str, int] = {"kills": 0, "applies": 0, "failed_applies": 0, "adopted": 0}
    injected: dict[str, int] = {}
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="chaos-") as tmp:
        for i in range(args.runs):
            seed, faults = args.seed + i, profiles[i % len(profiles)]
            try:
                report = run_once(seed, faults, args.pages, args.kills, workdir=Path(tmp),
                                  backend=args.backend, pg_dsn=pg_dsn)
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
