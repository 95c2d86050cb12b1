"""Fixtures of the whole suite.

`_no_provisioner_environment` (autouse): a developer's ``PROVISIONER_*`` variables cannot change a test.

`v3_contract` (autouse): every `provisioner.emulator.Emulator` built during the run (by a fixture of
any scope, the CLI's embedded emulator, a server in a thread) is wrapped so that each exchange with its
v3 API is judged against Nylas's OpenAPI contract (`tests.v3conformance`); a test during which one
broke the contract fails with the violations listed. A test that breaks the contract on purpose says
so with ``@pytest.mark.v3_contract_exempt("why")``.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Generator, Iterator
from typing import Any

import pytest

from provisioner.emulator import Emulator
from tests.v3conformance.recorder import Recorder, Switchboard, judging

# The suite's own harness, not the product's settings: its PostgreSQL (set by .ci/postgres), the
# Chromium to drive and the folder where the browser tests save the README's screenshots.
KEPT = frozenset({"PROVISIONER_TEST_PG_DSN", "PROVISIONER_CHROMIUM", "PROVISIONER_SCREENSHOTS"})


@pytest.fixture(autouse=True)
def _no_provisioner_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's shell (PROVISIONER_API_URL, PROVISIONER_LOCK_KEY, PROVISIONER_TARGET, ...) cannot
    change a test's outcome: every ``PROVISIONER_*`` variable is removed, bar the test database's."""
    for name in list(os.environ):
        if name.startswith("PROVISIONER_") and name not in KEPT:
            monkeypatch.delenv(name)


class KnownMismatch(UserWarning):
    """A violation of the v3 contract reported and awaiting a decision (`contract.KNOWN_MISMATCHES`)."""


class ContractViolation(AssertionError):
    """The v3 emulator and a test exchanged something the OpenAPI contract forbids."""


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "v3_contract_exempt(reason): this test breaks the v3 contract on purpose")


def _report(violations: list[str]) -> str:
    return "the v3 exchanges broke Nylas's OpenAPI contract:\n" + "\n".join(f"- {v}" for v in violations)


def _warn(tolerated: list[str]) -> None:
    for mismatch in tolerated:
        warnings.warn(KnownMismatch(mismatch), stacklevel=1)


SWITCHBOARD = Switchboard()


@pytest.fixture(scope="session", autouse=True)
def v3_judged_emulators() -> Iterator[None]:
    """Every `Emulator` built during the run, whatever its fixture's scope, is judged (`SWITCHBOARD`)."""
    original = Emulator.__init__

    def judged_init(self: Emulator, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self.app = judging(self.app, SWITCHBOARD)

    patch = pytest.MonkeyPatch()
    patch.setattr(Emulator, "__init__", judged_init)
    yield
    patch.undo()


@pytest.fixture(autouse=True)
def v3_contract(request: pytest.FixtureRequest, v3_judged_emulators: None) -> Iterator[Recorder]:
    """The recorder judging this test's v3 exchanges (see the module's docstring)."""
    recorder = Recorder()
    stray, tolerated = SWITCHBOARD.stray.take()  # made by wider fixtures' setup, before this test began
    _warn(tolerated)
    recorder.violations.extend(stray)  # not shared yet: no lock needed
    SWITCHBOARD.active, SWITCHBOARD.exempt = recorder, request.node.get_closest_marker("v3_contract_exempt") is not None
    try:
        yield recorder
    finally:
        SWITCHBOARD.active, SWITCHBOARD.exempt = None, False
    late, tolerated = recorder.take()  # exchanges made by fixtures after the test body
    _warn(tolerated)
    if late:
        pytest.fail(_report(late), pytrace=False)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    result = yield
    recorder = getattr(item, "funcargs", {}).get("v3_contract")
    if isinstance(recorder, Recorder):
        found, tolerated = recorder.take()
        _warn(tolerated)
        if found:
            raise ContractViolation(_report(found))
    return result
