"""The crash journal: step semantics, torn lines, and replay/fold after a simulated crash.

A crash is simulated here by copying the files as they were mid-apply and putting them back; the
real-process kill tests are in tests/system/test_lock_process.py.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from pydantic import SecretStr

from provisioner.errors import StateError
from provisioner.journal import (
    Forget,
    IntendCreate,
    JournalHeader,
    JournalWriter,
    Move,
    Record,
    apply_step,
    read_journal,
)
from provisioner.secrets import Sealer, keygen
from provisioner.state import Holder, LockfileBackend, Resource, State

API = "https://api.example.test"
HOLDER = Holder(host="test-host", pid=4242, started="2024-01-01T00:00:00+00:00")


def page(address: str, n: int = 1, **changes: object) -> Resource:
    fields: dict[str, object] = dict(
        address=address, id=1000 + n, slug=f"slug-{n}", edit_token=SecretStr(f"edit-secret-{n}-xyzzy"),
        name=f"Page {n}", config={"locale": "en", "n": n},
    )
    fields.update(changes)
    return Resource(**fields)  # type: ignore[arg-type]


EMPTY = State(lineage="L", serial=0, api_url=API)


# --- steps (pure) --------------------------------------------------------------------------------


def test_steps_change_the_state_as_documented():
    s = apply_step(EMPTY, IntendCreate("a", "slug-1"))
    assert s.pending_creates == {"a": "slug-1"} and EMPTY.pending_creates == {}  # the input is untouched
    s = apply_step(s, Record(page("a", 1)))
    assert s.pending_creates == {} and s.resources == {"a": page("a", 1)}
    s = apply_step(s, Move("a", "b"))
    assert set(s.resources) == {"b"} and s.resources["b"].address == "b" and s.resources["b"].id == 1001
    s = apply_step(s, Forget("b"))
    assert s.resources == {}


def test_forget_clears_a_pending_create_but_refuses_an_unknown_address():
    s = apply_step(EMPTY, IntendCreate("a", "slug-1"))
    assert apply_step(s, Forget("a")).pending_creates == {}
    with pytest.raises(StateError, match="cannot forget x: it is not in pages.lock"):
        apply_step(s, Forget("x"), "pages.lock")


def test_move_refuses_unknown_source_and_taken_destination():
    s = apply_step(apply_step(EMPTY, Record(page("a", 1))), Record(page("b", 2)))
    with pytest.raises(StateError, match="cannot move x"):
        apply_step(s, Move("x", "y"))
    with pytest.raises(StateError, match="b is already in"):
        apply_step(s, Move("a", "b"))
    # A page moving onto an address with a pending create supersedes the intent (a renamed file).
    moved = apply_step(apply_step(s, IntendCreate("p", "slug-p")), Move("a", "p"))
    assert "p" in moved.resources and moved.pending_creates == {}


# --- the file ------------------------------------------------------------------------------------


def encode(r: Resource) -> dict:
    return {"id": r.id, "slug": r.slug}


def decode(address: str, raw: dict, where: str) -> Resource:
    return page(address, raw["id"] - 1000)


def make_journal(path: Path) -> None:
    writer = JournalWriter(path, JournalHeader("L", 3, API), encode)
    writer.append(IntendCreate("a", "slug-1"))
    writer.append(Record(page("a", 1)))
    writer.append(IntendCreate("b", "slug-2"))
    writer.close()


def test_writer_creates_the_file_on_the_first_step_only(tmp_path: Path):
    path = tmp_path / "j"
    writer = JournalWriter(path, JournalHeader("L", 3, API), encode)
    assert not path.exists() and not writer.started
    writer.append(Forget("a"))
    writer.close()
    assert writer.started
    lines = path.read_text().splitlines()
    assert json.loads(lines[0]) == {"journal": 1, "lineage": "L", "serial": 3, "api_url": API}
    assert json.loads(lines[1]) == {"op": "forget", "address": "a"}


def test_journal_reads_back_every_step(tmp_path: Path):
    path = tmp_path / "j"
    make_journal(path)
    journal = read_journal(path, decode)
    assert journal is not None
    assert journal.header == JournalHeader("L", 3, API)
    assert journal.steps == [IntendCreate("a", "slug-1"), Record(page("a", 1)), IntendCreate("b", "slug-2")]


TAILS = [b'{"op": "forget", "addr', b'{"op": "forget", "address": "a"}', b"\x00\x00\x00\n"]


@pytest.mark.parametrize("tail", TAILS)
def test_a_torn_or_garbled_last_line_is_ignored(tmp_path: Path, tail: bytes):
    path = tmp_path / "j"
    make_journal(path)
    with path.open("ab") as fh:
        fh.write(tail)
    journal = read_journal(path, decode)
    assert journal is not None and len(journal.steps) == 3


def test_a_corrupt_line_before_the_last_is_refused(tmp_path: Path):
    path = tmp_path / "j"
    make_journal(path)
    lines = path.read_bytes().split(b"\n")
    lines[2] = b"garbage"
    path.write_bytes(b"\n".join(lines))
    with pytest.raises(StateError, match=r"j line 3 is corrupt"):
        read_journal(path, decode)


@pytest.mark.parametrize("content", [b"", b'{"journal": 1, "line'])
def test_a_journal_without_a_complete_header_is_no_journal(tmp_path: Path, content: bytes):
    path = tmp_path / "j"
    path.write_bytes(content)
    assert read_journal(path, decode) is None
    assert read_journal(tmp_path / "missing", decode) is None


def test_an_unknown_step_is_refused(tmp_path: Path):
    path = tmp_path / "j"
    make_journal(path)
    with path.open("a") as fh:
        fh.write('{"op": "teleport", "address": "a"}\n{"op": "forget", "address": "a"}\n')
    with pytest.raises(StateError, match="line 5: unknown step 'teleport'"):
        read_journal(path, decode)


# --- replay and fold through the backend ---------------------------------------------------------


@pytest.fixture
def backend(tmp_path: Path) -> LockfileBackend:
    return LockfileBackend(tmp_path / "pages.lock", Sealer(keygen()))


def crash_mid_apply(backend: LockfileBackend, steps, *, after_lockfile_write: bool = False) -> bytes:
    """Run ``steps`` in a transaction and leave the files as a crash would have: before the fold
    (lockfile as it was, journal full) or after the lockfile write but before the journal removal.
    Returns the journal's bytes."""
    before = backend.path.read_bytes() if backend.path.exists() else None
    with backend.transaction(API, HOLDER) as tx:
        steps(tx)
        journal = backend.journal_path.read_bytes()
    backend.journal_path.write_bytes(journal)
    if not after_lockfile_write:
        if before is None:
            backend.path.unlink()
        else:
            backend.path.write_bytes(before)
    return journal


