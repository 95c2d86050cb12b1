"""Rosters and templates, driven by the case folders under tests/cases/roster/.

A case is ``NN-name/`` with ``pages/...`` and ``expect.yaml``: either ``pages:`` (ADDRESS -> the fields
the generated page must have: slug, name, config (a subset), ignore_changes, renamed_from) or
``errors:`` (substrings the rendered `ConfigError` must contain; after ``!``, must not contain).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from provisioner.errors import ConfigError
from provisioner.load import load_pages

CASES_DIR = Path(__file__).resolve().parents[1] / "cases" / "roster"
CASES = sorted(p for p in CASES_DIR.iterdir() if p.is_dir())
ENV = {"NYLAS_TOKEN_ALICE": "nyl-secret-alice-7Hq2xKp", "NYLAS_TOKEN_BOB": "nyl-secret-bob-9Zx4wQe"}


def _subset(expected: Any, actual: Any, where: str) -> None:
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{where}: {actual!r}"
        for key, value in expected.items():
            assert key in actual, f"{where}.{key} missing from {actual!r}"
            _subset(value, actual[key], f"{where}.{key}")
    else:
        assert expected == actual, f"{where}: expected {expected!r}, got {actual!r}"


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_roster_case(case: Path, monkeypatch: pytest.MonkeyPatch):
    expect = yaml.safe_load((case / "expect.yaml").read_text())
    monkeypatch.chdir(case)
    if "errors" in expect:
        with pytest.raises(ConfigError) as info:
            load_pages(Path("pages"), ENV)
        text = info.value.render()
        for line in expect["errors"]:
            if line.startswith("!"):
                assert line[1:] not in text, f"{line[1:]!r} must not appear in:\n{text}"
            else:
                assert line in text, f"{line!r} missing from:\n{text}"
        for value in ENV.values():
            assert value not in text
        return
    pages = load_pages(Path("pages"), ENV)
    for address, fields in expect["pages"].items():
        assert address in pages, f"{address} not generated: {sorted(pages)}"
        page = pages[address]
        actual = {"slug": page.slug, "name": page.name, "config": page.config,
                  "ignore_changes": list(page.ignore_changes), "renamed_from": page.renamed_from}
        _subset(fields, actual, address)
    assert set(pages) >= set(expect["pages"])


def test_generated_pages_carry_their_tokens_and_one_template_serves_every_entry(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(CASES_DIR / "01-one-page-per-entry")
    pages = load_pages(Path("pages"), ENV)
    assert sorted(pages) == ["sales/demo[alice]", "sales/demo[bob]", "sales/hand-written"]
    assert pages["sales/demo[alice]"].access_tokens[0].get_secret_value() == ENV["NYLAS_TOKEN_ALICE"]
    assert pages["sales/demo[bob]"].access_tokens[0].get_secret_value() == ENV["NYLAS_TOKEN_BOB"]
    assert str(pages["sales/demo[bob]"].file) == "pages/sales/_demo.template.yaml"


def test_substitution_is_one_pass_and_never_reads_a_replacement_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    (tmp_path / "pages/t").mkdir(parents=True)
    (tmp_path / "pages/t/_roster.yaml").write_text('a:\n  token: ${NYLAS_TOKEN_ALICE}\n  name: "x {{ key }} y"\n')
    (tmp_path / "pages/t/_p.template.yaml").write_text('slug: p-{{ key }}\naccess_tokens: ["{{ token }}"]\n'
                                                       'name: "{{ name }}"\n')
    monkeypatch.chdir(tmp_path)
    assert load_pages(Path("pages"), ENV)["t/p[a]"].name == "x {{ key }} y"
