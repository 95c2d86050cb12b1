"""Every case of tests/cases/invalid_lockfiles/ is refused by the state backend with a StateError that
says what is wrong (``expect.txt``), by `read` and by `transaction` alike, writing nothing.

(The same cases through the CLI, with no API call: tests/system/test_bad_input_no_side_effects.py.)
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from provisioner.errors import StateError
from provisioner.secrets import Sealer
from provisioner.state import Holder, LockfileBackend

CASES_DIR = Path(__file__).resolve().parents[1] / "cases" / "invalid_lockfiles"
CASES = sorted(p for p in CASES_DIR.iterdir() if p.is_dir() and not p.name.startswith("_"))
LOCK_KEY = "dGVzdC1rZXktb2YtdGhlLWludmFsaWQtbG9ja2ZpbGU="  # test-only: the corpus is sealed with it
API = "https://api.example.test"
CORPUS_EDIT_TOKEN = "edit-token-of-the-corpus-page-Qm4z"  # the clear token sealed in the corpus
HOLDER = Holder(host="test", pid=1, started="2024-01-01T00:00:00+00:00")


def copy_case(case: Path, root: Path) -> LockfileBackend:
    """The case's files in ``root``, which must be the working directory (messages name relative paths)."""
    for name in ("pages.lock", "pages.lock.journal"):
        if (case / name).exists():
            (root / name).write_bytes((case / name).read_bytes().replace(b"@API_URL@", API.encode()))
    return LockfileBackend(Path("pages.lock"), Sealer(LOCK_KEY))


def snapshot(root: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in root.iterdir() if p.name != "pages.lock.lock"}


def test_the_corpus_has_at_least_15_cases_each_with_expectations():
    assert len(CASES) >= 15
    for case in CASES:
        assert (case / "expect.txt").read_text().strip(), case.name
        assert (case / "pages.lock").exists() or (case / "pages.lock.journal").exists(), case.name


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_invalid_lockfile_is_refused_clearly(case: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    backend = copy_case(case, tmp_path)
    before = snapshot(tmp_path)
    with pytest.raises(StateError) as read_error:
        backend.read(API)
    with pytest.raises(StateError) as txn_error, backend.transaction(API, HOLDER):
        pytest.fail("a transaction began on an invalid lockfile")
    assert snapshot(tmp_path) == before
    for error in (read_error.value, txn_error.value):
        text = error.render()
        for expected in (case / "expect.txt").read_text().splitlines():
            assert expected in text, f"{expected!r} missing from {text!r}"
        assert CORPUS_EDIT_TOKEN not in text + repr(error)
        assert "Traceback" not in text


def test_a_valid_copy_of_the_corpus_base_is_accepted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The corpus differs from a good lockfile only by its defect: its base (case 27's lockfile) reads."""
    monkeypatch.chdir(tmp_path)
    backend = copy_case(CASES_DIR / "27-journal-of-another-lineage", tmp_path)
    (tmp_path / "pages.lock.journal").unlink()
    state = backend.read(API)
    assert state.resources["demo"].edit_token.get_secret_value() == CORPUS_EDIT_TOKEN
    assert state.serial == 3
