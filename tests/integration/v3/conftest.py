"""Fixtures of the v3 emulator tests: one in-process emulator (both APIs) on a pinned clock, a
client carrying an API key, a capturing webhook sender, and helpers that build v3 bodies."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from provisioner.emulator import Emulator
from tests.integration.webhook_capture import Capture

BASE_URL = "http://emulator.local"
API_KEY = "nyk_v3_test_key"
GRANT = "grant-organizer"
MON_0600 = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)  # a Monday; default open hours are 09:00-17:00 UTC
MON_0900 = int(datetime(2026, 3, 2, 9, 0, tzinfo=UTC).timestamp())
HOUR = 3600

ORGANIZER: dict[str, Any] = {"email": "alice@example.com", "name": "Alice", "is_organizer": True,
                             "availability": {"calendar_ids": ["primary"]}, "booking": {"calendar_id": "primary"}}
CONFIG: dict[str, Any] = {
    "participants": [ORGANIZER],
    "availability": {"duration_minutes": 30, "availability_rules": {"default_open_hours": [
        {"days": [1, 2, 3, 4, 5], "start": "09:00", "end": "17:00", "timezone": "UTC"}]}},
    "event_booking": {"title": "Intro call"},
    "requires_session_auth": False,
}


def config(**top: Any) -> dict[str, Any]:
    """`CONFIG` with top-level fields replaced."""
    return copy.deepcopy(CONFIG) | top


def host(email: str, grant: str) -> dict[str, Any]:
    """A round-robin host (no is_organizer) with its own grant."""
    return {"email": email, "grant_id": grant, "availability": {"calendar_ids": ["primary"]},
            "booking": {"calendar_id": "primary"}}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def capture() -> Capture:
    return Capture()


@pytest.fixture
def v3_api_key() -> str | None:
    """The key the emulator insists on (None: any key); override to test key checking."""
    return None


@pytest.fixture
def emulator(capture: Capture, v3_api_key: str | None) -> Iterator[Emulator]:
    emu = Emulator(":memory:", clock=lambda: MON_0600, webhook_sender=capture, v3_api_key=v3_api_key)
    yield emu
    emu.close()


@pytest.fixture
async def client(emulator: Emulator) -> AsyncIterator[httpx.AsyncClient]:
    """A client sending the API key on every request."""
    async with httpx.AsyncClient(transport=emulator.transport(), base_url=BASE_URL,
                                 headers={"Authorization": f"Bearer {API_KEY}"}) as c:
        yield c


@pytest.fixture
async def anon(emulator: Emulator) -> AsyncIterator[httpx.AsyncClient]:
    """A client without credentials (the public booking page)."""
    async with httpx.AsyncClient(transport=emulator.transport(), base_url=BASE_URL) as c:
        yield c


def configs_url(grant: str = GRANT) -> str:
    return f"/v3/grants/{grant}/scheduling/configurations"


async def create(client: httpx.AsyncClient, body: dict[str, Any] | None = None, grant: str = GRANT) -> dict[str, Any]:
    response = await client.post(configs_url(grant), json=body if body is not None else config())
    assert response.status_code == 200, response.text
    return response.json()["data"]


async def session(client: httpx.AsyncClient, config_id: str, ttl: float | None = None) -> str:
    body: dict[str, Any] = {"configuration_id": config_id}
    if ttl is not None:
        body["time_to_live"] = ttl
    response = await client.post("/v3/scheduling/sessions", json=body)
    assert response.status_code == 200, response.text
    return response.json()["data"]["session_id"]


async def advance(client: httpx.AsyncClient, minutes: float) -> None:
    response = await client.put("/_emulator/clock", json={"advance_minutes": minutes})
    assert response.status_code == 200, response.text


async def slots(client: httpx.AsyncClient, config_id: str, start: int = MON_0900, hours: int = 8,
                **headers: str) -> dict[str, Any]:
    response = await client.get("/v3/scheduling/availability", headers=headers, params={
        "start_time": start, "end_time": start + hours * HOUR, "configuration_id": config_id})
    assert response.status_code == 200, response.text
    return response.json()["data"]


async def book(client: httpx.AsyncClient, config_id: str, start: int, minutes: int = 30,
               email: str = "guest@example.org", **extra: Any) -> httpx.Response:
    body = {"start_time": start, "end_time": start + minutes * 60, "guest": {"email": email, "name": "Guest"}} | extra
    return await client.post("/v3/scheduling/bookings", params={"configuration_id": config_id}, json=body)


def error(response: httpx.Response, status: int) -> str:
    """The message of a v3 error answer, after checking its status and shape."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"request_id", "error"} and set(body["error"]) == {"type", "message"}, body
    return str(body["error"]["message"])