def seed(backend: LockfileBackend) -> State:
    with backend.transaction(API, HOLDER) as tx:
        tx.record(page("kept", 1))
        tx.record(page("old", 2))
    return backend.read(API)


def interrupted(tx) -> None:
    tx.move("old", "new")
    tx.intend_create("c", "slug-3")
    tx.record(page("c", 3))
    tx.intend_create("d", "slug-4")  # the create was sent; its outcome never recorded


def test_read_replays_an_interrupted_apply_without_writing(backend: LockfileBackend):
    seeded = seed(backend)
    crash_mid_apply(backend, interrupted)
    lock_bytes, journal_bytes = backend.path.read_bytes(), backend.journal_path.read_bytes()
    state = backend.read(API)
    assert set(state.resources) == {"kept", "new", "c"}
    assert state.pending_creates == {"d": "slug-4"}
    assert state.serial == seeded.serial + 1 and state.lineage == seeded.lineage  # the serial it folds into
    assert backend.path.read_bytes() == lock_bytes and backend.journal_path.read_bytes() == journal_bytes


def test_the_next_transaction_folds_the_journal_first(backend: LockfileBackend):
    seeded = seed(backend)
    crash_mid_apply(backend, interrupted)
    with backend.transaction(API, HOLDER) as tx:
        assert not backend.journal_path.exists()  # recovered before the apply does anything
        assert tx.state.pending_creates == {"d": "slug-4"} and tx.state.serial == seeded.serial + 1
        on_disk = json.loads(backend.path.read_text())
        assert on_disk["pending_creates"] == {"d": "slug-4"} and set(on_disk["pages"]) == {"kept", "new", "c"}
        tx.record(page("d", 4))  # the apply found the page by slug and adopted it
    final = backend.read(API)
    assert final.pending_creates == {} and set(final.resources) == {"kept", "new", "c", "d"}
    assert final.serial == seeded.serial + 2


