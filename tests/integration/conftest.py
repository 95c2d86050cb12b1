"""Fixtures of the integration tests. Emulator fixtures are prefixed ``emu_``."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from nylas import APIClient

from provisioner.apis.nylas_v2.emulator.webhooks import Sender
from provisioner.emulator import Emulator
from provisioner.emulator.serve import serve_in_thread

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
EMU_BASE_URL = "http://emulator.local"


class EmuClock:
    """A settable clock for the emulator."""

    def __init__(self) -> None:
        self.now = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def emu_clock() -> EmuClock:
    return EmuClock()


@pytest.fixture
def emu_webhook_sender() -> Sender | None:
    """The emulator's webhook sender (None: the default); override it to capture deliveries."""
    return None


@pytest.fixture
def emu_emulator(emu_clock: EmuClock, emu_webhook_sender: Sender | None) -> Iterator[Emulator]:
    emulator = Emulator(":memory:", clock=emu_clock, webhook_sender=emu_webhook_sender)
    yield emulator
    emulator.close()


@pytest.fixture
async def emu_client(emu_emulator: Emulator) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=emu_emulator.transport(), base_url=EMU_BASE_URL) as client:
        yield client


@pytest.fixture
def emu_served(emu_emulator: Emulator) -> Iterator[str]:
    """`emu_emulator` served over real HTTP on 127.0.0.1; yields the base URL."""
    with serve_in_thread(emu_emulator) as url:
        yield url


def sdk_scheduler(url: str, token: str) -> Any:
    """The official SDK's scheduler collection (nylas 5.14.1) for `token`, pointed at `url`.
    Each ``api.scheduler`` builds a new collection: keep this one."""
    sched = APIClient(client_id="id", client_secret="secret", access_token=token).scheduler
    sched.api.api_server = url
    return sched


@pytest.fixture
def emu_guide_request() -> dict[str, Any]:
    return json.loads((FIXTURES / "guide_create_request.json").read_text())


@pytest.fixture
def emu_guide_response() -> dict[str, Any]:
    return json.loads((FIXTURES / "guide_create_response.json").read_text())
