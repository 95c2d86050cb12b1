"""Client-side rate limiting: bucket arithmetic, per-account and application limits composed, server
feedback, the client's use of the limiter, and tokens kept out of every repr.

Time is fake: `FakeTime.sleep` advances `FakeTime.now` by the delay asked and returns at once, so no
test waits. With concurrent sleepers fake time runs at least as fast as real time would (the delays
add up), which can only make the recorded request times sparser, never denser.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence

import httpx
import pytest
from pydantic import SecretStr

from provisioner.apis.nylas_v2.client import SchedulerClient
from provisioner.errors import ApiError
from provisioner.ratelimit import RateLimiter, RateLimits, TokenBucket, account_key
from provisioner.retry import RetryPolicy
from tests.unit.test_client import BASE, EDIT, FakeSleep, Server, fail, ok

TOKEN_A = SecretStr("tok-SECRET-alpha-1f2e3d4c")
TOKEN_B = SecretStr("tok-SECRET-bravo-5a6b7c8d")
TOKEN_C = SecretStr("tok-SECRET-charlie-9e0f1a2b")


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def limiter(time: FakeTime, **kwargs: float | None) -> RateLimiter:
    return RateLimiter(RateLimits(**kwargs), clock=time.clock, sleep=time.sleep)  # type: ignore[arg-type]


def max_in_window(times: Sequence[float], window: float = 1.0) -> int:
    """The most request times falling in any half-open interval [t, t + window)."""
    ordered = sorted(times)
    best, start = 0, 0
    for end, t in enumerate(ordered):
        while t - ordered[start] >= window - 1e-9:
            start += 1
        best = max(best, end - start + 1)
    return best


async def acquire_times(lim: RateLimiter, time: FakeTime, tokens: Sequence[SecretStr]) -> list[float]:
    times = []
    for token in tokens:
        await lim.acquire(token)
        times.append(time.now)
    return times


# --- the bucket ----------------------------------------------------------------------------------


def test_bucket_starts_full_then_refills_at_its_rate_up_to_capacity() -> None:
    bucket = TokenBucket(rate=10, burst=0.3, now=0.0)
    assert bucket.capacity == 3
    for _ in range(3):
        assert bucket.wait_time(0.0) == 0.0
        bucket.take(0.0)
    assert bucket.wait_time(0.0) == pytest.approx(0.1)
    assert bucket.wait_time(0.05) == pytest.approx(0.05)
    assert bucket.wait_time(0.1) == 0.0
    assert bucket.wait_time(100.0) == 0.0 and bucket.tokens == 3  # never more than capacity


def test_bucket_capacity_is_at_least_one_request() -> None:
    bucket = TokenBucket(rate=2, burst=0.1, now=0.0)
    assert bucket.capacity == 1
    bucket.take(0.0)
    assert bucket.wait_time(0.0) == pytest.approx(0.5)


def test_pause_blocks_until_then_allows_exactly_one() -> None:
    bucket = TokenBucket(rate=10, burst=0.5, now=0.0)
    bucket.pause(0.0, 2.0)
    assert bucket.wait_time(1.0) == pytest.approx(1.0)
    assert bucket.wait_time(2.0) == 0.0
    bucket.take(2.0)
    assert bucket.wait_time(2.0) == pytest.approx(0.1)
    bucket.pause(2.0, 0.5)  # a shorter pause never shortens a longer one
    bucket.pause(2.0, 0.1)
    assert bucket.wait_time(2.0) == pytest.approx(0.5)


def test_slow_to_only_lowers_the_rate() -> None:
    bucket = TokenBucket(rate=50, burst=0.1, now=0.0)
    assert not bucket.slow_to(0.0, 80)
    assert bucket.rate == 50
    assert bucket.slow_to(0.0, 20)
    assert (bucket.rate, bucket.capacity, bucket.tokens) == (20, 2, 2)


@pytest.mark.parametrize("kwargs", [{"per_account": 0}, {"per_application": -5}, {"burst": 0},
                                    {"per_account": float("inf")}, {"per_account": float("nan")}])
def test_limits_refuse_bad_values(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        RateLimits(**kwargs)


# --- the limiter ---------------------------------------------------------------------------------


def test_one_account_is_paced_at_its_rate_after_its_burst() -> None:
    time = FakeTime()
    lim = limiter(time, per_account=10, per_application=None, burst=0.2)
    times = asyncio.run(acquire_times(lim, time, [TOKEN_A] * 12))
    offsets = [round(t - 100.0, 6) for t in times]
    assert offsets == [0.0, 0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]
    assert lim.stats.acquired == 12 and lim.stats.delayed == 10
    assert lim.stats.wait_seconds == pytest.approx(1.0)


def test_accounts_have_separate_buckets() -> None:
    time = FakeTime()
    lim = limiter(time, per_account=2, per_application=None, burst=0.5)
    times = asyncio.run(acquire_times(lim, time, [TOKEN_A, TOKEN_B, TOKEN_C, TOKEN_A, TOKEN_B]))
    assert times[:3] == [100.0] * 3  # three accounts, one token each, no wait
    assert times[3] == pytest.approx(100.5)  # A waits for its own refill
    assert times[4] == pytest.approx(100.5)  # B's refill happened meanwhile


def test_unlimited_never_sleeps() -> None:
    time = FakeTime()
    lim = limiter(time, per_account=None, per_application=None)
    asyncio.run(acquire_times(lim, time, [TOKEN_A] * 1000))
    assert time.sleeps == [] and lim.stats.acquired == 1000


def test_application_limit_bounds_the_sum_of_accounts() -> None:
    time = FakeTime()
    lim = limiter(time, per_account=10, per_application=15, burst=0.1)
    tokens = [TOKEN_A, TOKEN_B, TOKEN_C] * 30
    times = asyncio.run(acquire_times(lim, time, tokens))
    assert max_in_window(times) <= 16  # 15/s plus its one-request burst
    for token in (TOKEN_A, TOKEN_B, TOKEN_C):
        own = [t for t, k in zip(times, tokens, strict=True) if k is token]
        assert max_in_window(own) <= 11
    assert times[-1] - times[0] == pytest.approx((90 - 1) / 15, rel=0.02)  # the app bound governs


def test_concurrent_acquires_keep_both_bounds() -> None:
    time = FakeTime()
    lim = limiter(time, per_account=20, per_application=50, burst=0.1)
    record: dict[str, list[float]] = {}

    async def one(token: SecretStr) -> None:
        await lim.acquire(token)
        record.setdefault(token.get_secret_value(), []).append(time.now)

    async def main() -> None:
        tokens = [TOKEN_A, TOKEN_B, TOKEN_C] * 60
        await asyncio.gather(*(one(t) for t in tokens))

    asyncio.run(main())
    assert sum(len(v) for v in record.values()) == 180
    assert max_in_window([t for v in record.values() for t in v]) <= 50 + 5
    assert all(max_in_window(v) <= 20 + 2 for v in record.values())


# --- server feedback -----------------------------------------------------------------------------


def test_429_pauses_the_account_until_retry_after() -> None:
    time = FakeTime()
    lim = limiter(time, per_account=50, per_application=500)
    lim.observe(TOKEN_A, 429, httpx.Headers({"Retry-After": "2", "X-RateLimit-Limit": "50"}))
    times = asyncio.run(acquire_times(lim, time, [TOKEN_B, TOKEN_A, TOKEN_A]))
    assert times[0] == 100.0  # other accounts are not paused
    assert times[1] == pytest.approx(102.0)
    assert times[2] == pytest.approx(102.02)  # one request at the reset, then the rate
    assert lim.stats.throttled == 1 and lim.stats.slowed == 0


def test_429_naming_a_limit_above_the_account_rate_pauses_the_application() -> None:
    time = FakeTime()
    lim = limiter(time, per_account=50, per_application=500)
    lim.observe(TOKEN_A, 429, {"retry-after": "1", "x-ratelimit-limit": "500"})
    times = asyncio.run(acquire_times(lim, time, [TOKEN_B]))
    assert times == [pytest.approx(101.0)]


def test_429_without_retry_after_uses_reset_seconds_but_not_an_epoch() -> None:
    time = FakeTime()
    lim = limiter(time, per_account=50, per_application=None)
    lim.observe(TOKEN_A, 429, {"x-ratelimit-reset": "3"})
    lim.observe(TOKEN_B, 429, {"x-ratelimit-reset": "1767225600"})  # an epoch time: ignored
    times = asyncio.run(acquire_times(lim, time, [TOKEN_B, TOKEN_A]))
    assert times[0] == pytest.approx(100.02)  # B: paused one interval only
    assert times[1] == pytest.approx(103.0)


def test_a_lower_advertised_limit_slows_the_bucket_and_garbage_is_ignored() -> None:
    time = FakeTime()
    lim = limiter(time, per_account=50, per_application=None, burst=0.1)
    for junk in ("", "abc", "-3", "0", "nan", "inf"):
        lim.observe(TOKEN_A, 200, {"x-ratelimit-limit": junk, "retry-after": junk})
    lim.observe(TOKEN_A, 200, {"x-ratelimit-limit": "80"})  # higher: never speeds up
    assert lim.stats.slowed == 0
    lim.observe(TOKEN_A, 200, {"x-ratelimit-limit": "10"})
    assert lim.stats.slowed == 1
    times = asyncio.run(acquire_times(lim, time, [TOKEN_A] * 3))
    assert [round(t - 100.0, 6) for t in times] == [0.0, 0.1, 0.2]


# --- in the client -------------------------------------------------------------------------------


def test_client_acquires_per_attempt_and_reports_answers_to_the_limiter() -> None:
    time = FakeTime()
    lim = limiter(time, per_account=10, per_application=None, burst=0.1)
    server = Server(fail(429, "slow down", "rate_limit_error", **{"Retry-After": "3"}), default=ok())

    async def main() -> None:
        async with SchedulerClient(BASE, transport=httpx.MockTransport(server), sleep=FakeSleep(),
                                   rng=random.Random(1), limiter=lim) as client:
            await client.get_page(1, TOKEN_A)
            await client.get_page(1, TOKEN_A)

    asyncio.run(main())
    assert len(server.requests) == 3 and lim.stats.acquired == 3
    assert lim.stats.throttled == 1
    assert time.now == pytest.approx(103.1)  # the pause, then one interval for the third request


def test_a_throttled_account_does_not_hold_a_parallelism_slot() -> None:
    """With one slot, account B gets through while account A waits in the limiter."""
    gate = asyncio.Event()
    now = [0.0]

    async def gated_sleep(seconds: float) -> None:
        await gate.wait()
        now[0] += seconds

    lim = RateLimiter(RateLimits(per_account=1, per_application=None, burst=1), clock=lambda: now[0],
                      sleep=gated_sleep)
    server = Server(default=ok())
    order: list[str] = []

    async def main() -> None:
        async with SchedulerClient(BASE, transport=httpx.MockTransport(server), parallelism=1,
                                   limiter=lim) as client:
            await client.get_page(1, TOKEN_A)  # spends A's only token

            async def a() -> None:
                await client.get_page(1, TOKEN_A)
                order.append("A")

            async def b() -> None:
                await client.get_page(1, TOKEN_B)
                order.append("B")
                gate.set()

            await asyncio.wait_for(asyncio.gather(a(), b()), timeout=10)

    asyncio.run(main())
    assert order == ["B", "A"]


def test_client_without_limits_has_no_limiter_and_refuses_both() -> None:
    assert SchedulerClient(BASE).limiter is None
    assert SchedulerClient(BASE, limits=RateLimits()).limiter is not None
    with pytest.raises(ValueError, match="not both"):
        SchedulerClient(BASE, limits=RateLimits(), limiter=RateLimiter())


def test_exhausted_retries_on_429_still_raise_with_the_limiter() -> None:
    time = FakeTime()
    lim = limiter(time, per_account=50, per_application=500)
    server = Server(default=fail(429, f"echo {TOKEN_A.get_secret_value()}", "rate_limit_error",
                                 **{"Retry-After": "1"}))

    async def main() -> None:
        async with SchedulerClient(BASE, transport=httpx.MockTransport(server), sleep=FakeSleep(),
                                   retry=RetryPolicy(max_attempts=3), limiter=lim) as client:
            await client.get_page(1, TOKEN_A)

    with pytest.raises(ApiError) as info:
        asyncio.run(main())
    assert info.value.status == 429 and lim.stats.throttled == 3
    assert TOKEN_A.get_secret_value() not in str(info.value)


# --- secrets -------------------------------------------------------------------------------------


def test_tokens_appear_in_no_repr_key_or_stat() -> None:
    time = FakeTime()
    lim = limiter(time, per_account=5, per_application=50)
    secret = TOKEN_A.get_secret_value()
    asyncio.run(acquire_times(lim, time, [TOKEN_A, SecretStr(EDIT)] * 4))
    lim.observe(TOKEN_A, 429, {"retry-after": "1", "x-ratelimit-limit": "5"})
    shown = " ".join([repr(lim), str(lim.stats), repr(lim.limits), *map(repr, lim._accounts.values()),
                      *lim._accounts, *lim._locks])
    for value in (secret, EDIT, secret[4:16], EDIT[:12]):
        assert value not in shown
    assert account_key(TOKEN_A) != account_key(SecretStr(EDIT))
    assert account_key(TOKEN_A) == account_key(SecretStr(secret))
