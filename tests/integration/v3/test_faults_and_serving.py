"""The shared fault, rate-limit and clock layers on v3 paths (answers in v3's error shape), and one
served process answering both APIs over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from provisioner.emulator import Emulator, FaultConfig, RateLimitConfig
from provisioner.emulator.serve import serve_in_thread
from tests.integration.v3.conftest import API_KEY, BASE_URL, MON_0600, config, configs_url, create, error

pytestmark = pytest.mark.anyio


async def test_injected_server_errors_have_the_v3_error_shape(emulator: Emulator, client: httpx.AsyncClient) -> None:
    emulator.faults = FaultConfig(error_rate=1.0)
    response = await client.post(configs_url(), json=config())
    assert error(response, 503)
    assert response.json()["error"]["type"] == "internal_error"
    emulator.faults = FaultConfig()
    assert (await client.get(configs_url())).json()["data"] == []  # nothing was created


async def test_injected_rate_limits_are_429_with_retry_after(emulator: Emulator, client: httpx.AsyncClient) -> None:
    emulator.faults = FaultConfig(rate_limit_rate=1.0, retry_after=4)
    response = await client.get(configs_url())
    error(response, 429)
    assert response.json()["error"]["type"] == "rate_limit_error"
    assert response.headers["Retry-After"] == "4"


async def test_v2_paths_keep_the_v2_error_shape(emulator: Emulator, client: httpx.AsyncClient) -> None:
    emulator.faults = FaultConfig(error_rate=1.0)
    response = await client.get("/manage/pages")
    assert set(response.json()) == {"message", "type"}


async def test_drop_after_processing_creates_but_cuts_the_answer(emulator: Emulator,
                                                                  client: httpx.AsyncClient) -> None:
    emulator.faults = FaultConfig(drop_after_rate=1.0)
    with pytest.raises(httpx.RemoteProtocolError):
        await client.post(configs_url(), json=config(slug="cut"))
    emulator.faults = FaultConfig()
    assert [c["slug"] for c in (await client.get(configs_url())).json()["data"]] == ["cut"]


async def test_faults_can_target_v3_paths_only(emulator: Emulator, client: httpx.AsyncClient) -> None:
    emulator.faults = FaultConfig(error_rate=1.0, only_paths=("/v3/",))
    assert (await client.get("/manage/pages")).status_code == 200
    error(await client.get(configs_url()), 503)
    assert (await client.get("/_emulator/v3/webhooks")).status_code == 200  # controls are never faulted
    assert emulator.stats()["faults"] == {"error": 1}


async def test_enforced_rate_limits_answer_v3_shape() -> None:
    moments = iter(float(i) / 1000 for i in range(1000))
    emu = Emulator(":memory:", clock=lambda: MON_0600, rate_limits=RateLimitConfig(per_account=1.0),
                   monotonic=lambda: next(moments))
    try:
        async with httpx.AsyncClient(transport=emu.transport(), base_url=BASE_URL,
                                     headers={"Authorization": f"Bearer {API_KEY}"}) as c:
            assert (await c.get(configs_url())).status_code == 200
            refused = await c.get(configs_url())
            error(refused, 429)
            assert int(refused.headers["Retry-After"]) >= 1
    finally:
        emu.close()


@pytest.fixture
def served(emulator: Emulator) -> Iterator[str]:
    with serve_in_thread(emulator) as url:
        yield url


async def test_one_served_process_answers_both_apis(served: str) -> None:
    async with httpx.AsyncClient(base_url=served, headers={"Authorization": f"Bearer {API_KEY}"}) as c:
        made = await create(c, config(slug="served"))
        assert (await c.get(f"{configs_url()}/{made['id']}")).json()["data"]["slug"] == "served"
        assert (await c.get("/manage/pages")).json() == []
        redirect = (await c.get("/v3/scheduling/should-redirect/served")).json()
        assert redirect["data"]["url"].endswith("/served")
        assert (await c.get("/v3/scheduling/should-redirect/unknown")).json()["data"] == {}


async def test_served_drops_cut_the_connection(emulator: Emulator, served: str) -> None:
    emulator.faults = FaultConfig(drop_before_rate=1.0)
    async with httpx.AsyncClient(base_url=served, headers={"Authorization": f"Bearer {API_KEY}"}) as c:
        with pytest.raises(httpx.RemoteProtocolError):
            await c.get(configs_url())


async def test_pinning_the_shared_clock_expires_v3_sessions(client: httpx.AsyncClient) -> None:
    made = await create(client)
    created = await client.post("/v3/scheduling/sessions", json={"configuration_id": made["id"], "time_to_live": 1})
    assert created.status_code == 200
    error(await client.delete(f"{configs_url()}/{made['id']}"), 400)
    await client.put("/_emulator/clock", json={"now": "2026-03-02T06:01:00Z"})  # one minute later
    assert (await client.delete(f"{configs_url()}/{made['id']}")).status_code == 200


async def test_should_redirect_needs_the_api_key(anon: httpx.AsyncClient) -> None:
    error(await anon.get("/v3/scheduling/should-redirect/anything"), 401)
