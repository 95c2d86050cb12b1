"""Every bad-input case under tests/cases/invalid/ fails with a ConfigError that says where and why.

A case is a folder ``NN-name/`` with ``pages/...``, an optional ``env.json`` and ``expect.txt``: one
substring per line that the rendered error must contain, or, after ``!``, must not contain.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from provisioner.errors import ConfigError
from provisioner.load import load_pages

CASES_DIR = Path(__file__).resolve().parents[1] / "cases" / "invalid"
CASES = sorted(p for p in CASES_DIR.iterdir() if p.is_dir())
BASE_ENV = {"NYLAS_TOKEN_ALICE": "nyl-secret-alice-7Hq2xKp", "NYLAS_TOKEN_BOB": "nyl-secret-bob-9Zx4wQe"}


def _env(case: Path) -> dict[str, str]:
    extra = case / "env.json"
    return {**BASE_ENV, **(json.loads(extra.read_text()) if extra.exists() else {})}


def _expectations(case: Path) -> list[str]:
    return [line for line in (case / "expect.txt").read_text().splitlines() if line.strip()]


def _render_failure(pages: Path, env: dict[str, str]) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load_pages(pages, env)
    return info.value


def test_the_corpus_is_large_enough():
    assert len(CASES) >= 40
    assert len({c.name.split("-", 1)[1] for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_invalid_case(case: Path, monkeypatch: pytest.MonkeyPatch):
    env = _env(case)
    monkeypatch.chdir(case)
    error = _render_failure(Path("pages"), env)
    text = error.render()
    for expected in _expectations(case):
        if expected.startswith("!"):
            assert expected[1:] not in text, f"{expected[1:]!r} must not appear in:\n{text}"
        else:
            assert expected in text, f"{expected!r} missing from:\n{text}"
    everything = text + str(error) + repr(error.problems)
    for value in env.values():
        if len(value) >= 8:  # a token-like value
            assert value not in everything


def test_several_broken_files_report_every_problem_at_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    single = [c for c in CASES if [p.name for p in (c / "pages").rglob("*")] == ["demo.yaml"]
              and not (c / "env.json").exists()][:12]
    assert len(single) == 12
    pages = tmp_path / "pages"
    pages.mkdir()
    for case in single:
        shutil.copy(case / "pages" / "demo.yaml", pages / f"{case.name}.yaml")
    monkeypatch.chdir(tmp_path)
    error = _render_failure(Path("pages"), dict(BASE_ENV))
    text = error.render()
    blamed = {p.file for p in error.problems if "is also used by" not in p.message}
    assert blamed == {f"pages/{case.name}.yaml" for case in single}
    for case in single:
        for expected in _expectations(case):
            if not expected.startswith(("!", "pages/")):
                assert expected in text
