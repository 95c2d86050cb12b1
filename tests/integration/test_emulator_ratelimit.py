"""The emulator's optional rate-limit enforcement, and the rate-limited client against it.

Both sides run on one fake monotonic clock that only moves when the client's limiter sleeps, so the
outcomes are deterministic and nothing waits.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest
from pydantic import SecretStr

from provisioner.apis.nylas_v2.client import SchedulerClient
from provisioner.emulator import Emulator, RateLimitConfig
from provisioner.emulator.ratelimit import config_from_flags
from provisioner.emulator.serve import serve_in_thread
from provisioner.errors import ApiError
from provisioner.ratelimit import RateLimiter, RateLimits
from provisioner.retry import RetryPolicy
from tests.integration.conftest import EMU_BASE_URL

pytestmark = pytest.mark.anyio

TOKENS = [f"token-ratelimit-{name}-0123456789" for name in ("alice", "bob", "carol", "dave")]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def limited(fake_time: FakeTime) -> Iterator[Emulator]:
    emulator = Emulator(":memory:", rate_limits=RateLimitConfig(per_account=2, per_application=5),
                        monotonic=fake_time.clock)
    yield emulator
    emulator.close()


async def test_off_by_default(emu_client: httpx.AsyncClient) -> None:
    for _ in range(60):
        response = await emu_client.get("/manage/pages", headers=bearer(TOKENS[0]))
        assert response.status_code == 200 and "x-ratelimit-limit" not in response.headers


async def test_over_the_account_limit_answers_429_with_headers_and_no_token(
    limited: Emulator, fake_time: FakeTime
) -> None:
    async with httpx.AsyncClient(transport=limited.transport(), base_url=EMU_BASE_URL) as client:
        first = await client.get("/manage/pages", headers=bearer(TOKENS[0]))
        assert first.status_code == 200
        assert (first.headers["x-ratelimit-limit"], first.headers["x-ratelimit-remaining"]) == ("2", "1")
        assert (await client.get("/manage/pages", headers=bearer(TOKENS[0]))).status_code == 200
        refused = await client.get("/manage/pages", headers=bearer(TOKENS[0]))
        assert refused.status_code == 429
        assert refused.json() == {"message": refused.json()["message"], "type": "rate_limit_error"}
        assert refused.headers["retry-after"] == "1" and refused.headers["x-ratelimit-reset"] == "1"
        assert refused.headers["x-ratelimit-limit"] == "2"
        assert TOKENS[0] not in refused.text and TOKENS[0] not in repr(limited.rate_limiter)
        # another bearer is a separate account; the first one refills at 2/s
        assert (await client.get("/manage/pages", headers=bearer(TOKENS[1]))).status_code == 200
        fake_time.now += 0.5
        assert (await client.get("/manage/pages", headers=bearer(TOKENS[0]))).status_code == 200
        assert (await client.get("/manage/pages", headers=bearer(TOKENS[0]))).status_code == 429
        # control routes are never limited
        for _ in range(10):
            assert (await client.get("/_emulator/stats")).status_code == 200
    assert limited.rate_limiter.stats() == {"allowed": 4, "rejected": 2}
    assert limited.stats()["total"] == 6  # limited requests still count as API requests


async def test_the_application_limit_spans_bearers_and_refused_creates_create_nothing(
    limited: Emulator,
) -> None:
    async with httpx.AsyncClient(transport=limited.transport(), base_url=EMU_BASE_URL) as client:
        statuses = [(await client.get("/manage/pages", headers=bearer(t))).status_code for t in TOKENS]
        assert statuses == [200] * 4
        # no bearer: the anonymous account, still under the application limit (5 per second)
        created = await client.post("/manage/pages", json={"access_tokens": [TOKENS[2]], "slug": "one"})
        assert created.status_code == 201
        refused = await client.post("/manage/pages", json={"access_tokens": [TOKENS[2]], "slug": "two"})
        assert refused.status_code == 429 and refused.headers["x-ratelimit-limit"] == "5"
        limited.rate_limiter.config = None
        pages = (await client.get("/manage/pages", headers=bearer(TOKENS[2]))).json()
        assert [p["slug"] for p in pages] == ["one"]


async def test_over_real_http(limited: Emulator) -> None:
    with serve_in_thread(limited) as url, httpx.Client(base_url=url, timeout=10) as client:
        answers = [client.get("/manage/pages", headers=bearer(TOKENS[3])) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[2].headers["retry-after"] == "1" and answers[2].json()["type"] == "rate_limit_error"


async def seed_pages(emulator: Emulator, count: int) -> list[tuple[int, str]]:
    """``count`` pages spread over the four accounts, created with enforcement off."""
    saved, emulator.rate_limiter.config = emulator.rate_limiter.config, None
    pages = []
    async with httpx.AsyncClient(transport=emulator.transport(), base_url=EMU_BASE_URL) as client:
        for i in range(count):
            token = TOKENS[i % 4]
            response = await client.post("/manage/pages", json={"access_tokens": [token], "slug": f"p{i}"})
            pages.append((response.json()["id"], token))
    emulator.rate_limiter.config = saved
    return pages


async def get_all(emulator: Emulator, pages: list[tuple[int, str]], limiter: RateLimiter | None, *,
                  concurrent: bool) -> list[int]:
    """GET every page with its account's token, one by one or all at once; the statuses (429 when refused)."""
    async with SchedulerClient(EMU_BASE_URL, transport=emulator.transport(), parallelism=8, limiter=limiter,
                               retry=RetryPolicy(max_attempts=1)) as client:

        async def one(page_id: int, token: str) -> int:
            try:
                await client.get_page(page_id, SecretStr(token))
            except ApiError as exc:
                assert exc.status is not None
                return exc.status
            return 200

        if concurrent:
            return list(await asyncio.gather(*(one(p, t) for p, t in pages)))
        return [await one(p, t) for p, t in pages]


async def test_a_limited_client_gets_no_429_from_an_enforcing_emulator_on_a_fake_clock(
    fake_time: FakeTime,
) -> None:
    """Requests in plan order over four accounts; both sides on one fake clock that moves only when the
    limiter sleeps (so each request reaches the server at the instant its tokens were taken)."""
    config = RateLimitConfig(per_account=5, per_application=12)
    emulator = Emulator(":memory:", rate_limits=config, monotonic=fake_time.clock)
    try:
        pages = await seed_pages(emulator, 120)
        # control: without a limiter the same load is refused
        assert 429 in await get_all(emulator, pages, None, concurrent=False)
        emulator.rate_limiter.config = config  # fresh buckets
        refused = emulator.rate_limiter.rejected
        limiter = RateLimiter(RateLimits(per_account=5, per_application=12), clock=fake_time.clock,
                              sleep=fake_time.sleep)
        start = fake_time.now
        assert await get_all(emulator, pages, limiter, concurrent=False) == [200] * 120
        assert emulator.rate_limiter.rejected == refused and limiter.stats.throttled == 0
        assert fake_time.now - start == pytest.approx((120 - 1.2) / 12)  # the application bound paced it
    finally:
        emulator.close()


def test_serve_flags_make_the_configuration() -> None:
    assert config_from_flags(None, None) is None
    assert config_from_flags(50, None) == RateLimitConfig(per_account=50, per_application=None)
    assert config_from_flags(None, 500) == RateLimitConfig(per_account=None, per_application=500)
    with pytest.raises(ValueError, match="per_account"):
        config_from_flags(0, 500)
