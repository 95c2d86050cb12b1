"""The file state backend: format, determinism, refusals, sealing, transactions (in one process)."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

import pytest
from pydantic import SecretStr

from provisioner.errors import LockHeld, StateError
from provisioner.secrets import Sealer, keygen
from provisioner.state import Holder, LockfileBackend, Resource, State

API = "https://api.example.test"
HOLDER = Holder(host="test-host", pid=4242, started="2024-01-01T00:00:00+00:00")


def token(n: int) -> SecretStr:
    return SecretStr(f"edit-token-secret-{n:04d}-xyzzy")


def page(address: str, n: int = 1, **changes: object) -> Resource:
    fields: dict[str, object] = dict(
        address=address, id=1000 + n, slug=f"slug-{n}", edit_token=token(n), name=f"Page {n}",
        config={"event": {"title": f"Meeting {n}", "duration": 30}, "locale": "en"},
        tokens_digest=f"digest{n}",
    )
    fields.update(changes)
    return Resource(**fields)  # type: ignore[arg-type]


@pytest.fixture
def sealer() -> Sealer:
    return Sealer(keygen())


@pytest.fixture
def lockpath(tmp_path: Path) -> Path:
    return tmp_path / "pages.lock"


@pytest.fixture
def backend(lockpath: Path, sealer: Sealer) -> LockfileBackend:
    return LockfileBackend(lockpath, sealer)


def write(backend: LockfileBackend, *resources: Resource) -> State:
    with backend.transaction(API, HOLDER) as tx:
        for r in resources:
            tx.record(r)
    return backend.read(API)


# --- reading and the format ----------------------------------------------------------------------


def test_missing_lockfile_reads_as_empty_state_and_writes_nothing(backend: LockfileBackend, tmp_path: Path):
    state = backend.read(API)
    assert state.serial == 0 and state.resources == {} and state.pending_creates == {}
    assert uuid.UUID(state.lineage).version == 4
    assert state.api_url == API
    assert list(tmp_path.iterdir()) == []


def test_round_trip_keeps_every_field(backend: LockfileBackend, sealer: Sealer, lockpath: Path):
    a = page("sales/demo", 1, prevent_destroy=True)
    b = page("support/intro", 2, name=None, tokens_digest=None, config={})
    write(backend, a, b)
    again = LockfileBackend(lockpath, sealer).read(API)  # a fresh backend: nothing cached
    assert again.resources == {"sales/demo": a, "support/intro": b}
    assert again.resources["sales/demo"].edit_token.get_secret_value() == token(1).get_secret_value()
    assert again.serial == 1


def test_file_format_is_the_documented_one(backend: LockfileBackend, lockpath: Path):
    write(backend, page("sales/demo", 1))
    text = lockpath.read_text()
    doc = json.loads(text)
    assert text.endswith("}\n") and not text.endswith("\n\n")
    assert text == json.dumps(doc, sort_keys=True, indent=2) + "\n"  # sorted keys, 2-space indent
    assert set(doc) == {"version", "lineage", "serial", "api_url", "pages"}
    assert doc["version"] == 1 and doc["serial"] == 1 and doc["api_url"] == API
    entry = doc["pages"]["sales/demo"]
    assert set(entry) == {"id", "slug", "name", "edit_token", "config", "tokens_digest", "prevent_destroy"}
    assert entry["id"] == 1001 and entry["slug"] == "slug-1" and entry["config"]["event"]["duration"] == 30


def test_same_state_renders_byte_identical(backend: LockfileBackend, sealer: Sealer, lockpath: Path):
    write(backend, page("b/second", 2), page("a/first", 1))
    on_disk = lockpath.read_bytes()
    fresh = LockfileBackend(lockpath, sealer)  # sealing is randomised: this must reuse the sealed forms
    state = fresh.read(API)
    assert fresh.render(state) == on_disk
    assert fresh.render(state) == fresh.render(fresh.read(API))


def test_changing_one_page_leaves_the_other_pages_bytes_alone(backend, sealer, lockpath):
    write(backend, page("a/first", 1), page("b/second", 2))
    before = json.loads(lockpath.read_text())["pages"]["b/second"]
    write(LockfileBackend(lockpath, sealer), page("a/first", 1, name="Renamed"))
    after = json.loads(lockpath.read_text())
    assert after["pages"]["b/second"] == before
    assert after["pages"]["a/first"]["name"] == "Renamed"


def test_serial_increments_only_on_change_and_lineage_is_kept(backend: LockfileBackend, lockpath: Path):
    first = write(backend, page("a", 1))
    assert first.serial == 1
    bytes_before = lockpath.read_bytes()
    with backend.transaction(API, HOLDER):
        pass
    assert lockpath.read_bytes() == bytes_before
    same = write(backend, page("a", 1))  # recorded again, but identical
    assert same.serial == 1 and lockpath.read_bytes() == bytes_before
    changed = write(backend, page("a", 1, config={"locale": "fr"}))
    assert changed.serial == 2 and changed.lineage == first.lineage
    with backend.transaction(API, HOLDER) as tx:
        tx.forget("a")
    gone = backend.read(API)
    assert gone.serial == 3 and gone.lineage == first.lineage and gone.resources == {}


def test_a_different_api_url_is_refused(backend: LockfileBackend):
    write(backend, page("a", 1))
    with pytest.raises(StateError) as err:
        backend.read("https://other.example.test")
    assert str(err.value).startswith(f"{backend.location} belongs to {API}, not https://other.example.test")
    with pytest.raises(StateError, match="belongs to"):
        with backend.transaction("https://other.example.test", HOLDER):
            pass
    assert backend.read(API + "/").serial == 1  # a trailing slash is the same API


def _valid(backend: LockfileBackend, lockpath: Path) -> dict:
    write(backend, page("a", 1))
    return json.loads(lockpath.read_text())


def _edit(doc: dict, change) -> str:
    change(doc)
    return json.dumps(doc)


HAND_EDITS = {
    "no version": (lambda d: d.pop("version"), "no format version"),
    "newer version": (lambda d: d.update(version=3), "upgrade provisioner"),
    "string version": (lambda d: d.update(version="1"), "format version '1'"),
    "serial as text": (lambda d: d.update(serial="3"), "'serial' must be an integer"),
    "no lineage": (lambda d: d.pop("lineage"), "no 'lineage'"),
    "no api_url": (lambda d: d.pop("api_url"), "no 'api_url'"),
    "pages a list": (lambda d: d.update(pages=[]), "'pages' must be an object"),
    "unknown key": (lambda d: d.update(extra=1), "unknown field"),
    "page without id": (lambda d: d["pages"]["a"].pop("id"), "page a has no 'id'"),
    "id as text": (lambda d: d["pages"]["a"].update(id="1001"), "'id' must be an integer"),
    "id as bool": (lambda d: d["pages"]["a"].update(id=True), "'id' must be an integer"),
    "token not a string": (lambda d: d["pages"]["a"].update(edit_token=5), "'edit_token' must be a string"),
    "config a list": (lambda d: d["pages"]["a"].update(config=[]), "'config' must be an object"),
    "page unknown key": (lambda d: d["pages"]["a"].update(colour="red"), "unknown field"),
    "token tampered": (lambda d: d["pages"]["a"].update(edit_token="gAAAAAtampered"), "cannot unseal"),
}


@pytest.mark.parametrize("case", sorted(HAND_EDITS))
def test_hand_edited_lockfiles_are_refused_with_a_clear_message(case, backend, lockpath):
    change, expected = HAND_EDITS[case]
    lockpath.write_text(_edit(_valid(backend, lockpath), change))
    with pytest.raises(StateError) as err:
        backend.read(API)
    assert expected in str(err.value)
    assert backend.location in str(err.value)


@pytest.mark.parametrize("content", [b"", b"{", b"not json at all", b"\xff\xfe{}", b"[1, 2]"])
def test_corrupt_lockfiles_are_refused(content: bytes, backend: LockfileBackend, lockpath: Path):
    lockpath.write_bytes(content)
    with pytest.raises(StateError) as err:
        backend.read(API)
    assert backend.location in str(err.value)


def test_a_truncated_lockfile_is_refused(backend: LockfileBackend, lockpath: Path):
    write(backend, page("a", 1), page("b", 2))
    data = lockpath.read_bytes()
    lockpath.write_bytes(data[: len(data) // 2])
    with pytest.raises(StateError, match="not valid JSON .* truncated or corrupt"):
        backend.read(API)
    with pytest.raises(StateError):  # nor will an apply start on it
        with backend.transaction(API, HOLDER):
            pass


# --- secrets -------------------------------------------------------------------------------------


def test_tokens_never_appear_in_clear_in_the_lockfile_or_the_journal(backend, lockpath, tmp_path):
    with backend.transaction(API, HOLDER) as tx:
        for n in range(5):
            tx.intend_create(f"p/{n}", f"slug-{n}")
            tx.record(page(f"p/{n}", n))
        journal = backend.journal_path.read_bytes()
        assert journal.count(b"\n") == 11  # header + 10 steps, each on disk before the call returned
    lockfile = lockpath.read_bytes()
    for n in range(5):
        secret = token(n).get_secret_value().encode()
        assert secret not in journal and secret not in lockfile
        assert b"xyzzy" not in journal + lockfile
    for leftover in tmp_path.iterdir():
        assert b"xyzzy" not in leftover.read_bytes()


def test_a_lockfile_sealed_with_another_key_is_refused_without_leaking(backend, lockpath):
    write(backend, page("a", 1))
    with pytest.raises(StateError) as err:
        LockfileBackend(lockpath, Sealer(keygen())).read(API)
    message = str(err.value)
    assert "PROVISIONER_LOCK_KEY" in message and "edit token of a" in message
    assert "xyzzy" not in message and "xyzzy" not in repr(err.value)


def test_state_repr_does_not_show_tokens(backend: LockfileBackend):
    state = write(backend, page("a", 1))
    assert "xyzzy" not in repr(state) and "xyzzy" not in str(state)


# --- transactions --------------------------------------------------------------------------------


def test_transaction_state_reflects_every_step(backend: LockfileBackend):
    write(backend, page("old", 1))
    with backend.transaction(API, HOLDER) as tx:
        tx.intend_create("new", "slug-2")
        assert tx.state.pending_creates == {"new": "slug-2"}
        tx.record(page("new", 2))
        assert tx.state.pending_creates == {} and tx.state.resources["new"] == page("new", 2)
        tx.move("old", "renamed")
        assert set(tx.state.resources) == {"new", "renamed"}
        assert tx.state.resources["renamed"].address == "renamed"
        assert backend.read(API).resources.keys() == {"new", "renamed"}  # a plan sees the progress
        assert backend.path.exists() and json.loads(backend.path.read_text())["serial"] == 1
    final = backend.read(API)
    assert final.serial == 2 and set(final.resources) == {"new", "renamed"}
    assert not backend.journal_path.exists()


def test_move_and_forget_refuse_unknown_addresses(backend: LockfileBackend):
    write(backend, page("a", 1), page("b", 2))
    with backend.transaction(API, HOLDER) as tx:
        with pytest.raises(StateError, match="cannot move nope: it is not in"):
            tx.move("nope", "c")
        with pytest.raises(StateError, match="b is already in"):
            tx.move("a", "b")
        with pytest.raises(StateError, match="cannot forget nope"):
            tx.forget("nope")
        assert not backend.journal_path.exists()  # refused steps are never journaled
    assert backend.read(API).serial == 1


def test_state_mv_and_rm_are_plain_transactions(backend: LockfileBackend):
    write(backend, page("a", 1), page("b", 2))
    with backend.transaction(API, HOLDER) as tx:
        tx.move("a", "sales/a")
    with backend.transaction(API, HOLDER) as tx:
        tx.forget("b")
    state = backend.read(API)
    assert set(state.resources) == {"sales/a"} and state.resources["sales/a"].id == 1001
    assert state.serial == 3


def test_steps_are_kept_when_the_apply_fails(backend: LockfileBackend):
    with pytest.raises(RuntimeError, match="boom"):
        with backend.transaction(API, HOLDER) as tx:
            tx.record(page("a", 1))
            tx.intend_create("b", "slug-2")
            raise RuntimeError("boom")
    state = backend.read(API)
    assert set(state.resources) == {"a"} and state.pending_creates == {"b": "slug-2"}
    assert json.loads(backend.path.read_text())["pending_creates"] == {"b": "slug-2"}
    assert not backend.journal_path.exists()
    with backend.transaction(API, HOLDER) as tx:  # the next apply resolves the pending create
        assert tx.state.pending_creates == {"b": "slug-2"}
        tx.record(page("b", 2))
    assert "pending_creates" not in json.loads(backend.path.read_text())


def test_the_lockfile_is_written_once_per_transaction(backend, monkeypatch):
    replaced: list[str] = []
    real = os.replace
    monkeypatch.setattr(os, "replace", lambda src, dst: (replaced.append(str(dst)), real(src, dst))[1])
    with backend.transaction(API, HOLDER) as tx:
        for n in range(200):
            tx.intend_create(f"p/{n}", f"slug-{n}")
            tx.record(page(f"p/{n}", n))
        assert replaced == []
        assert backend.journal_path.read_bytes().count(b"\n") == 401
    assert replaced == [str(backend.path)]
    assert len(backend.read(API).resources) == 200


def test_a_second_transaction_in_the_same_process_is_refused(backend: LockfileBackend):
    with backend.transaction(API, HOLDER):
        with pytest.raises(LockHeld) as err:
            with backend.transaction(API, Holder(host="other", pid=1, started="now")):
                pass
    expected = f"{backend.location} is locked by an apply: pid 4242 on test-host, since"
    assert str(err.value).startswith(expected)
    assert err.value.holder == HOLDER
    with backend.transaction(API, HOLDER):  # released on exit
        pass


def test_a_transaction_cannot_be_used_after_it_ends(backend: LockfileBackend):
    with backend.transaction(API, HOLDER) as tx:
        pass
    with pytest.raises(StateError, match="has ended"):
        tx.record(page("a", 1))


def test_no_temporary_files_are_left_behind(backend: LockfileBackend, tmp_path: Path):
    write(backend, page("a", 1))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pages.lock", "pages.lock.lock"]
