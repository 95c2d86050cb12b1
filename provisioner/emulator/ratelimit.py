"""Optional enforcement of the API's rate limits by the emulator (off by default).

`RateLimitLayer` is an ASGI layer just inside the fault layer (so faulted and limited requests are
both counted in the emulator's request stats). With a `RateLimitConfig` it keeps a token bucket per
bearer and one for the application, over the emulator's own injectable monotonic clock:

- Each bucket refills at its limit (requests per second) and holds at most one second of requests
  (at least one) [choice]: a client pacing itself at the limit is never refused for jitter below
  about a second, while a client ignoring the limit is refused within a second.
- The account of a request is its bearer token [choice], keyed by a hash (the token is never kept).
  A create's bearer header is optional: requests without one share one "anonymous" account bucket.
- A request is allowed when both buckets hold a token; it then takes one from each. A refused request
  takes none and is not processed: 429 with ``Retry-After`` (whole seconds until the limiting bucket
  has a token, at least 1), ``X-RateLimit-Limit`` (that bucket's limit), ``X-RateLimit-Reset`` (same
  seconds as ``Retry-After``, as the fault layer sends) and ``{"message", "type": "rate_limit_error"}``.
  The account limit is reported when both are exhausted.
- An allowed answer carries ``X-RateLimit-Limit`` and ``X-RateLimit-Remaining`` of the account bucket
  (of the application bucket when accounts are unlimited).
- ``/_emulator/`` control routes are never limited.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from provisioner.apis.nylas_v2.emulator import auth, choices
from provisioner.emulator.faults import CONTROL_PREFIX, ASGIApp, Message, Receive, Scope, Send, send_error

ANONYMOUS = "anonymous"
"""The account key of requests without a bearer token."""
MAX_BUCKETS = 100_000
"""Beyond this many account buckets, full ones are forgotten (they would behave the same if recreated)."""
_EPSILON = 1e-6  # as lenient as the client's buckets: float refills may fall short by a hair


def _check(name: str, value: float | None) -> None:
    if value is not None and not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a positive number of requests per second or None, got {value!r}")


@dataclass(frozen=True)
class RateLimitConfig:
    """Limits the emulator enforces, in requests per second; ``None`` leaves one unlimited."""

    per_account: float | None = float(choices.RATE_LIMIT_LIMIT)
    per_application: float | None = 500.0

    def __post_init__(self) -> None:
        _check("per_account", self.per_account)
        _check("per_application", self.per_application)


def config_from_flags(per_account: float | None, per_application: float | None) -> RateLimitConfig | None:
    """The configuration of ``--rate-limit-account N --rate-limit-app N``: None (off) when neither is given;
    a flag left out leaves its limit unlimited."""
    if per_account is None and per_application is None:
        return None
    return RateLimitConfig(per_account=per_account, per_application=per_application)


class _Bucket:
    __slots__ = ("capacity", "limit", "tokens", "updated")

    def __init__(self, limit: float, now: float) -> None:
        self.limit = limit
        self.capacity = max(1.0, limit)  # one second of requests
        self.tokens = self.capacity
        self.updated = now

    def refill(self, now: float) -> None:
        if now > self.updated:
            self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.limit)
            self.updated = now

    def wait(self) -> float:
        """Seconds until a token (after `refill`); 0.0 when one is there."""
        missing = 1.0 - self.tokens
        return missing / self.limit if missing > _EPSILON else 0.0


def _bearer_key(scope: Scope) -> str:
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
    token = auth.request_token(headers)
    if token is None:
        return ANONYMOUS
    return hashlib.sha256(b"provisioner-emulator/ratelimit:" + token.encode()).hexdigest()[:32]


class RateLimitLayer:
    """ASGI middleware enforcing a `RateLimitConfig` in front of `app`; passes everything when off.

    Assigning `config` starts with fresh (full) buckets. `allowed` and `rejected` count API requests
    seen while enforcing.
    """

    def __init__(self, app: ASGIApp, config: RateLimitConfig | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.app = app
        self._clock = clock
        self.allowed = 0
        self.rejected = 0
        self.config = config

    @property
    def config(self) -> RateLimitConfig | None:
        return self._config

    @config.setter
    def config(self, config: RateLimitConfig | None) -> None:
        self._config = config
        self._accounts: dict[str, _Bucket] = {}
        limit = config.per_application if config else None
        self._app = _Bucket(limit, self._clock()) if limit else None

    def stats(self) -> dict[str, Any]:
        return {"allowed": self.allowed, "rejected": self.rejected}

    def __repr__(self) -> str:
        return f"RateLimitLayer({self._config!r}, accounts={len(self._accounts)})"

    def _account(self, key: str, now: float) -> _Bucket | None:
        limit = self._config.per_account if self._config else None
        if limit is None:
            return None
        bucket = self._accounts.get(key)
        if bucket is None:
            if len(self._accounts) >= MAX_BUCKETS:
                self._forget_full(now)
            bucket = self._accounts[key] = _Bucket(limit, now)
        return bucket

    def _forget_full(self, now: float) -> None:
        for key, bucket in list(self._accounts.items()):
            bucket.refill(now)
            if bucket.tokens >= bucket.capacity:
                del self._accounts[key]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._config is None or scope["type"] != "http" or scope["path"].startswith(CONTROL_PREFIX):
            await self.app(scope, receive, send)
            return
        now = self._clock()
        account = self._account(_bearer_key(scope), now)
        buckets = [b for b in (account, self._app) if b is not None]
        for bucket in buckets:
            bucket.refill(now)
        limiting = [b for b in buckets if b.wait() > 0.0]
        if limiting:
            self.rejected += 1
            await _too_many(send, limiting[0])
            return
        for bucket in buckets:
            bucket.tokens = max(0.0, bucket.tokens - 1.0)
        self.allowed += 1
        shown = buckets[0]
        extra = [(b"x-ratelimit-limit", _number(shown.limit)),
                 (b"x-ratelimit-remaining", str(int(shown.tokens)).encode())]

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, with_headers)


def _number(value: float) -> bytes:
    return (str(int(value)) if float(value).is_integer() else f"{value:g}").encode()


async def _too_many(send: Send, bucket: _Bucket) -> None:
    seconds = str(max(1, math.ceil(bucket.wait()))).encode()
    limit = _number(bucket.limit)
    message = f"Rate limit exceeded: at most {limit.decode()} requests per second; retry later"
    await send_error(send, 429, message, [
        (b"retry-after", seconds), (b"x-ratelimit-limit", limit), (b"x-ratelimit-remaining", b"0"),
        (b"x-ratelimit-reset", seconds)])
