"""Fault injection: latency, server errors, rate limiting and dropped connections, seeded.

`FaultLayer` is the outermost ASGI layer of the emulator. For every API request (never the
``/_emulator/`` control routes) it draws one number from a `random.Random` seeded with
`FaultConfig.seed` and picks at most one fault, in this order of the rates:

- ``drop_before``: the request is read but not processed; the connection is cut before a complete answer;
- ``rate_limit``: 429 with ``Retry-After``, ``X-RateLimit-Limit``, ``X-RateLimit-Reset``; not processed;
- ``error``: a 5xx (`choices.FAULT_ERROR_STATUS`); not processed;
- ``drop_after``: the request IS processed (a page is created), then the connection is cut before the
  answer's body: the client cannot know the outcome.

A cut connection is a status line with a ``content-length`` and no body, then `ConnectionDropped`
raised; the request body is always read first (else, over a socket, its late bytes may meet the
closed socket and the client sees a reset instead of a clean close). Under uvicorn (see
`serve.asgi_for_server`) the exception ends the response and the socket closes, so an httpx client
raises ``RemoteProtocolError``; in-process, `EmulatorTransport` turns it into
``httpx.RemoteProtocolError`` itself. Same seed, same request sequence: same faults.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import random
from collections import Counter
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

from provisioner.apis.nylas_v2.emulator import choices

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

CONTROL_PREFIX = "/_emulator/"
"""Test-control routes; never faulted, never counted, never part of the real API."""

FAULT_KINDS = ("drop_before", "rate_limit", "error", "drop_after")


class ConnectionDropped(Exception):
    """Raised by the emulator app to cut the connection (a fault, not a bug)."""


@dataclass
class FaultConfig:
    """Which faults to inject, how often (each rate a probability per request) and with what seed.

    Rates must each lie in [0, 1] and sum to at most 1. `methods` and `only_paths` (path prefixes)
    restrict the requests that may be faulted; empty means all.
    """

    latency_ms: int = 0
    error_rate: float = 0.0
    rate_limit_rate: float = 0.0
    retry_after: int = 1
    drop_before_rate: float = 0.0
    drop_after_rate: float = 0.0
    seed: int = 0
    methods: tuple[str, ...] = ()
    only_paths: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        self.methods = tuple(m.upper() for m in self.methods)
        self.only_paths = tuple(self.only_paths)
        rates = self._rates()
        for name, rate in rates.items():
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"{name}_rate must be between 0 and 1, got {rate}")
        if sum(rates.values()) > 1.0 + 1e-9:
            raise ValueError("the fault rates must add up to at most 1")
        if self.latency_ms < 0 or self.retry_after < 0:
            raise ValueError("latency_ms and retry_after must not be negative")

    def _rates(self) -> dict[str, float]:
        return {"drop_before": self.drop_before_rate, "rate_limit": self.rate_limit_rate,
                "error": self.error_rate, "drop_after": self.drop_after_rate}

    def to_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["methods"], data["only_paths"] = list(self.methods), list(self.only_paths)
        return data

    @classmethod
    def from_json(cls, data: Any) -> FaultConfig:
        """Build from JSON; raises ValueError (naming the field) on unknown fields or bad values."""
        if not isinstance(data, dict):
            raise ValueError("the fault configuration must be a JSON object")
        known = {f.name: f for f in dataclasses.fields(cls)}
        for key in data:
            if key not in known:
                raise ValueError(f"unknown field {key!r}")
        kwargs: dict[str, Any] = {}
        for key, value in data.items():
            if key in ("methods", "only_paths"):
                if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                    raise ValueError(f"{key} must be a list of strings")
                kwargs[key] = tuple(value)
            elif key in ("latency_ms", "retry_after", "seed"):
                if not isinstance(value, int) or isinstance(value, bool):
                    raise ValueError(f"{key} must be an integer")
                kwargs[key] = value
            else:
                if not isinstance(value, int | float) or isinstance(value, bool):
                    raise ValueError(f"{key} must be a number")
                kwargs[key] = float(value)
        return cls(**kwargs)

    def applies_to(self, method: str, path: str) -> bool:
        if self.methods and method.upper() not in self.methods:
            return False
        return not self.only_paths or any(path.startswith(p) for p in self.only_paths)

    def draw(self, rng: random.Random) -> str | None:
        """The fault for one request (one draw from `rng`), or None."""
        u = rng.random()
        total = 0.0
        for kind, rate in self._rates().items():
            total += rate
            if u < total:
                return kind
        return None


@dataclass
class FaultState:
    """The live fault configuration of one emulator, its RNG and request counters."""

    config: FaultConfig = field(default_factory=FaultConfig)
    rng: random.Random = field(init=False)
    requests: Counter[str] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.config.seed)

    def replace(self, config: FaultConfig) -> None:
        """Use a new configuration and restart its seeded sequence."""
        self.config = config
        self.rng = random.Random(config.seed)

    def stats(self) -> dict[str, Any]:
        return {"requests": dict(self.requests), "total": sum(self.requests.values()),
                "faults": dict(self.faults)}

    def reset_stats(self) -> None:
        self.requests.clear()
        self.faults.clear()


async def send_error(send: Send, status: int, message: str, extra: list[tuple[bytes, bytes]]) -> None:
    """Send a complete ``{"message", "type"}`` error answer straight through ASGI, with `extra` headers."""
    body = json.dumps({"message": message, "type": choices.error_type(status)}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *extra]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _read_body(receive: Receive) -> None:
    """Consume the request body (until its last part, or a disconnect)."""
    while True:
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body", False):
            return


async def _cut(send: Send, status: int, headers: list[tuple[bytes, bytes]], length: int) -> None:
    """Start an answer that promises `length` bytes, then cut the connection."""
    kept = [(k, v) for k, v in headers if k.lower() != b"content-length"]
    await send({"type": "http.response.start", "status": status,
                "headers": [*kept, (b"content-length", str(max(length, 1)).encode())]})
    raise ConnectionDropped("connection dropped by fault injection")


class FaultLayer:
    """ASGI middleware injecting the faults of a `FaultState` in front of `app`."""

    def __init__(self, app: ASGIApp, state: FaultState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(CONTROL_PREFIX):
            await self._run(scope, receive, send)
            return
        method, config = scope["method"], self.state.config
        self.state.requests[method] += 1
        if config.latency_ms:
            await asyncio.sleep(config.latency_ms / 1000)  # for benchmarks; tests never rely on it
        kind = config.draw(self.state.rng) if config.applies_to(method, scope["path"]) else None
        if kind:
            self.state.faults[kind] += 1
        if kind == "drop_before":
            await _read_body(receive)
            await _cut(send, choices.DROP_STATUS, [(b"content-type", b"application/json")], 64)
        elif kind == "rate_limit":
            wait = str(config.retry_after).encode()
            await send_error(send, 429, "Too many requests, slow down", [
                (b"retry-after", wait), (b"x-ratelimit-limit", str(choices.RATE_LIMIT_LIMIT).encode()),
                (b"x-ratelimit-reset", wait)])
        elif kind == "error":
            await send_error(send, choices.FAULT_ERROR_STATUS, "The service is temporarily unavailable", [])
        elif kind == "drop_after":
            await self._process_then_cut(scope, receive, send)
        else:
            await self._run(scope, receive, send)

    async def _run(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the app; an exception after a complete answer (Starlette re-raises 500s) is dropped."""
        completed = False

        async def tracking_send(message: Message) -> None:
            nonlocal completed
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                completed = True

        try:
            await self.app(scope, receive, tracking_send)
        except ConnectionDropped:
            raise
        except Exception:
            if not completed:
                raise

    async def _process_then_cut(self, scope: Scope, receive: Receive, send: Send) -> None:
        start: Message = {}
        length = 0

        async def capture(message: Message) -> None:
            nonlocal start, length
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                length += len(message.get("body", b""))

        await self._run(scope, receive, capture)
        await _cut(send, start.get("status", 200), list(start.get("headers", [])), length)
