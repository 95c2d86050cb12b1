"""Retry policy as data, and the pure arithmetic of backoff.

`RetryPolicy` says *when* to retry (which statuses, how many attempts) and *how long* to wait; the
client (`provisioner.apis.nylas_v2.client`) decides *whether* a request may be retried at all (a create may not be,
once it may have been processed). Nothing here sleeps, reads a clock or draws randomness of its own:
the random source and "now" are arguments, so every delay is reproducible in tests.

Backoff is exponential with **full jitter** (AWS Architecture Blog, "Exponential Backoff And
Jitter"): after the n-th failed attempt (n counted from 0) the delay is drawn uniformly from
``[0, min(max_delay, base_delay * multiplier**n)]``. Full jitter spreads a burst of clients that
failed together, which is exactly what a 429 from a shared rate limit produces. When the server sends
``Retry-After`` the delay is at least that long (capped at `RetryPolicy.max_retry_after`).

`Budget` bounds the whole: an attempt may take ``ATTEMPT_DEADLINE`` seconds, a logical request (its
attempts and the backoff between them) ``REQUEST_DEADLINE`` (the client's defaults).
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

DEFAULT_RETRY_STATUSES: frozenset[int] = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry a request that may be retried.

    ``max_attempts`` counts every attempt, the first included (1 = never retry). Delays are in
    seconds. ``max_retry_after`` caps how long a server's ``Retry-After`` can make us wait per retry,
    so a misbehaving server cannot stall a run for hours; a capped wait simply costs one attempt more.
    """

    max_attempts: int = 5
    base_delay: float = 0.25
    max_delay: float = 20.0
    multiplier: float = 2.0
    retry_statuses: frozenset[int] = field(default=DEFAULT_RETRY_STATUSES)
    max_retry_after: float = 60.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {self.max_attempts}")
        if self.base_delay < 0 or self.max_delay < 0 or self.max_retry_after < 0:
            raise ValueError("delays must not be negative")
        if self.multiplier < 1:
            raise ValueError(f"multiplier must be at least 1, got {self.multiplier}")
        # Accept any iterable of ints (a set literal reads naturally) but keep the dataclass hashable.
        object.__setattr__(self, "retry_statuses", frozenset(self.retry_statuses))

    def retries_status(self, status: int) -> bool:
        """True when an answer with this HTTP status is worth another attempt."""
        return status in self.retry_statuses

    def ceiling(self, attempt: int) -> float:
        """The upper bound of the jittered delay after failed attempt number ``attempt`` (from 0)."""
        if attempt < 0:
            raise ValueError(f"attempt counts from 0, got {attempt}")
        # A float power overflows (rather than growing forever) for absurd attempt numbers.
        try:
            grown = self.base_delay * self.multiplier**attempt
        except OverflowError:
            return self.max_delay
        return min(self.max_delay, grown)

    def delay(
        self,
        attempt: int,
        rng: random.Random,
        *,
        headers: Mapping[str, str] | None = None,
        now: datetime | None = None,
    ) -> float:
        """Seconds to wait before the next attempt, after failed attempt ``attempt`` (from 0).

        ``headers`` are the failed response's headers (``None`` after a transport error); a
        ``Retry-After`` among them sets the minimum wait. An HTTP-date ``Retry-After`` is measured
        from the response's own ``Date`` header when present (the server's clock, so our clock skew
        does not matter), else from ``now`` (default: the current UTC time).
        """
        jittered = rng.uniform(0.0, self.ceiling(attempt))
        wait = retry_after_seconds(headers, now=now) if headers is not None else None
        if wait is None:
            return jittered
        return max(jittered, min(wait, self.max_retry_after))


def retry_after_seconds(headers: Mapping[str, str], *, now: datetime | None = None) -> float | None:
    """The wait a ``Retry-After`` header asks for, in seconds, or ``None`` when absent or unreadable.

    Accepts both forms of RFC 9110 §10.2.3: delay-seconds (``"120"``; fractions tolerated) and an
    HTTP-date. A date in the past, or a negative number, means "now" (0.0). Header lookup is
    case-insensitive, so a plain dict or an ``httpx.Headers`` both work.
    """
    value = _header(headers, "retry-after")
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        if seconds != seconds or seconds in (float("inf"), float("-inf")):  # NaN or infinite
            return None
        return max(0.0, seconds)
    when = _http_date(value)
    if when is None:
        return None
    reference = _http_date(_header(headers, "date") or "") or now or datetime.now(UTC)
    return max(0.0, (when - reference).total_seconds())


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is not None:
        return value
    for key, candidate in headers.items():
        if key.lower() == name:
            return candidate
    return None


def _http_date(value: str) -> datetime | None:
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    # RFC 9110 dates are GMT; "-0000" parses as naive.
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


ATTEMPT_DEADLINE = 30.0
"""Default seconds one attempt may take from its first byte sent to its last byte read."""
REQUEST_DEADLINE = 120.0
"""Default seconds one logical request may take, its retries and backoff included."""


class Budget:
    """The time one logical request has used against its deadlines (seconds; ``None``: no deadline).

    The client charges it with each attempt's duration and each backoff delay, never with time spent
    queueing for a parallelism slot or the rate limiter: those are our own waits, not the server's.
    """

    __slots__ = ("attempt", "spent", "total")

    def __init__(self, attempt: float | None, total: float | None) -> None:
        self.attempt, self.total, self.spent = attempt, total, 0.0

    def for_attempt(self) -> float | None:
        """Seconds the next attempt may take (``None``: no deadline)."""
        if self.total is None:
            return self.attempt
        left = max(0.0, self.total - self.spent)
        return left if self.attempt is None else min(self.attempt, left)

    def exhausted(self, more: float = 0.0) -> bool:
        """True when the total deadline is used up (or would be, after ``more`` seconds)."""
        return self.total is not None and self.spent + more >= self.total - 1e-9
