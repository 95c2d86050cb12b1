"""Fixtures of the integration tests. Emulator fixtures are prefixed ``emu_``."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from provisioner.emulator import Emulator

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
EMU_BASE_URL = "http://emulator.local"


class EmuClock:
    """A settable clock for the emulator."""

    def __init__(self) -> None:
        self.now = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def emu_clock() -> EmuClock:
    return EmuClock()


@pytest.fixture
def emu_emulator(emu_clock: EmuClock) -> Iterator[Emulator]:
    emulator = Emulator(":memory:", clock=emu_clock)
    yield emulator
    emulator.close()


@pytest.fixture
async def emu_client(emu_emulator: Emulator) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=emu_emulator.transport(), base_url=EMU_BASE_URL) as client:
        yield client


@pytest.fixture
def emu_guide_request() -> dict[str, Any]:
    return json.loads((FIXTURES / "guide_create_request.json").read_text())


@pytest.fixture
def emu_guide_response() -> dict[str, Any]:
    return json.loads((FIXTURES / "guide_create_response.json").read_text())
