"""The PostgreSQL apply lock and per-step commits across real processes.

A child process runs a transaction on the same target: it commits some steps, prints "ready" and
waits for its stdin to close. Killed there with SIGKILL, it loses nothing it committed, and the
database (not anyone by hand) frees its lock; while it lives, every other apply is refused at once,
naming it. Synchronised through pipes, process exit, and the server's own lock wait: no sleeps.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from provisioner.errors import LockHeld
from provisioner.secrets import Sealer, keygen
from provisioner.state import Holder

API = "https://api.example.test"
TOKEN = "edit-token-of-the-child-xyzzy"
JOB = "https://ci.example.test/jobs/42"

CHILD = r"""
import os, sys
from pydantic import SecretStr
from provisioner.errors import LockHeld
from provisioner.secrets import Sealer
from provisioner.state import Resource, current_holder
from provisioner.state.postgres import PostgresBackend

dsn, schema, mode, api, token = sys.argv[1:6]
backend = PostgresBackend(dsn, Sealer(os.environ["PROVISIONER_LOCK_KEY"]), "ci", schema=schema)
try:
    with backend.transaction(api, current_holder()) as tx:
        if mode == "try":
            sys.exit(0)
        tx.intend_create("sales/a", "slug-a")
        tx.record(Resource(address="sales/a", id=7, slug="slug-a", edit_token=SecretStr(token), name="A",
                           config={"locale": "en"}))
        tx.intend_create("sales/b", "slug-b")  # sent, outcome never known
        print("ready", flush=True)
        sys.stdin.readline()
except LockHeld as exc:
    print(exc, flush=True)
    sys.exit(3)
"""


@pytest.fixture
def key() -> str:
    return keygen()


@pytest.fixture
def backend(pg_dsn: str, pg_schema: str, key: str):
    from provisioner.state.postgres import PostgresBackend

    return PostgresBackend(pg_dsn, Sealer(key), "ci", schema=pg_schema)


@pytest.fixture
def children(pg_dsn: str, pg_schema: str, key: str) -> Iterator:
    started: list[subprocess.Popen[str]] = []

    def start(mode: str) -> subprocess.Popen[str]:
        env = {**os.environ, "PROVISIONER_LOCK_KEY": key, "CI_JOB_URL": JOB}
        proc = subprocess.Popen(
            [sys.executable, "-c", CHILD, pg_dsn, pg_schema, mode, API, TOKEN],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        )
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=60)


def wait_ready(proc: subprocess.Popen[str]) -> None:
    assert proc.stdout is not None
    line = proc.stdout.readline()  # blocks until the child has committed its steps (or died)
    if line != "ready\n":
        proc.kill()
        _, err = proc.communicate(timeout=60)
        pytest.fail(f"child did not get ready: {line!r} {err}")


def kill(proc: subprocess.Popen[str]) -> None:
    proc.kill()  # SIGKILL: no finally blocks, no serial bump, no unlock by the child
    proc.communicate(timeout=60)
    assert proc.returncode == -9


def me() -> Holder:
    return Holder(host="parent", pid=os.getpid(), started="2024-01-01T00:00:00+00:00")


@contextmanager
def lock_freed_by_the_server(dsn: str, lock_key: tuple[int, int]) -> Iterator[None]:
    """Hold the lock once the server has let go of the killed child's: the child's backend notices
    its client is gone a moment after the kill, so wait on the lock (the server wakes us; the
    timeout only bounds a failure). Released synchronously on leaving the block."""
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SET lock_timeout = '60s'")
        conn.execute("SELECT pg_advisory_lock(%s, %s)", lock_key)
        try:
            yield
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s, %s)", lock_key)


def assert_childs_progress_kept(backend) -> None:
    state = backend.read(API)
    assert set(state.resources) == {"sales/a"}
    assert state.resources["sales/a"].edit_token.get_secret_value() == TOKEN
    assert state.pending_creates == {"sales/b": "slug-b"}


def test_a_process_killed_mid_apply_loses_no_committed_step(backend, children, key, pg_dsn):
    from provisioner.state.postgres import PostgresBackend

    proc = children("hold")
    wait_ready(proc)
    kill(proc)
    fresh = PostgresBackend(pg_dsn, Sealer(key), "ci", schema=backend.schema)  # as a new process would
    assert_childs_progress_kept(fresh)  # a plan sees it, pending create included
    assert fresh.read(API).serial == 1  # a read shows the serial its progress will be folded into
    with lock_freed_by_the_server(pg_dsn, backend.lock_key):
        pass
    with backend.transaction(API, me()) as tx:  # folding the crashed apply bumps the serial once
        assert tx.state.pending_creates == {"sales/b": "slug-b"}
        tx.forget("sales/b")  # e.g. the apply found no page with that slug
    state = backend.read(API)
    assert set(state.resources) == {"sales/a"} and state.pending_creates == {} and state.serial == 2


def test_a_second_apply_from_another_process_is_refused_at_once_naming_the_holder(backend, children):
    holder = children("hold")
    wait_ready(holder)
    with pytest.raises(LockHeld) as err:
        with backend.transaction(API, me()):
            pytest.fail("entered a transaction held by another process")
    message = str(err.value)
    assert message.startswith(f"{backend.location} is locked by an apply: pid {holder.pid} on "
                               f"{socket.gethostname()}, since ")
    assert message.endswith(f"({JOB}); try again when it has finished")
    assert err.value.holder.pid == holder.pid and err.value.holder.ci_job_url == JOB
    assert backend.holder() == err.value.holder
    assert_childs_progress_kept(backend)  # reads take no lock

    racer = children("try")  # a third process racing for it is refused the same way
    out, errors = racer.communicate(timeout=60)
    assert racer.returncode == 3, errors
    assert f"is locked by an apply: pid {holder.pid} on " in out

    _, errors = holder.communicate(input="\n", timeout=60)  # let it finish normally
    assert holder.returncode == 0, errors
    assert backend.read(API).serial == 1 and backend.holder() is None
    with backend.transaction(API, me()) as tx:  # free again
        tx.forget("sales/b")
    assert backend.read(API).serial == 2


def test_the_database_releases_a_killed_holders_lock_and_never_names_it_again(backend, children, pg_dsn,
                                                                              pg_query):
    proc = children("hold")
    wait_ready(proc)
    kill(proc)
    with lock_freed_by_the_server(pg_dsn, backend.lock_key):  # proves the server freed it
        # The killed child's holder row is still there, but its session no longer holds the lock.
        rows = pg_query(f"SELECT pid FROM {backend.schema}.holders WHERE target = 'ci'")
        assert rows == [(proc.pid,)]
        with pytest.raises(LockHeld) as err:
            with backend.transaction(API, me()):
                pytest.fail("entered a transaction while the lock was held")
        assert "has not said who it is yet" in str(err.value) and err.value.holder is None
        assert backend.holder() is None
    with backend.transaction(API, me()) as tx:
        assert set(tx.state.resources) == {"sales/a"}
        assert tx.state.pending_creates == {"sales/b": "slug-b"}
    assert_childs_progress_kept(backend)
    assert backend.read(API).serial == 1
