"""Hostile requests get a 4xx from the emulator, never a 500: over-large bodies (413, read in a
bounded way), absurd nesting, lone surrogates, numbers and times out of range, huge integers. And
pydantic runs off the event loop."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from pydantic import BaseModel, field_validator

from provisioner.apis.nylas_v2 import model
from provisioner.apis.nylas_v2.emulator.availability import field_problems
from provisioner.apis.nylas_v2.emulator.wire import MAX_BODY, validate
from provisioner.emulator import Emulator

pytestmark = pytest.mark.anyio

TOKEN = "token-alice-0123456789"
JSON = {"content-type": "application/json"}


def page_body(**fields: Any) -> dict[str, Any]:
    return {"access_tokens": [TOKEN], "slug": "hostile", **fields}


async def post_raw(client: httpx.AsyncClient, body: bytes) -> httpx.Response:
    return await client.post("/manage/pages", content=body, headers=JSON)


def assert_400(response: httpx.Response, *words: str) -> str:
    assert response.status_code == 400, response.text
    message = response.json()["message"]
    for word in words:
        assert word in message
    return str(message)


@pytest.mark.parametrize(("body", "words"), [
    (b'{"access_tokens": ["t"], "name": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", ["nested"]),
    (b'{"access_tokens": ["t"], "name": ' + b"[" * 200 + b"]" * 200 + b"}", ["nested"]),
    (b'{"access_tokens": ["t"], "name": "\\ud800"}', ["surrogate"]),
    (b'{"access_tokens": ["\\udfff-token"]}', ["surrogate"]),
    (b'{"access_tokens": ["t"], "config": {"booking": {"min_buffer": ' + b"9" * 5000 + b"}}}", ["out of range"]),
    (b'{"access_tokens": ["t"], "config": {"booking": {"min_buffer": ' + b"9" * 30 + b"}}}", ["out of range"]),
    (b'{"access_tokens": ["t"], "config": {"booking": {"additional_fields": '
     b'[{"name": "x", "label": "x", "type": "text", "order": 1e400}]}}}', ["out of range"]),
    (b'{"access_tokens": ["t"], "config": {"booking": {"additional_fields": '
     b'[{"name": "x", "label": "x", "type": "text", "order": NaN}]}}}', ["out of range"]),
])
async def test_hostile_json_is_a_400(emu_client: httpx.AsyncClient, body: bytes, words: list[str]):
    assert_400(await post_raw(emu_client, body), *words)


@pytest.mark.parametrize(("config", "where"), [
    ({"expire_after": {"date": 10**15}}, "config.expire_after.date"),
    ({"booking": {"min_buffer": 10**12}}, "config.booking.min_buffer"),
    ({"booking": {"available_days_in_future": 10**7}}, "config.booking.available_days_in_future"),
    ({"event": {"capacity": 2**40}}, "config.event.capacity"),
    ({"event": {"participants": [{"email": "a@" + "a." * 5000 + " "}]}}, "config.event.participants[0].email"),
    ({"event": {"participants": [{"email": "a@b.co\n"}]}}, "config.event.participants[0].email"),
])
async def test_out_of_range_values_are_a_400_naming_the_field(emu_client: httpx.AsyncClient,
                                                              config: dict[str, Any], where: str):
    assert_400(await emu_client.post("/manage/pages", json=page_body(config=config)), where)


@pytest.mark.parametrize("token", ["zq7secret\n", "zq7secret\r\nX-Injected: 1", "zq7\x00secret", "zq7s\u00e9cret",
                                   " zq7secret"])
async def test_tokens_that_no_header_can_carry_are_a_400(emu_client: httpx.AsyncClient, token: str):
    message = assert_400(await emu_client.post("/manage/pages", json={"access_tokens": [token]}),
                         "access_tokens[0]")
    assert "zq7" not in message


async def test_an_over_large_body_is_a_413_read_in_a_bounded_way(emu_client: httpx.AsyncClient):
    sent = 0

    async def stream() -> AsyncIterator[bytes]:  # no Content-Length: the app must count
        nonlocal sent
        chunk = b" " * 65_536
        for _ in range(4 * MAX_BODY // len(chunk)):
            sent += len(chunk)
            yield chunk

    response = await emu_client.post("/manage/pages", content=stream(), headers=JSON)
    assert response.status_code == 413, response.text
    declared = await emu_client.post("/manage/pages", content=b"{}", headers={**JSON, "content-length": "99999999"})
    assert declared.status_code == 413


async def test_a_body_just_under_the_limit_is_read(emu_client: httpx.AsyncClient):
    body = b'{"access_tokens": ["' + TOKEN.encode() + b'"], "slug": "big"}'
    response = await post_raw(emu_client, body + b" " * (MAX_BODY - len(body)))
    assert response.status_code == 201, response.text


async def test_times_out_of_range_are_a_400(emu_client: httpx.AsyncClient):
    created = await emu_client.post("/manage/pages", json=page_body(config={"timezone": "UTC"}))
    assert created.status_code == 201, created.text
    for start in (10**20, 10**13, -(10**15)):
        body = {"slot": {"start": start, "end": start + 1800, "account_id": "a", "calendar_id": "c"},
                "name": "n", "email": "a@b.co", "timezone": "UTC", "locale": "en",
                "additional_values": {}, "additional_emails": []}
        response = await emu_client.post("/schedule/hostile/timeslots", json=body)
        assert response.status_code == 400, (start, response.text)
    for now in (10**13, "9999-12-31T23:59:59Z", "0001-01-01T00:00:00+14:00", 2**70):
        assert (await emu_client.put("/_emulator/clock", json={"now": now})).status_code == 400, now
    assert (await emu_client.put("/_emulator/clock", json={"advance_minutes": 1e12})).status_code == 400
    timeslots = await emu_client.get("/schedule/hostile/timeslots")
    assert timeslots.status_code == 200, timeslots.text


async def test_the_fault_controls_refuse_hostile_json_too(emu_client: httpx.AsyncClient):
    assert_400(await emu_client.put("/_emulator/faults", content=b"[" * 50_000, headers=JSON), "nested")
    assert (await emu_client.put("/_emulator/faults", content=b"", headers=JSON)).status_code == 200


async def test_hostile_json_over_real_http_is_a_4xx(emu_emulator: Emulator, emu_served: str):
    async with httpx.AsyncClient(base_url=emu_served) as client:
        assert_400(await post_raw(client, b'{"access_tokens": ["t"], "name": "\\ud800"}'), "surrogate")
        response = await post_raw(client, b" " * (MAX_BODY + 1))
        assert response.status_code == 413
        assert (await client.get("/_emulator/stats")).status_code == 200  # still serving


_THREADS: list[int] = []


class _Probe(BaseModel):
    value: int

    @field_validator("value")
    @classmethod
    def _where(cls, value: int) -> int:
        _THREADS.append(threading.get_ident())
        return value


async def test_validation_runs_off_the_event_loop():
    _THREADS.clear()
    parsed = await validate(_Probe, {"value": 3})
    assert parsed.value == 3
    assert _THREADS and _THREADS[0] != threading.get_ident()


def _with_pattern(pattern: str) -> model.Config:
    return model.Config.model_validate({"booking": {"additional_fields": [
        {"name": "code", "label": "Code", "type": "text", "pattern": pattern}]}})


@pytest.mark.parametrize("pattern", [r"(a+)+$", r"(a|aa)*", r"a*a*a*a*a*a*b", r"(\w+)\1+"])
def test_a_pattern_that_backtracks_without_bound_is_not_enforced(pattern: str):
    # The old code ran `re.fullmatch(pattern, value)` as given: hours for any of these.
    assert field_problems({"code": "a" * 5000 + "!"}, _with_pattern(pattern)) == []


def test_a_bounded_pattern_is_enforced_on_values_of_bounded_length():
    config = _with_pattern(r"[A-Z]{2}-[0-9]+")
    assert field_problems({"code": "AB-123"}, config) == []
    [problem] = field_problems({"code": "AB-123\n"}, config)
    assert problem == "additional_values.code: does not match the field's pattern"
    [problem] = field_problems({"code": "AB-" + "1" * 5000}, config)  # also linear, but bounded
    assert "longer than 200 characters" in problem


async def test_a_huge_offset_is_a_400(emu_client: httpx.AsyncClient):
    created = await emu_client.post("/manage/pages", json=page_body())
    assert created.status_code == 201, created.text
    headers = {"Authorization": f"Bearer {TOKEN}"}
    response = await emu_client.get("/manage/pages", params={"offset": "9" * 30}, headers=headers)
    assert_400(response, "offset")
    assert (await emu_client.get("/manage/pages", params={"offset": "1"}, headers=headers)).json() == []
