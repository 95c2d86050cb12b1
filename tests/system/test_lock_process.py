"""The apply lock and the crash journal across real processes: a holder that dies mid-apply (os._exit,
SIGKILL) loses nothing and leaves no stale lock; a second apply is refused at once, naming the holder.

The child runs a transaction on the same lockfile. It is synchronised through pipes only: it prints
"ready" once its steps are durable and then waits for its stdin to close.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from provisioner.errors import LockHeld
from provisioner.secrets import Sealer, keygen
from provisioner.state import Holder, LockfileBackend

API = "https://api.example.test"
TOKEN = "edit-token-of-the-child-xyzzy"

CHILD = r"""
import os, sys
from pathlib import Path
from pydantic import SecretStr
from provisioner.secrets import Sealer
from provisioner.state import LockfileBackend, Resource, current_holder

path, mode, api, token = Path(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
backend = LockfileBackend(path, Sealer(os.environ["PROVISIONER_LOCK_KEY"]))
with backend.transaction(api, current_holder()) as tx:
    tx.intend_create("sales/a", "slug-a")
    tx.record(Resource(address="sales/a", id=7, slug="slug-a", edit_token=SecretStr(token), name="A",
                       config={"locale": "en"}))
    tx.intend_create("sales/b", "slug-b")  # sent, outcome never known
    if mode == "exit":
        os._exit(9)
    print("ready", flush=True)
    sys.stdin.readline()
"""


@pytest.fixture
def key() -> str:
    return keygen()


@pytest.fixture
def backend(tmp_path: Path, key: str) -> LockfileBackend:
    return LockfileBackend(tmp_path / "pages.lock", Sealer(key))


def start(backend: LockfileBackend, key: str, mode: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PROVISIONER_LOCK_KEY": key}
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, str(backend.path), mode, API, TOKEN],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )


def wait_ready(proc: subprocess.Popen[str]) -> None:
    assert proc.stdout is not None
    line = proc.stdout.readline()  # blocks until the child has journaled its steps (or died)
    if line != "ready\n":
        proc.kill()
        _, err = proc.communicate(timeout=60)
        pytest.fail(f"child did not get ready: {err}")


def me() -> Holder:
    return Holder(host="parent", pid=os.getpid(), started="2024-01-01T00:00:00+00:00")


def assert_childs_progress_kept(backend: LockfileBackend) -> None:
    state = backend.read(API)
    assert set(state.resources) == {"sales/a"}
    assert state.resources["sales/a"].edit_token.get_secret_value() == TOKEN
    assert state.pending_creates == {"sales/b": "slug-b"}


def test_a_process_that_dies_mid_apply_loses_nothing(backend: LockfileBackend, key: str):
    proc = start(backend, key, "exit")
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 9, err
    assert not backend.path.exists() and backend.journal_path.exists()  # it never reached the fold
    assert TOKEN.encode() not in backend.journal_path.read_bytes()
    assert_childs_progress_kept(backend)  # plan sees it, without writing anything
    assert not backend.path.exists()
    with backend.transaction(API, me()) as tx:  # the lock died with the child; recovery folds first
        assert tx.state.pending_creates == {"sales/b": "slug-b"}
        tx.forget("sales/b")  # e.g. the apply found no page with that slug
    state = backend.read(API)
    assert set(state.resources) == {"sales/a"} and state.pending_creates == {} and state.serial == 2
    assert not backend.journal_path.exists()
    assert TOKEN.encode() not in backend.path.read_bytes()


def test_a_second_apply_is_refused_at_once_naming_the_holder(backend: LockfileBackend, key: str):
    proc = start(backend, key, "hold")
    try:
        wait_ready(proc)
        with pytest.raises(LockHeld) as err:
            with backend.transaction(API, me()):
                pytest.fail("entered a transaction held by another process")
        message = str(err.value)
        assert message.startswith(f"{backend.location} is locked by an apply: pid {proc.pid} ")
        assert f"pid {proc.pid} on {socket.gethostname()}, since " in message
        assert err.value.holder.pid == proc.pid
        assert_childs_progress_kept(backend)  # reads take no lock
    finally:
        _, errors = proc.communicate(input="\n", timeout=60)  # let it finish normally
    assert proc.returncode == 0, errors
    assert json.loads(backend.path.read_text())["serial"] == 1
    with backend.transaction(API, me()) as tx:  # free again
        tx.forget("sales/b")
    assert backend.read(API).serial == 2


def test_the_lock_is_released_when_its_holder_is_killed(backend: LockfileBackend, key: str):
    proc = start(backend, key, "hold")
    wait_ready(proc)
    proc.kill()  # SIGKILL: no finally blocks, no fold, no unlock by the child
    proc.communicate(timeout=60)
    assert proc.returncode == -9
    assert backend.journal_path.exists()
    with backend.transaction(API, me()) as tx:
        assert set(tx.state.resources) == {"sales/a"}
        assert tx.state.pending_creates == {"sales/b": "slug-b"}
    assert_childs_progress_kept(backend)
    assert json.loads(backend.path.read_text())["serial"] == 1
