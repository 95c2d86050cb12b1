"""An injected webhook sender for the emulators' tests (v2 reminders, v3 ``booking.*``)."""

from __future__ import annotations

from typing import Any


class Capture:
    """Records every POST and answers from a script of statuses (or exceptions to raise)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.script: list[int | Exception] = []

    async def __call__(self, url: str, payload: dict[str, Any]) -> int:
        self.calls.append((url, payload))
        outcome = self.script.pop(0) if self.script else 200
        if isinstance(outcome, Exception):
            raise outcome
        return outcome