def test_folding_is_idempotent_when_the_crash_came_after_the_lockfile_write(backend, monkeypatch):
    seeded = seed(backend)
    crash_mid_apply(backend, interrupted, after_lockfile_write=True)
    written = backend.path.read_bytes()
    assert json.loads(written)["serial"] == seeded.serial + 1 and backend.journal_path.exists()
    state = backend.read(API)  # replaying the move again would fail: "old" is gone
    assert set(state.resources) == {"kept", "new", "c"} and state.serial == seeded.serial + 1
    replaced: list[str] = []
    real = os.replace
    monkeypatch.setattr(os, "replace", lambda src, dst: (replaced.append(str(dst)), real(src, dst))[1])
    with backend.transaction(API, HOLDER) as tx:
        assert tx.state.serial == seeded.serial + 1
    assert replaced == [] and backend.path.read_bytes() == written
    assert not backend.journal_path.exists()


def test_a_crash_before_the_first_lockfile_keeps_the_journals_lineage(backend: LockfileBackend):
    crash_mid_apply(backend, lambda tx: tx.intend_create("a", "slug-1"))
    assert not backend.path.exists()
    lineage = json.loads(backend.journal_path.read_text().splitlines()[0])["lineage"]
    first, second = backend.read(API), backend.read(API)
    assert first.lineage == second.lineage == lineage and first.pending_creates == {"a": "slug-1"}
    with backend.transaction(API, HOLDER):
        pass
    assert json.loads(backend.path.read_text())["lineage"] == lineage


def test_a_journal_for_another_state_is_refused(backend: LockfileBackend):
    seed(backend)
    journal = crash_mid_apply(backend, interrupted)
    lines = journal.decode().splitlines(keepends=True)
    for change, expected in [({"lineage": "someone-else"}, "lineage someone-else"),
                             ({"serial": 7}, "serial 7"),
                             ({"api_url": "https://other.test"}, "belongs to https://other.test")]:
        header = {**json.loads(lines[0]), **change}
        backend.journal_path.write_text(json.dumps(header) + "\n" + "".join(lines[1:]))
        with pytest.raises(StateError, match=expected) as err:
            backend.read(API)
        assert str(backend.journal_path) in str(err.value)
        with pytest.raises(StateError, match=expected):
            with backend.transaction(API, HOLDER):
                pass


def test_a_journal_continuing_a_missing_lockfile_is_refused(backend: LockfileBackend):
    seed(backend)
    crash_mid_apply(backend, interrupted)
    backend.path.unlink()
    with pytest.raises(StateError, match="pages.lock is missing: restore"):
        backend.read(API)


def test_an_empty_leftover_journal_is_just_removed(backend: LockfileBackend):
    seeded = seed(backend)
    backend.journal_path.write_bytes(b'{"journal": 1, "lin')  # the crash tore the header
    assert backend.read(API) == seeded
    with backend.transaction(API, HOLDER):
        assert not backend.journal_path.exists()
    assert backend.read(API).serial == seeded.serial
