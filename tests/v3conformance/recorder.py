"""Every exchange the test suite has with the v3 emulator, judged against the contract as it happens.

`judging(app, recorder)` wraps an ASGI app: each ``/v3/`` request it completes is handed, with its
answer, to `Recorder.judge` (`tests.v3conformance.judge`). The suite's root ``conftest.py`` wraps
every `provisioner.emulator.Emulator` a test builds this way, so the in-process transport, the
emulator served in a thread and the CLI's embedded emulator are all judged; `judging_proxy` does the
same for an emulator served by another process (the official SDKs' tests). A test fails on the first
violation recorded during it.
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import httpx

from tests.v3conformance.contract import known_mismatch
from tests.v3conformance.judge import JUDGED_PREFIX, Exchange, violations

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class Recorder:
    """Judges exchanges and keeps the violations found (thread-safe: a served emulator judges in its
    server's thread)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.judged = 0
        self.violations: list[str] = []
        self.tolerated: list[str] = []  # known mismatches (`contract.KNOWN_MISMATCHES`), shown as warnings

    def judge(self, exchange: Exchange) -> None:
        try:
            found = violations(exchange)
        except Exception as exc:  # the judge must never break the exchange it watches
            found = [f"{exchange.title()}: could not be judged: {type(exc).__name__}: {exc}"]
        with self._lock:
            self.judged += 1
            for violation in found:
                why = known_mismatch(violation)
                if why is None:
                    self.violations.append(violation)
                else:
                    self.tolerated.append(f"{violation} (known: {why})")

    def take(self) -> tuple[list[str], list[str]]:
        """The violations and the tolerated known mismatches recorded so far, forgetting them."""
        with self._lock:
            taken, self.violations, tolerated, self.tolerated = self.violations, [], self.tolerated, []
        return taken, tolerated


class Switchboard:
    """Hands each exchange to the recorder of the test running (`active`); an exchange made while no
    test is running (a module-scoped fixture's setup) goes to `stray`, which the next test reports."""

    def __init__(self) -> None:
        self.active: Recorder | None = None
        self.exempt = False
        self.stray = Recorder()

    def judge(self, exchange: Exchange) -> None:
        if self.exempt:
            return
        (self.active or self.stray).judge(exchange)


def _pairs(raw: list[tuple[bytes, bytes]]) -> tuple[tuple[str, str], ...]:
    return tuple((key.decode("latin-1"), value.decode("latin-1")) for key, value in raw)


def judging(app: ASGIApp, recorder: Recorder | Switchboard) -> ASGIApp:
    """`app`, with each completed ``/v3/`` exchange judged by `recorder` (others pass untouched).

    An exchange that does not complete (a dropped connection, an exception) is not judged: there is
    no answer to judge, and the test sees the failure itself.
    """

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(JUDGED_PREFIX):
            await app(scope, receive, send)
            return
        body, answer = bytearray(), bytearray()
        start: dict[str, Any] = {}

        async def recording_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                body.extend(message.get("body", b""))
            return message

        async def recording_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                answer.extend(message.get("body", b""))
            await send(message)

        await app(scope, recording_receive, recording_send)
        if start:
            recorder.judge(Exchange(
                method=scope["method"], path=scope["path"], query=scope.get("query_string", b"").decode("latin-1"),
                request_headers=_pairs(scope.get("headers", [])), request_body=bytes(body),
                status=int(start["status"]), response_headers=_pairs(start.get("headers", [])),
                response_body=bytes(answer),
            ))

    return wrapped


def proxy_to(upstream: str) -> ASGIApp:
    """An ASGI app forwarding each request to `upstream` (``http://127.0.0.1:PORT``) as it is."""
    client = httpx.AsyncClient(timeout=30)

    async def forward(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        body = bytearray()
        while True:
            message = await receive()
            body.extend(message.get("body", b""))
            if not message.get("more_body"):
                break
        headers = [(k, v) for k, v in _pairs(scope.get("headers", [])) if k.lower() not in ("host", "content-length")]
        target = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
        query = scope.get("query_string", b"").decode("latin-1")
        answer = await client.request(scope["method"], f"{upstream}{target}" + (f"?{query}" if query else ""),
                                      headers=headers, content=bytes(body))
        out = [(k.encode(), v.encode()) for k, v in answer.headers.items()
               if k.lower() not in ("content-length", "transfer-encoding", "content-encoding", "connection")]
        out.append((b"content-length", str(len(answer.content)).encode()))
        await send({"type": "http.response.start", "status": answer.status_code, "headers": out})
        await send({"type": "http.response.body", "body": answer.content})

    return forward


def judging_proxy(upstream: str, recorder: Recorder) -> ASGIApp:
    """A proxy to `upstream` judging each ``/v3/`` exchange through it (for a served emulator process)."""
    return judging(proxy_to(upstream), recorder)
