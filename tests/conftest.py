"""Fixtures of the whole suite."""

from __future__ import annotations

import os

import pytest

KEPT = frozenset({"PROVISIONER_TEST_PG_DSN"})  # the suite's own PostgreSQL, set by .ci/postgres


@pytest.fixture(autouse=True)
def _no_provisioner_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's shell (PROVISIONER_API_URL, PROVISIONER_LOCK_KEY, PROVISIONER_TARGET, ...) cannot
    change a test's outcome: every ``PROVISIONER_*`` variable is removed, bar the test database's."""
    for name in list(os.environ):
        if name.startswith("PROVISIONER_") and name not in KEPT:
            monkeypatch.delenv(name)
