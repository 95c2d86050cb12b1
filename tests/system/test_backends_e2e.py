"""The end-to-end scenarios through the real CLI, on both state backends (the lockfile and PostgreSQL):
converge, drift, ``kill -9`` mid-apply, two applies racing from two processes; and ``state migrate``
from a lockfile to PostgreSQL and back.

Each test gets the example ``pages/``, its own emulator database served over HTTP on loopback, and
its own state: a lockfile in its folder, or a PostgreSQL target named afresh (``chaos_<hex>``, through
``provisioner.yaml``; the CLI keeps every target in the ``provisioner`` schema), deleted afterwards.
Applies that are killed or raced run as child processes; the other commands run the CLI in-process.

No sleeps: a `Gate` in front of the served emulator lets the first page create through and holds the
next one (received in full) until the test releases it, so "mid-apply" and "still holding the lock"
are certain, not a matter of timing; the test reads the apply's progress lines from its stderr pipe.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import sqlite3
import subprocess
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from provisioner.emulator import Emulator, FaultConfig
from provisioner.emulator.serve import serve_in_thread
from provisioner.secrets import keygen

from .chaos import BACKENDS, PG_DSN_VAR, PG_SCHEMA, ChaosProject, check

EXAMPLE_PAGES = Path(__file__).resolve().parents[2] / "pages"
ADDRESSES = ["customer-success/onboarding", "sales/demo", "sales/discovery", "support/office-hours"]
HOLD_S = 60.0  # a held create waits at most this long: only a failing test ever gets there


class Gate:
    """ASGI middleware in front of the emulator that can hold page creates (``POST /manage/pages``).

    After `hold_after(n)` the next ``n`` creates pass; every later one is read in full, then held until
    `release` and processed after it, whether or not its client is still there. `held` is set once a
    create waits at the gate, `finished` once a held create has been processed.
    """

    def __init__(self, app: Any):
        self.app = app
        self.passes: int | None = None  # creates still let through; None: the gate is open
        self.held = threading.Event()
        self.finished = threading.Event()
        self._released = threading.Event()

    def hold_after(self, n: int) -> None:
        self.passes = n

    def release(self) -> None:
        self._released.set()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        create = scope["type"] == "http" and scope["method"] == "POST" and scope["path"] == "/manage/pages"
        if not create or self.passes is None or self._released.is_set():
            await self.app(scope, receive, send)
            return
        if self.passes > 0:
            self.passes -= 1
            await self.app(scope, receive, send)
            return
        messages = [await receive()]  # the whole request, before its client can go away
        while messages[-1]["type"] == "http.request" and messages[-1].get("more_body"):
            messages.append(await receive())
        self.held.set()
        await asyncio.get_running_loop().run_in_executor(None, self._released.wait, HOLD_S)
        replay = iter(messages)

        async def replayed() -> dict[str, Any]:
            return next(replay, {"type": "http.disconnect"})

        try:
            await self.app(scope, replayed, send)
        finally:
            self.finished.set()


class E2E:
    """One test's project, emulator, gate and child processes."""

    def __init__(self, project: ChaosProject, gate: Gate):
        self.project, self.gate = project, gate
        self.children: list[subprocess.Popen[str]] = []

    def start_apply(self, *extra: str) -> subprocess.Popen[str]:
        proc = self.project.start("apply", "--auto-approve", *extra)
        self.children.append(proc)
        return proc

    def addresses(self) -> dict[str, int]:
        """Address -> page id, from ``provisioner state list``."""
        code, output = self.project.cli("state", "list")
        assert code == 0, output
        rows = [line.split("\t") for line in output.splitlines()]
        return {a: int(p.removeprefix("page ")) for a, p, _ in rows if p.startswith("page ")}  # not pending ones

    def stored(self) -> tuple[dict[str, int], str]:
        """(address -> page id, the raw text at rest) straight from the backend's storage."""
        if self.project.backend == "lockfile":
            text = (self.project.root / "pages.lock").read_text()
            return {a: p["id"] for a, p in json.loads(text)["pages"].items()}, text
        rows = self.project.sql(f"SELECT address, id::bigint, edit_token FROM {PG_SCHEMA}.pages WHERE target = %s",
                                (self.project.target,))
        return {a: i for a, i, _ in rows}, repr(rows)

    def edit_token(self, page_id: int) -> str:
        conn = sqlite3.connect(self.project.db)
        try:
            return conn.execute("SELECT edit_token FROM pages WHERE id = ?", (page_id,)).fetchone()[0]
        finally:
            conn.close()


