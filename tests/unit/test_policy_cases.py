"""Policy checks, driven by the case folders under tests/cases/policy/.

A case is ``NN-name/`` with ``provisioner.yaml`` (its ``policies:``), ``pages/...`` and
``expect.yaml``: ``errors:`` and ``warnings:`` list every rendered problem expected (a line starting
with ``!`` must appear in none), or ``project_errors:`` substrings of the error provisioner.yaml gives.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from provisioner.errors import ConfigError, Problem
from provisioner.settings import settings_for
from provisioner.validation import validate

CASES_DIR = Path(__file__).resolve().parents[1] / "cases" / "policy"
CASES = sorted(p for p in CASES_DIR.iterdir() if p.is_dir())
ENV = {"T1": "nyl-token-one-7Hq2xKp", "T2": "nyl-token-two-9Zx4wQe"}


def _settings():
    return settings_for(pages_dir=Path("pages"), lockfile=None, api_url=None, target_env=None, parallelism=None,
                        env=ENV)


def _check(expected: list[str], rendered: list[str]) -> None:
    wanted = [e for e in expected if not e.startswith("!")]
    assert len(rendered) == len(wanted), "\n".join(rendered)
    for line in expected:
        if line.startswith("!"):
            assert not any(line[1:] in r for r in rendered), rendered
        else:
            assert any(r.startswith(line) for r in rendered), f"{line!r} not in:\n" + "\n".join(rendered)


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_policy_case(case: Path, monkeypatch: pytest.MonkeyPatch):
    expect = yaml.safe_load((case / "expect.yaml").read_text())
    monkeypatch.chdir(case)
    if "project_errors" in expect:
        with pytest.raises(ConfigError) as info:
            _settings()
        for line in expect["project_errors"]:
            assert line in info.value.render()
        return
    warnings: list[Problem] = []
    errors: list[str] = []
    try:
        validate(_settings(), warnings=warnings)
    except ConfigError as e:
        errors = [p.render() for p in e.problems]
    _check(expect["errors"], errors)
    _check(expect["warnings"], [w.render() for w in warnings])
