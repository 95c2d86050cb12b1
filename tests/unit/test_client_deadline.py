"""Every request has a total deadline, not only httpx's per-read timeout.

A real slow-drip server on 127.0.0.1 answers with headers at once, then one body byte per tick of the
test: each read succeeds long before httpx's read timeout, so only the client's deadline can end the
request. No assertion depends on how long anything took.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from provisioner.apis.nylas_v2.client import SchedulerClient
from provisioner.emulator import Emulator
from provisioner.errors import ApiError, DeadlineExceeded, OutcomeUnknown
from provisioner.retry import RetryPolicy
from tests.unit.test_client import EDIT, PAGE_ID, TOKEN, FakeSleep, fail, ok

GUARD = 30.0  # seconds: only so that a client without deadlines fails instead of hanging the suite
SLOW_READS = httpx.Timeout(GUARD * 2)  # httpx's own per-read timeout never fires in these tests


class Drip:
    """An HTTP server that promises a long body and sends it one byte per `tick` (from the test)."""

    def __init__(self) -> None:
        self.ticks: asyncio.Queue[None] = asyncio.Queue()
        self.requests: list[bytes] = []
        self.bytes_sent = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                           if line.lower().startswith(b"content-length:")), 0)
            await reader.readexactly(length)
            self.requests.append(head.split(b" ", 2)[0])
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n{")
            await writer.drain()
            self.bytes_sent += 1
            while True:
                await self.ticks.get()
                writer.write(b" ")
                await writer.drain()
                self.bytes_sent += 1
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the client gave up and closed the connection
        except asyncio.CancelledError:
            pass  # the test is over: its event loop closes the open connections
        finally:
            writer.close()


@asynccontextmanager
async def dripping() -> AsyncIterator[tuple[str, Drip]]:
    drip = Drip()
    server = await asyncio.start_server(drip.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]

    async def ticker() -> None:  # the drip's pace; nothing waits on it
        while True:
            drip.ticks.put_nowait(None)
            await asyncio.sleep(0.05)

    pacing = asyncio.create_task(ticker())
    try:
        yield f"http://127.0.0.1:{port}", drip
    finally:
        pacing.cancel()
        server.close()
        await server.wait_closed()


def against_drip(call: Callable[[SchedulerClient], Awaitable[Any]], **kwargs: Any) -> tuple[BaseException, Drip]:
    async def main() -> tuple[BaseException, Drip]:
        async with dripping() as (url, drip), asyncio.timeout(GUARD):
            kwargs.setdefault("sleep", FakeSleep())
            async with SchedulerClient(url, timeout=SLOW_READS, **kwargs) as client:
                with pytest.raises(ApiError) as info:
                    await call(client)
            return info.value, drip

    return asyncio.run(main())


def get(client: SchedulerClient) -> Awaitable[Any]:
    return client.get_page(PAGE_ID, SecretStr(EDIT))


def create(client: SchedulerClient) -> Awaitable[Any]:
    return client.create_page([SecretStr(TOKEN)], name="Demo", slug="demo", config={})


def test_a_dripping_answer_fails_at_the_total_deadline() -> None:
    error, drip = against_drip(get, deadline=0.5)
    assert type(error) is DeadlineExceeded
    assert f"GET /manage/pages/{PAGE_ID}: no answer within the 0.5 s deadline" in str(error)
    assert drip.bytes_sent >= 1 and drip.requests == [b"GET"]  # bytes kept coming: no read timed out
    assert EDIT not in str(error)


def test_each_attempt_has_its_own_deadline_and_the_retries_share_the_total() -> None:
    policy = RetryPolicy(max_attempts=100, base_delay=0)
    error, drip = against_drip(get, attempt_deadline=0.2, deadline=0.5, retry=policy)
    assert type(error) is DeadlineExceeded and "0.5 s deadline" in str(error)
    # An attempt past 0.2 s is retried, and the total ends the retries long before 100 attempts.
    assert 2 <= len(drip.requests) <= 3


def test_a_dripping_create_is_outcome_unknown_so_the_caller_looks_it_up_by_slug() -> None:
    error, drip = against_drip(create, deadline=0.5)
    assert type(error) is OutcomeUnknown
    assert "no complete answer within 0.5 s" in str(error) and "look it up by slug" in str(error)
    assert drip.requests == [b"POST"]  # never blindly sent again


def test_backoff_counts_against_the_total_deadline() -> None:
    """A server asking to retry after 10 s each time: with 25 s in all, the third answer is the last."""
    sleep = FakeSleep()
    answers: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        answers.append(request)
        return fail(503, "busy", **{"Retry-After": "10"})

    async def main() -> BaseException:
        async with SchedulerClient("http://scheduler.test", transport=httpx.MockTransport(handler), sleep=sleep,
                                   rng=random.Random(7), deadline=25.0) as client:
            with pytest.raises(ApiError) as info:
                await get(client)
            return info.value

    error = asyncio.run(main())
    assert type(error) is DeadlineExceeded and error.status == 503
    assert len(answers) == 3 and sleep.delays == [10.0, 10.0]
    assert "25 s deadline (3 attempt(s); last: HTTP 503" in str(error)


def test_a_request_within_its_deadlines_is_unaffected() -> None:
    """An attempt that hangs is retried (a GET may be); the retry's answer is the result."""
    calls: list[str] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.method)
        if len(calls) == 1:
            await asyncio.Event().wait()  # the first answer never comes
        return ok()

    async def main() -> Any:
        async with SchedulerClient("http://scheduler.test", transport=httpx.MockTransport(handler),
                                   sleep=FakeSleep(), attempt_deadline=0.2) as client:
            return await get(client)

    page = asyncio.run(main())
    assert page.id == PAGE_ID and calls == ["GET", "GET"]


@pytest.mark.parametrize("bad", [0, -1.0, float("nan")])
def test_deadlines_must_be_positive(bad: float) -> None:
    with pytest.raises(ValueError, match="deadline"):
        SchedulerClient("http://scheduler.test", deadline=bad)
    with pytest.raises(ValueError, match="attempt_deadline"):
        SchedulerClient("http://scheduler.test", attempt_deadline=bad)


class ProcessedThenSilent(httpx.AsyncBaseTransport):
    """The emulator processes every request, but the answer to a create never arrives."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.method == "POST":
            await asyncio.Event().wait()
        return response


def test_a_create_past_its_deadline_is_found_by_slug_afterwards(tmp_path: Any) -> None:
    emulator = Emulator(tmp_path / "emulator.db")
    token = SecretStr("deadline-test-access-token")

    async def main() -> tuple[BaseException, Any]:
        transport = ProcessedThenSilent(emulator.transport())
        async with SchedulerClient("http://emulator.local", transport=transport, deadline=0.3) as client:
            with pytest.raises(OutcomeUnknown) as info:
                await client.create_page([token], name="Late", slug="late-answer", config={})
            return info.value, await client.find_by_slug([token], "late-answer")

    try:
        error, found = asyncio.run(main())
    finally:
        emulator.close()
    assert "outcome unknown" in str(error)
    assert found is not None and found.slug == "late-answer" and found.name == "Late"