@pytest.fixture(params=BACKENDS)
def e2e(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[E2E]:
    """The example pages applied to a served emulator, with the state on the parametrised backend
    (PostgreSQL skips without a server, and fails in CI, as every pg_ test does)."""
    dsn = request.getfixturevalue("pg_dsn") if request.param == "postgres" else None
    root = tmp_path / "project"
    shutil.copytree(EXAMPLE_PAGES, root / "pages")
    db = tmp_path / "emulator.db"
    emulator = Emulator(db, FaultConfig())
    gate = Gate(emulator.app)
    emulator.app = gate  # type: ignore[assignment]  # served as the emulator's app
    project = None
    try:
        with serve_in_thread(emulator) as url:
            project = ChaosProject(root, url, db, request.param, dsn, env={"PROVISIONER_LOCK_KEY": keygen()})
            env = E2E(project, gate)
            try:
                yield env
            finally:
                gate.release()  # nothing stays held, so the server can stop
                for proc in env.children:
                    if proc.poll() is None:
                        proc.kill()
                    proc.communicate(timeout=60)
    finally:
        emulator.close()
        if project is not None:
            project.drop_state()


def read_progress_line(proc: subprocess.Popen[str]) -> str:
    assert proc.stderr is not None
    line = proc.stderr.readline()  # blocks until the apply reports its first completed page
    if ": created (page " not in line:
        proc.kill()
        pytest.fail(f"no progress line from apply: {line!r}{proc.communicate(timeout=60)[1]}")
    return line


# --- the scenarios ---------------------------------------------------------------------------------


def test_converge(e2e: E2E):
    project = e2e.project
    code, output = project.cli("apply", "--auto-approve")
    assert code == 0, output
    assert output.count(": created (page ") == 4
    code, output = project.cli("plan", "--detailed-exitcode")
    assert code == 0, output
    assert "Plan: 0 to create, 0 to update, 0 to delete, 0 to recreate." in output

    listed = e2e.addresses()
    assert sorted(listed) == ADDRESSES
    stored, at_rest = e2e.stored()
    assert stored == listed  # state list shows what the backend holds
    assert sorted(project.live()) == sorted(listed.values())
    for page_id in listed.values():  # edit tokens are sealed at rest on both backends
        assert e2e.edit_token(page_id) not in at_rest
    assert (project.root / "pages.lock").exists() == (project.backend == "lockfile")
    check(project, "converged")


def test_drift_from_an_end_user_edit_is_reported_and_reverted(e2e: E2E):
    project = e2e.project
    assert project.cli("apply", "--auto-approve")[0] == 0
    page_id = e2e.addresses()["sales/discovery"]
    headers = {"Authorization": f"Bearer {e2e.edit_token(page_id)}"}  # as the Schedule Editor does
    url = f"{project.url}/manage/pages/{page_id}"
    config = httpx.get(url, headers=headers).json()["config"]
    config["event"]["duration"] = 50
    assert httpx.put(url, headers=headers, json={"config": config}).status_code == 200

    code, output = project.cli("drift")
    assert code == 2, output
    assert "sales/discovery" in output and "config.event.duration" in output
    code, output = project.cli("drift", "--format", "json")
    (page,) = [p for p in json.loads(output)["pages"] if p["address"] == "sales/discovery"]
    assert [(d["path"], d["last_applied"], d["live"]) for d in page["drift"]] == [("config.event.duration", 20, 50)]

    code, output = project.cli("apply", "--auto-approve")
    assert code == 0, output
    assert httpx.get(url, headers=headers).json()["config"]["event"]["duration"] == 20
    assert project.cli("drift")[0] == 0
    check(project, "reverted")


def test_kill_9_mid_apply_then_rerun_converges_without_orphans_or_duplicates(e2e: E2E):
    project = e2e.project
    e2e.gate.hold_after(1)
    apply = e2e.start_apply("--parallelism", "1")  # one create at a time: the second one is held
    read_progress_line(apply)
    assert e2e.gate.held.wait(HOLD_S)  # the second create has reached the server
    project.kill(apply)  # SIGKILL, then wait until the apply lock is free again
    assert apply.returncode == -9
    e2e.gate.release()  # the server now creates the page whose answer the dead apply never read
    assert e2e.gate.finished.wait(HOLD_S)

    recorded = project.recorded()
    assert len(recorded) == 1 and len(project.live()) == 2  # one page recorded, one orphan-to-be
    (orphan,) = set(project.live()) - set(recorded)

    code, output = project.cli("apply", "--auto-approve")
    assert code == 0, output
    assert output.count(": adopted (page ") == 1 and f": adopted (page {orphan}," in output
    assert len(project.live()) == 4 and project.recorded() == project.live()
    check(project, "rerun after kill -9")  # no orphan, no duplicate, nothing pending, plan exits 0


def test_a_second_apply_from_another_process_is_refused_at_once_naming_the_holder(e2e: E2E):
    project = e2e.project
    e2e.gate.hold_after(1)
    first = e2e.start_apply("--parallelism", "1")
    read_progress_line(first)  # it holds the apply lock, and cannot finish until the gate opens

    second = e2e.start_apply()
    _, refusal = second.communicate(timeout=60)  # would hang here if it waited for the lock
    assert second.returncode == 1, refusal
    assert f"is locked by an apply: pid {first.pid} on {socket.gethostname()}, since " in refusal
    assert first.poll() is None  # still applying: the refusal did not wait for it

    e2e.gate.release()
    _, rest = first.communicate(timeout=60)
    assert first.returncode == 0, rest
    assert project.recorded() == project.live() and len(project.live()) == 4
    check(project, "after the race")


def test_state_migrates_from_a_lockfile_to_postgres_and_back_losslessly(tmp_path: Path, pg_dsn: str, pg_query):
    root = tmp_path / "project"
    shutil.copytree(EXAMPLE_PAGES, root / "pages")
    db = tmp_path / "emulator.db"
    target = f"e2e_{uuid.uuid4().hex[:12]}"
    emulator = Emulator(db, FaultConfig())
    try:
        with serve_in_thread(emulator) as url:
            project = ChaosProject(root, url, db, "lockfile", pg_dsn,
                                   env={"PROVISIONER_LOCK_KEY": keygen(), PG_DSN_VAR: pg_dsn})
            on_file = f"targets:\n  {target}:\n    api_url: {url}\n    state: state.lock\n"
            (root / "provisioner.yaml").write_text(on_file)
            assert project.cli("apply", "--auto-approve")[0] == 0
            listing = project.cli("state", "list")[1]
            original = (root / "state.lock").read_bytes()

            code, output = project.cli("state", "migrate", "--to", pg_dsn)
            assert code == 0, output
            assert "Migrated 4 page(s) (serial 1) to " in output and "postgres@" not in output
            rows = pg_query(f"SELECT address FROM {PG_SCHEMA}.pages WHERE target = %s ORDER BY 1", (target,))
            assert [a for (a,) in rows] == ADDRESSES
            code, output = project.cli("state", "migrate", "--to", pg_dsn)  # never overwrites state
            assert code == 1 and "already holds state" in output

            on_postgres = on_file.replace("state: state.lock", f"state: {{postgres_dsn_env: {PG_DSN_VAR}}}")
            (root / "provisioner.yaml").write_text(on_postgres)
            (root / "state.lock").rename(tmp_path / "original.lock")  # now only PostgreSQL has the state
            assert project.cli("state", "list")[1] == listing
            code, output = project.cli("plan", "--detailed-exitcode")
            assert code == 0, output

            code, output = project.cli("state", "migrate", "--to", "back.lock")
            assert code == 0, output
            assert (root / "back.lock").read_bytes() == original  # byte for byte, sealed tokens included
            code, output = project.cli("state", "migrate", "--to", "back.lock")
            assert code == 1 and "already holds state" in output
            assert not (root / "state.lock").exists()
    finally:
        emulator.close()
        pg_query(f"DELETE FROM {PG_SCHEMA}.states WHERE target = %s", (target,))
        pg_query(f"DELETE FROM {PG_SCHEMA}.holders WHERE target = %s", (target,))
