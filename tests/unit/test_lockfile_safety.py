"""The lockfile backend under OS faults and through symlinks (issue 11, points 5 and 7).

Faults are injected in process: ``os.fsync``/``os.pwrite`` raise ENOSPC for the file under test only.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest
from pydantic import SecretStr

from provisioner.errors import LockHeld, StateError
from provisioner.secrets import Sealer, keygen
from provisioner.state import Holder, LockfileBackend, Resource

API = "https://api.example.test"
HOLDER = Holder(host="test", pid=1, started="2024-01-01T00:00:00+00:00")
SEALER = Sealer(keygen())


def resource(address: str, ident: int) -> Resource:
    return Resource(address, ident, f"slug-{ident}", SecretStr(f"edit-{ident}"), "Name", {"event": {"duration": 30}})


def enospc_for(monkeypatch: pytest.MonkeyPatch, name: str, call: str = "fsync") -> None:
    real = getattr(os, call)

    def failing(fd: int, *args):
        if os.path.basename(os.readlink(f"/proc/self/fd/{fd}")).startswith(name):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(fd, *args)

    monkeypatch.setattr(os, call, failing)


def test_a_full_disk_at_the_end_of_a_transaction_keeps_the_lockfile_and_the_steps(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    backend = LockfileBackend(tmp_path / "pages.lock", SEALER)
    with backend.transaction(API, HOLDER) as tx:
        tx.record(resource("a", 1))
    before = backend.path.read_bytes()
    with monkeypatch.context() as patch:
        enospc_for(patch, ".pages.lock.")  # the temp file of the new lockfile
        with pytest.raises(StateError) as info, backend.transaction(API, HOLDER) as tx:
            tx.record(resource("b", 2))
    assert "cannot write" in str(info.value) and "No space left on device" in str(info.value)
    assert "pages.lock.journal" in str(info.value)
    assert backend.path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pages.lock", "pages.lock.journal", "pages.lock.lock"]
    assert sorted(backend.read(API).resources) == ["a", "b"]  # nothing lost: the journal replays
    with backend.transaction(API, HOLDER):
        pass  # folds the journal now that the disk has room
    assert sorted(backend.read(API).resources) == ["a", "b"] and not backend.journal_path.exists()


def test_a_full_disk_when_taking_the_lock_is_a_state_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    backend = LockfileBackend(tmp_path / "pages.lock", SEALER)
    enospc_for(monkeypatch, "pages.lock.lock", "pwrite")
    with pytest.raises(StateError, match="cannot write the lock file .*No space left on device"):
        with backend.transaction(API, HOLDER):
            pytest.fail("the transaction began")


def test_a_symlinked_lockfile_is_written_through_and_shares_one_lock_with_its_target(tmp_path: Path):
    (tmp_path / "real").mkdir()
    link = tmp_path / "pages.lock"
    link.symlink_to(tmp_path / "real/state.lock")
    via_link = LockfileBackend(link, SEALER)
    direct = LockfileBackend(tmp_path / "real/state.lock", SEALER)
    with via_link.transaction(API, HOLDER) as tx:
        tx.record(resource("a", 1))
        with pytest.raises(LockHeld), direct.transaction(API, HOLDER):
            pytest.fail("two applies held one state through two names")
    assert link.is_symlink() and sorted(direct.read(API).resources) == ["a"]
    assert via_link.location == str(link)  # messages name the file the user gave
    assert not (tmp_path / "pages.lock.lock").exists() and (tmp_path / "real/state.lock.lock").exists()
