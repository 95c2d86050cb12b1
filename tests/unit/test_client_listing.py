"""The clients' listing for refresh (issue 15), against `httpx.MockTransport`: a v2 count and what a
server that cannot count answers, batches that drop unmanaged pages before parsing them (so a page
provisioner does not manage cannot fail a plan), and v3 cursor batches."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from provisioner.apis.nylas_v2.client import SchedulerClient
from provisioner.apis.nylas_v3.client import ConfigurationsClient
from provisioner.errors import ApiError

from .test_client import BASE, page_json

TOKEN = SecretStr("tok-listing-0123456789")


def _v2(answer: httpx.Response) -> tuple[int | None, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answer

    async def run() -> int | None:
        async with SchedulerClient(BASE, transport=httpx.MockTransport(handle)) as client:
            return await client.count_pages(TOKEN)

    return asyncio.run(run()), seen


def test_a_v2_count_is_one_request_with_the_account_token():
    count, seen = _v2(httpx.Response(200, json={"count": 250}))
    assert count == 250 and len(seen) == 1
    assert seen[0].url.params["view"] == "count"
    assert seen[0].headers["authorization"] == f"Bearer {TOKEN.get_secret_value()}"


@pytest.mark.parametrize("answer", [httpx.Response(400, json={"message": "bad view", "type": "invalid_request_error"}),
                                    httpx.Response(200, json=[page_json()])], ids=["refused", "ignored"])
def test_a_v2_server_that_cannot_count_says_none(answer: httpx.Response):
    assert _v2(answer)[0] is None


@pytest.mark.parametrize("body", [{"count": "many"}, {"count": -1}, {"total": 3}, "3"])
def test_a_v2_count_that_is_not_a_count_is_an_unexpected_response(body: Any):
    with pytest.raises(ApiError, match=r"view=count: unexpected response"):
        _v2(httpx.Response(200, json=body))


def test_a_v2_batch_keeps_only_the_pages_asked_for_and_says_how_many_it_held():
    answer = [page_json(1, "one"), {"id": 2, "slug": 7, "config": "not a page"}, page_json(3, "three")]

    async def run() -> tuple[list[Any], int]:
        transport = httpx.MockTransport(lambda request: httpx.Response(200, json=answer))
        async with SchedulerClient(BASE, transport=transport) as client:
            batch = await client.list_batch(TOKEN, 200, keep={3})
            return batch.pages, batch.size

    pages, size = asyncio.run(run())
    assert [p.id for p in pages] == [3] and size == 3  # page 2 is not valid, and not asked for


def _config(config_id: Any) -> dict[str, Any]:
    return {"id": config_id, "slug": f"s-{config_id}", "participants": []}


def test_v3_batches_follow_the_cursor_and_keep_only_the_configurations_asked_for():
    answers = {None: ([_config("a"), _config(["not", "an", "id"]), _config("b")], "c1"), "c1": ([_config("c")], None)}
    tokens: list[str | None] = []

    def handle(request: httpx.Request) -> httpx.Response:
        token = request.url.params.get("page_token")
        tokens.append(token)
        data, cursor = answers[token]
        return httpx.Response(200, json={"request_id": "r", "data": data, "next_cursor": cursor})

    async def run() -> list[list[str]]:
        async with ConfigurationsClient(BASE, api_key=SecretStr("k-123"), transport=httpx.MockTransport(handle)) as c:
            return [[x.id for x in batch] async for batch in c.configuration_batches("grant-1", keep={"b", "c"})]

    assert asyncio.run(run()) == [["b"], ["c"]] and tokens == [None, "c1"]
