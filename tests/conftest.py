"""Fixtures of the whole suite.

`v3_contract` (autouse): every `provisioner.emulator.Emulator` a test builds is wrapped so that each
exchange with its v3 API is judged against Nylas's OpenAPI contract (`tests.v3conformance`); a test
during which one broke the contract fails with the violations listed. A test that breaks the contract
on purpose says so with ``@pytest.mark.v3_contract_exempt("why")``.
"""

from __future__ import annotations

import warnings
from collections.abc import Generator, Iterator
from typing import Any

import pytest

from provisioner.emulator import Emulator
from tests.v3conformance.recorder import Recorder, judging


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


@pytest.fixture(autouse=True)
def v3_contract(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Recorder]:
    """The recorder judging this test's v3 exchanges (see the module's docstring)."""
    recorder = Recorder()
    exempt = request.node.get_closest_marker("v3_contract_exempt") is not None
    original = Emulator.__init__

    def judged_init(self: Emulator, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        if not exempt:
            self.app = judging(self.app, recorder)

    monkeypatch.setattr(Emulator, "__init__", judged_init)
    yield recorder
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
