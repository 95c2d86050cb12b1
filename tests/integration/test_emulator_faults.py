"""Fault injection, in-process: seeded 5xx, 429, dropped connections, runtime control, stats."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from provisioner.emulator import Emulator, FaultConfig
from tests.integration.conftest import EMU_BASE_URL

pytestmark = pytest.mark.anyio

TOKEN = "token-faults-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def body(slug: str) -> dict[str, Any]:
    return {"access_tokens": [TOKEN], "slug": slug}


async def slugs(emulator: Emulator) -> list[str]:
    """The pages of TOKEN, read with faults off."""
    saved, emulator.faults = emulator.faults, FaultConfig()
    async with httpx.AsyncClient(transport=emulator.transport(), base_url=EMU_BASE_URL) as client:
        pages = (await client.get("/manage/pages", headers=AUTH)).json()
    emulator.faults = saved
    return [p["slug"] for p in pages]


async def test_server_errors_are_5xx_with_the_error_shape_and_change_nothing(
    emu_emulator: Emulator, emu_client: httpx.AsyncClient
) -> None:
    emu_emulator.faults = FaultConfig(error_rate=1.0)
    response = await emu_client.post("/manage/pages", json=body("five-oh-three"))
    assert response.status_code >= 500
    assert response.json() == {"message": response.json()["message"], "type": "api_error"}
    assert await slugs(emu_emulator) == []


async def test_rate_limit_is_429_with_retry_headers(
    emu_emulator: Emulator, emu_client: httpx.AsyncClient
) -> None:
    emu_emulator.faults = FaultConfig(rate_limit_rate=1.0, retry_after=7)
    response = await emu_client.get("/manage/pages", headers=AUTH)
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "7"
    assert response.headers["X-RateLimit-Reset"] == "7"
    assert int(response.headers["X-RateLimit-Limit"]) > 0
    assert response.json()["type"] == "rate_limit_error"
    assert set(response.json()) == {"message", "type"}


async def test_drop_before_processing_creates_nothing(
    emu_emulator: Emulator, emu_client: httpx.AsyncClient
) -> None:
    emu_emulator.faults = FaultConfig(drop_before_rate=1.0)
    with pytest.raises(httpx.RemoteProtocolError):
        await emu_client.post("/manage/pages", json=body("dropped-before"))
    assert await slugs(emu_emulator) == []


async def test_drop_after_processing_creates_the_page_but_the_client_gets_an_error(
    emu_emulator: Emulator, emu_client: httpx.AsyncClient
) -> None:
    emu_emulator.faults = FaultConfig(drop_after_rate=1.0)
    with pytest.raises(httpx.RemoteProtocolError):
        await emu_client.post("/manage/pages", json=body("dropped-after"))
    assert await slugs(emu_emulator) == ["dropped-after"]


async def statuses(faults: FaultConfig, count: int) -> list[int]:
    emulator = Emulator(faults=faults)
    out = []
    async with httpx.AsyncClient(transport=emulator.transport(), base_url=EMU_BASE_URL) as client:
        for _ in range(count):
            try:
                out.append((await client.get("/manage/pages", headers=AUTH)).status_code)
            except httpx.RemoteProtocolError:
                out.append(-1)
    emulator.close()
    return out


async def test_faults_are_repeatable_for_a_seed() -> None:
    faults = FaultConfig(error_rate=0.3, rate_limit_rate=0.2, drop_before_rate=0.2, seed=11)
    first = await statuses(faults, 40)
    assert first == await statuses(FaultConfig(**vars(faults)), 40)
    assert {200, 503, 429, -1} <= set(first)
    assert first != await statuses(FaultConfig(error_rate=0.3, rate_limit_rate=0.2, drop_before_rate=0.2,
                                               seed=12), 40)


async def test_method_and_path_filters(emu_emulator: Emulator, emu_client: httpx.AsyncClient) -> None:
    emu_emulator.faults = FaultConfig(error_rate=1.0, methods=("post",))
    assert (await emu_client.get("/manage/pages", headers=AUTH)).status_code == 200
    assert (await emu_client.post("/manage/pages", json=body("x"))).status_code == 503
    emu_emulator.faults = FaultConfig(error_rate=1.0, only_paths=("/manage/pages/",))
    page = (await emu_client.post("/manage/pages", json=body("y"))).json()
    assert (await emu_client.get(f"/manage/pages/{page['id']}", headers=AUTH)).status_code == 503


async def test_faults_change_at_runtime_over_http_and_control_routes_are_never_faulted(
    emu_emulator: Emulator, emu_client: httpx.AsyncClient
) -> None:
    put = await emu_client.put("/_emulator/faults", json={"error_rate": 1.0, "seed": 3})
    assert put.status_code == 200 and put.json()["error_rate"] == 1.0
    assert emu_emulator.faults == FaultConfig(error_rate=1.0, seed=3)
    assert (await emu_client.get("/manage/pages", headers=AUTH)).status_code == 503
    got = await emu_client.get("/_emulator/faults")
    assert got.status_code == 200 and got.json() == put.json()
    for bad, named in (({"error_rte": 0.5}, "error_rte"), ({"error_rate": 2}, "error_rate"),
                       ({"error_rate": 0.6, "drop_after_rate": 0.6}, "at most 1"), ([1], "object")):
        response = await emu_client.put("/_emulator/faults", json=bad)
        assert response.status_code == 400 and named in response.json()["message"]
    assert (await emu_client.put("/_emulator/faults", content=b"{x")).status_code == 400
    assert (await emu_client.put("/_emulator/faults", json={})).status_code == 200
    assert (await emu_client.get("/manage/pages", headers=AUTH)).status_code == 200


async def test_stats_count_api_requests_by_method_and_faults(
    emu_emulator: Emulator, emu_client: httpx.AsyncClient
) -> None:
    await emu_client.post("/manage/pages", json=body("s1"))
    await emu_client.get("/manage/pages", headers=AUTH)
    await emu_client.get("/manage/pages", headers=AUTH)
    emu_emulator.faults = FaultConfig(rate_limit_rate=1.0)
    await emu_client.get("/manage/pages", headers=AUTH)
    stats = (await emu_client.get("/_emulator/stats")).json()
    assert stats == {"requests": {"POST": 1, "GET": 3}, "total": 4, "faults": {"rate_limit": 1}}
    assert emu_emulator.stats() == stats
    assert (await emu_client.delete("/_emulator/stats")).json()["total"] == 0


async def test_latency_still_answers(emu_emulator: Emulator, emu_client: httpx.AsyncClient) -> None:
    emu_emulator.faults = FaultConfig(latency_ms=1)
    assert (await emu_client.get("/manage/pages", headers=AUTH)).status_code == 200


@pytest.mark.parametrize("kwargs", [{"error_rate": 1.5}, {"rate_limit_rate": -0.1}, {"latency_ms": -1},
                                    {"drop_before_rate": 0.5, "drop_after_rate": 0.6}])
def test_fault_config_refuses_bad_values(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        FaultConfig(**kwargs)
