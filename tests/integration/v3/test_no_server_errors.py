"""Bad input is answered 400 (or 401/404), never 500: random JSON bodies and parameters on every
v3 operation, through the in-process transport."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import httpx
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from provisioner.cli import main
from provisioner.emulator import Emulator
from tests.integration.v3.conftest import BASE_URL, CONFIG, configs_url

SCALARS = (st.none() | st.booleans() | st.integers(-2**63, 2**63) | st.floats(allow_nan=False, allow_infinity=False)
           | st.text(max_size=20))
KEYS = st.sampled_from(["participants", "availability", "event_booking", "scheduler", "slug", "name", "appearance",
                        "duration_minutes", "days", "start", "end", "timezone", "email", "title", "type",
                        "start_time", "end_time", "guest", "salt", "status", "time_to_live", "configuration_id"])
JSON = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS | st.text(max_size=8),
                                                                                        inner, max_size=5),
                    max_leaves=25)

PATH_CHARS = "".join(chr(c) for c in range(33, 127) if chr(c) not in "/?#") + "é"


def mutated(base: dict[str, Any], key: str, value: Any) -> dict[str, Any]:
    return base | {key: value}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.dictionaries(KEYS, JSON, max_size=6), key=KEYS, value=JSON,
       path_part=st.text(alphabet=PATH_CHARS, max_size=30))
def test_random_requests_never_get_a_server_error(body: dict[str, Any], key: str, value: Any,
                                                   path_part: str) -> None:
    async def run() -> list[int]:
        emulator = Emulator(":memory:", clock=lambda: datetime(2026, 3, 2, 6, tzinfo=UTC))
        statuses = []
        try:
            async with httpx.AsyncClient(transport=emulator.transport(), base_url=BASE_URL,
                                         headers={"Authorization": "Bearer key"}) as c:
                made = (await c.post(configs_url(), json=CONFIG)).json()["data"]
                one = f"{configs_url()}/{made['id']}"
                for method, url, sent in [
                    ("POST", configs_url(), body), ("POST", configs_url(), mutated(CONFIG, key, value)),
                    ("PUT", one, body), ("PUT", one, {key: value}),
                    ("POST", "/v3/scheduling/sessions", body),
                    ("POST", f"/v3/scheduling/bookings?configuration_id={made['id']}", body),
                    ("PATCH", f"/v3/scheduling/bookings/{path_part or 'x'}", body),
                    ("PUT", f"/v3/scheduling/bookings/{path_part or 'x'}", body),
                    ("DELETE", f"/v3/scheduling/bookings/{path_part or 'x'}", body),
                ]:
                    statuses.append((await c.request(method, url, json=sent)).status_code)
                for params in ({"start_time": str(value), "end_time": path_part, "configuration_id": made["id"]},
                               {"limit": path_part, "page_token": path_part}):
                    statuses.append((await c.get("/v3/scheduling/availability", params=params)).status_code)
                    statuses.append((await c.get(configs_url(), params=params)).status_code)
                statuses.append((await c.get(f"{configs_url(path_part or 'g')}/{path_part or 'x'}")).status_code)
        finally:
            emulator.close()
        return statuses

    statuses = asyncio.run(run())
    assert all(s < 500 for s in statuses), statuses


def test_non_standard_json_constants_are_refused() -> None:
    async def run() -> int:
        emulator = Emulator(":memory:")
        try:
            async with httpx.AsyncClient(transport=emulator.transport(), base_url=BASE_URL,
                                         headers={"Authorization": "Bearer key"}) as c:
                response = await c.post("/v3/scheduling/sessions", content=b'{"time_to_live": NaN}')
                return response.status_code
        finally:
            emulator.close()

    assert asyncio.run(run()) == 400


def test_serve_refuses_an_unset_api_key_variable(monkeypatch: Any) -> None:
    monkeypatch.delenv("V3_KEY_NOT_SET", raising=False)
    result = CliRunner().invoke(main, ["emulator", "serve", "--v3-api-key-env", "V3_KEY_NOT_SET"])
    assert result.exit_code == 1
    assert "V3_KEY_NOT_SET is not set" in result.output
