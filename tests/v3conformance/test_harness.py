"""The suite's judging harness itself: every v3 exchange with a real emulator is judged, in process
and served over HTTP, and nothing else is."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from provisioner.emulator import Emulator
from provisioner.emulator.serve import serve_in_thread
from tests.v3conformance.recorder import Recorder, judging_proxy

KEY = {"Authorization": "Bearer nyk_harness"}
CONFIG: dict[str, Any] = {
    "participants": [{"email": "ada@example.com", "is_organizer": True, "availability": {"calendar_ids": ["primary"]},
                      "booking": {"calendar_id": "primary"}}],
    "availability": {"duration_minutes": 30},
    "event_booking": {"title": "Intro"},
}
CONFIGS = "/v3/grants/grant-harness/scheduling/configurations"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def emulator() -> Any:
    emu = Emulator(":memory:")
    yield emu
    emu.close()


@pytest.mark.anyio
async def test_in_process_v3_exchanges_are_judged_and_v2_ones_are_not(emulator: Emulator,
                                                                       v3_contract: Recorder) -> None:
    async with httpx.AsyncClient(transport=emulator.transport(), base_url="http://emulator.local") as client:
        created = await client.post(CONFIGS, json=CONFIG, headers=KEY)
        assert created.status_code == 200, created.text
        assert (await client.get(f"{CONFIGS}/{created.json()['data']['id']}", headers=KEY)).status_code == 200
        assert (await client.get("/manage/pages", headers=KEY)).status_code == 200  # v2: not judged
    assert v3_contract.judged == 2 and v3_contract.violations == []


def test_served_v3_exchanges_are_judged(emulator: Emulator, v3_contract: Recorder) -> None:
    with serve_in_thread(emulator) as url:
        refused = httpx.post(f"{url}{CONFIGS}", json={"name": "no participants"}, headers=KEY)
    assert refused.status_code == 400
    assert v3_contract.judged == 1 and v3_contract.violations == []  # refusing a bad request is fine


def test_a_judging_proxy_judges_what_passes_through_it(emulator: Emulator) -> None:
    """The proxy the SDK tests put before an emulator served by another process."""
    recorder = Recorder()

    class Proxy:
        def __init__(self, app: Any) -> None:
            self.app = app

    with serve_in_thread(emulator) as upstream, serve_in_thread(Proxy(judging_proxy(upstream, recorder))) as url:
        created = httpx.post(f"{url}{CONFIGS}?x=%20y", json=CONFIG, headers=KEY)
        listed = httpx.get(f"{url}{CONFIGS}", params={"limit": 1}, headers=KEY)
    assert created.status_code == 200 and listed.json()["data"] == [created.json()["data"]]
    assert recorder.judged == 2 and recorder.violations == []


@pytest.fixture(scope="module")
def module_emulator() -> Any:
    """Built before any test's own recorder exists: its exchanges are still judged."""
    emu = Emulator(":memory:")
    yield emu
    emu.close()


@pytest.mark.anyio
@pytest.mark.parametrize("round_", [1, 2])
async def test_an_emulator_of_a_wider_fixture_is_judged_by_each_test(module_emulator: Emulator, round_: int,
                                                                      v3_contract: Recorder) -> None:
    async with httpx.AsyncClient(transport=module_emulator.transport(), base_url="http://emulator.local") as client:
        assert (await client.get(CONFIGS, headers=KEY)).status_code == 200
    assert v3_contract.judged == 1 and v3_contract.violations == []


@pytest.mark.v3_contract_exempt("shows the marker")
@pytest.mark.anyio
async def test_an_exempt_test_is_not_judged(emulator: Emulator, v3_contract: Recorder) -> None:
    async with httpx.AsyncClient(transport=emulator.transport(), base_url="http://emulator.local") as client:
        assert (await client.get(CONFIGS, headers=KEY)).status_code == 200
    assert v3_contract.judged == 0


@pytest.mark.anyio
async def test_a_null_name_is_refused_as_the_spec_implies_and_judged_clean(emulator: Emulator,
                                                                         v3_contract: Recorder) -> None:
    """Once tolerated (`contract.KNOWN_MISMATCHES`): the emulator read a top-level null as "reset";
    it now refuses a null the spec does not allow, and the exchange conforms with nothing tolerated."""
    async with httpx.AsyncClient(transport=emulator.transport(), base_url="http://emulator.local") as client:
        made = (await client.post(CONFIGS, json=CONFIG, headers=KEY)).json()["data"]
        answer = await client.put(f"{CONFIGS}/{made['id']}", json={"name": None}, headers=KEY)
    assert answer.status_code == 400 and "name: may not be null" in answer.json()["error"]["message"]
    found, tolerated = v3_contract.take()
    assert found == [] and tolerated == []
