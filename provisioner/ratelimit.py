"""Client-side rate limiting: a token bucket per account and one for the whole application.

The published Scheduler API limits are 50 requests/s per account and 500/s per application
(`RateLimits` defaults). `RateLimiter.acquire` is awaited before every HTTP attempt (retries
included) and returns once both the account's bucket and the application's bucket hold a token.

Contract
--------
- **Buckets.** Each bucket refills at ``rate`` tokens per second up to a capacity of
  ``max(1, rate * RateLimits.burst)`` tokens and starts full. With the default ``burst`` of 0.1 s an
  account may send 5 requests back to back, then one every 20 ms. A small burst keeps the client well
  inside a server bucket of one second (the emulator's) even when network jitter bunches requests, and
  lets a late timer wake-up be made up rather than lost.
- **Account = bearer [choice].** A request's account key is a hash of its bearer token (never the
  token: no bucket, repr, stat or message holds it). The client cannot tell which account a page's
  edit token belongs to, so every distinct bearer is its own account: an account reached through its
  access token and through its pages' edit tokens gets one bucket per token. Only the application
  bucket then bounds the sum; callers that want the account bound must send the account's token.
- **Fairness, no deadlock.** Waiters of one account queue FIFO on that account's `asyncio.Lock`; the
  holder waits for both buckets, then takes one token from each at the same instant (no token is
  taken from one bucket while waiting for the other). An acquire holds no other lock, and the client
  acquires *before* taking its parallelism slot, so a throttled account never occupies a slot that
  another account could use. The cost: up to ``parallelism`` requests whose tokens were taken while
  they waited for a slot may leave together, a bunching the server's one-second bucket absorbs.
- **Server feedback** (`RateLimiter.observe`, called with every answer). ``X-RateLimit-Limit`` below
  the rate of the bucket it names lowers that bucket's rate for the rest of the run (never raises
  it). A 429 pauses that bucket until ``Retry-After`` (capped at `MAX_PAUSE`), else until
  ``X-RateLimit-Reset`` read as seconds from now [choice] (a value above `MAX_PAUSE` is taken for an
  epoch time and ignored), then lets one request through. The limit named is the account's unless
  the header's limit exceeds the account rate (then it can only be the application's). The client's
  retry loop still sleeps ``Retry-After`` itself.
- **Time** comes from the injected ``clock`` (monotonic seconds) and ``sleep``; nothing else here
  reads a clock, so tests run the arithmetic on a fake clock without waiting.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from pydantic import SecretStr

from .retry import retry_after_seconds

MAX_PAUSE = 60.0
"""Longest pause (seconds) a single 429 can impose on a bucket."""
_EPSILON = 1e-6  # float refills: 0.999999 tokens count as one (a fake clock may not advance by less)


def _check_rate(name: str, value: float | None) -> None:
    if value is not None and not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a positive number of requests per second or None, got {value!r}")


@dataclass(frozen=True)
class RateLimits:
    """Requests per second allowed per account and per application; ``None`` means unlimited.

    ``burst`` is how many seconds' worth of requests a bucket may save up (at least one request).
    """

    per_account: float | None = 50.0
    per_application: float | None = 500.0
    burst: float = 0.1

    def __post_init__(self) -> None:
        _check_rate("per_account", self.per_account)
        _check_rate("per_application", self.per_application)
        if not (math.isfinite(self.burst) and self.burst > 0):
            raise ValueError(f"burst must be a positive number of seconds, got {self.burst!r}")

    @property
    def unlimited(self) -> bool:
        return self.per_account is None and self.per_application is None


class TokenBucket:
    """One token bucket; pure arithmetic over times passed in (monotonic seconds).

    ``updated`` may lie in the future while the bucket is paused: no token accrues before it.
    """

    __slots__ = ("burst", "capacity", "rate", "tokens", "updated")

    def __init__(self, rate: float, burst: float, now: float) -> None:
        self.burst = burst
        self.rate = rate
        self.capacity = max(1.0, rate * burst)
        self.tokens = self.capacity
        self.updated = now

    def __repr__(self) -> str:
        return f"TokenBucket(rate={self.rate:g}, capacity={self.capacity:g}, tokens={self.tokens:.3f})"

    def _refill(self, now: float) -> None:
        if now > self.updated:
            self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
            self.updated = now

    def wait_time(self, now: float) -> float:
        """Seconds from ``now`` until a token is available (0.0 when one is)."""
        self._refill(now)
        missing = 1.0 - self.tokens
        return max(0.0, self.updated - now) + (missing / self.rate if missing > _EPSILON else 0.0)

    def take(self, now: float) -> None:
        """Take one token; the caller has checked ``wait_time(now) == 0``."""
        self._refill(now)
        self.tokens = max(0.0, self.tokens - 1.0)

    def pause(self, now: float, seconds: float) -> None:
        """No token before ``now + seconds``; then exactly one (the server's "retry after")."""
        self._refill(now)
        until = now + seconds
        if until > self.updated:
            self.updated = until
            self.tokens = min(1.0, self.capacity)

    def slow_to(self, now: float, rate: float) -> bool:
        """Lower the rate to ``rate`` (never raises it); True when it changed."""
        if rate >= self.rate:
            return False
        self._refill(now)
        self.rate = rate
        self.capacity = max(1.0, rate * self.burst)
        self.tokens = min(self.tokens, self.capacity)
        return True


def account_key(token: SecretStr) -> str:
    """The key of a bearer's bucket: a short hash, from which the token cannot be recovered."""
    digest = hashlib.sha256(b"provisioner/ratelimit:" + token.get_secret_value().encode())
    return digest.hexdigest()[:24]


@dataclass
class LimiterStats:
    """Counters for benchmarks and debugging; only ever incremented."""

    acquired: int = 0
    delayed: int = 0
    """Acquires that had to wait."""
    wait_seconds: float = 0.0
    throttled: int = 0
    """429 answers observed."""
    slowed: int = 0
    """Buckets slowed down by an ``X-RateLimit-Limit`` below their rate."""


class RateLimiter:
    """Token buckets per account key and for the application (see the module docstring)."""

    def __init__(
        self,
        limits: RateLimits = RateLimits(),  # noqa: B008 - frozen, so a shared default is safe
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.limits = limits
        self.stats = LimiterStats()
        self._clock = clock
        self._sleep = sleep
        now = clock()
        self._app = (
            TokenBucket(limits.per_application, limits.burst, now) if limits.per_application else None
        )
        self._accounts: dict[str, TokenBucket] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def __repr__(self) -> str:
        return f"RateLimiter({self.limits!r}, accounts={len(self._accounts)})"

    def _account(self, key: str, now: float) -> TokenBucket | None:
        if self.limits.per_account is None:
            return None
        bucket = self._accounts.get(key)
        if bucket is None:
            bucket = self._accounts[key] = TokenBucket(self.limits.per_account, self.limits.burst, now)
        return bucket

    async def acquire(self, token: SecretStr) -> float:
        """Wait until the bearer's account and the application may send one request; take it.

        Returns the seconds waited (0.0 when a token was there).
        """
        self.stats.acquired += 1
        if self.limits.unlimited:
            return 0.0
        key = account_key(token)
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        waited = 0.0
        async with lock:
            while True:
                now = self._clock()
                buckets = [b for b in (self._account(key, now), self._app) if b is not None]
                wait = max(bucket.wait_time(now) for bucket in buckets)
                if wait <= 0.0:
                    for bucket in buckets:
                        bucket.take(now)
                    break
                waited += wait
                await self._sleep(wait)
        if waited:
            self.stats.delayed += 1
            self.stats.wait_seconds += waited
        return waited

    def observe(self, token: SecretStr, status: int, headers: Mapping[str, str]) -> None:
        """Learn from one answer to the bearer ``token``: its rate-limit headers and a 429."""
        now = self._clock()
        limit = _positive(headers.get("x-ratelimit-limit"))
        account = self._account(account_key(token), now)
        bucket = account
        if account is None or (limit is not None and limit > account.rate):
            bucket = self._app
        if status == 429:
            self.stats.throttled += 1
        if bucket is None:
            return
        if limit is not None and bucket.slow_to(now, limit):
            self.stats.slowed += 1
        if status == 429:
            wait = retry_after_seconds(headers)
            if wait is None:
                reset = _positive(headers.get("x-ratelimit-reset"))
                wait = reset if reset is not None and reset <= MAX_PAUSE else None  # not an epoch time
            if wait is None:
                wait = 1.0 / bucket.rate
            bucket.pause(now, min(wait, MAX_PAUSE))


def _positive(value: str | None) -> float | None:
    """A header's positive finite number, or None when absent or unreadable."""
    if value is None:
        return None
    try:
        number = float(value.strip())
    except ValueError:
        return None
    return number if math.isfinite(number) and number > 0 else None
