"""The v3 emulator's Starlette app, and the two ASGI pieces that let one server answer both APIs.

- `build_app`: configurations, sessions and should-redirect (`configurations`), availability,
  bookings, the web components' undocumented calls (`ui_settings`, `calendars`), and the ``/_emulator/v3/`` test
  controls, over one `V3Store` and the emulator's clock; CORS for any origin (`choices.CORS_ANY_ORIGIN`),
  so a page of another origin can host Nylas's web components.
  Every error is ``{"request_id", "error": {"type", "message"}}``; an unexpected exception is a 500
  of that shape, logged without the request's data.
- `route_by_api(v2, v3)`: ``/v3/…`` and ``/_emulator/v3/…`` go to the v3 app, everything else to v2
  (the two APIs' paths do not overlap).
- `V3ErrorShape`: the fault and rate-limit layers, shared by both APIs, answer in v2's error shape;
  on ``/v3/`` paths this outermost layer rewrites such an answer into v3's, keeping status and headers.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse

from provisioner.apis.nylas_v3 import choices
from provisioner.apis.nylas_v3.emulator import (
    availability,
    bookings,
    calendars,
    configurations,
    controls,
    ui_settings,
)
from provisioner.apis.nylas_v3.emulator.context import V3Context
from provisioner.apis.nylas_v3.emulator.store import V3Store
from provisioner.apis.nylas_v3.emulator.webhooks import Notifier, Sender, loopback_sender
from provisioner.apis.nylas_v3.emulator.wire import V3Failure, error_body, error_response
from provisioner.emulator.faults import ASGIApp, ConnectionDropped, Message, Receive, Scope, Send

log = logging.getLogger("provisioner.emulator.v3")

V3_PREFIXES = ("/v3/", "/_emulator/v3/")


def is_v3_path(path: str) -> bool:
    return path == "/v3" or path.startswith(V3_PREFIXES)


def build_app(store: V3Store, clock: Callable[[], datetime], api_key: str | None = None,
              webhook_sender: Sender | None = None) -> Starlette:
    """The v3 API over `store`; `clock` is the emulator's "now"; `api_key` None accepts any key."""
    ctx = V3Context(store, clock, api_key, Notifier(store, clock, webhook_sender or loopback_sender))

    async def on_failure(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, V3Failure)
        return error_response(exc.status, exc.message)

    async def on_http_exception(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, HTTPException)
        message = {404: "Unknown endpoint", 405: "Method not allowed"}.get(exc.status_code, str(exc.detail))
        return error_response(exc.status_code, message, dict(exc.headers) if exc.headers else None)

    async def on_crash(request: Request, exc: Exception) -> JSONResponse:
        log.error("v3 emulator error on %s %s: %s", request.method, request.url.path, type(exc).__name__)
        return error_response(500, "Internal server error")

    routes = [*configurations.routes(ctx), *availability.routes(ctx), *bookings.routes(ctx),
              *ui_settings.routes(ctx), *calendars.routes(ctx), *controls.routes(ctx)]
    cors = Middleware(CORSMiddleware, allow_origins=["*"], allow_methods=list(choices.CORS_METHODS),
                      allow_headers=["*"], expose_headers=["Retry-After"], max_age=choices.CORS_MAX_AGE_S)
    app = Starlette(routes=routes, middleware=[cors], exception_handlers={
        V3Failure: on_failure, HTTPException: on_http_exception, Exception: on_crash})
    return _one_value_per_parameter(app)


def _one_value_per_parameter(app: Starlette) -> Any:
    """[choice] A query parameter given twice (``limit=5&limit=``) is refused with 400: the spec gives
    each parameter one value, and readers disagree on which of two wins (Starlette the last, openapi
    validators the first), so answering would serve a request other than the one validated."""

    async def checked(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            names = [name for name, _ in parse_qsl(scope.get("query_string", b"").decode("latin-1"),
                                                   keep_blank_values=True)]
            repeated = sorted({n for n in names if names.count(n) > 1})
            if repeated:
                response = error_response(400, f"query parameter {repeated[0]!r} given more than once")
                await response(scope, receive, send)
                return
        await app(scope, receive, send)

    return checked


def route_by_api(v2: ASGIApp, v3: ASGIApp) -> ASGIApp:
    """One ASGI app answering both APIs by path."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and is_v3_path(scope["path"]):
            await v3(scope, receive, send)
        else:
            await v2(scope, receive, send)

    return app


class V3ErrorShape:
    """Rewrites v2-shaped error answers (``{"message", "type"}``) on v3 paths into v3's shape.

    Those answers (injected faults, rate limits) never reached the v3 app's CORS layer: every error
    answer on a v3 path leaves with ``Access-Control-Allow-Origin: *`` (`choices.CORS_ANY_ORIGIN`), so
    a browser page sees the 429 or 503 itself rather than a CORS failure."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/v3/"):
            await self.app(scope, receive, send)
            return
        held: Message | None = None

        async def reshaping(message: Message) -> None:
            nonlocal held
            if message["type"] == "http.response.start" and message.get("status", 200) >= 400:
                held = message  # wait for the body: it may need rewriting
                return
            if held is not None and message["type"] == "http.response.body" and not message.get("more_body"):
                start, held = held, None
                body = _reshaped(message.get("body", b""), start["status"])
                headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
                if not any(k.lower() == b"access-control-allow-origin" for k, _ in headers):
                    headers.append((b"access-control-allow-origin", b"*"))
                await send({**start, "headers": [*headers, (b"content-length", str(len(body)).encode())]})
                await send({"type": "http.response.body", "body": body})
                return
            if held is not None:  # a streamed error answer: pass it on as it is
                await send(held)
                held = None
            await send(message)

        try:
            await self.app(scope, receive, reshaping)
        except ConnectionDropped:
            if held is not None:  # a cut answer must still start, as without this layer
                await send(held)
            raise


def _reshaped(body: bytes, status: int) -> bytes:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return body
    if isinstance(data, dict) and set(data) == {"message", "type"}:
        return json.dumps(error_body(status, str(data["message"]))).encode()
    return body


class V3Api:
    """The v3 emulator over one database (a file path or ``":memory:"``): its store and its app."""

    def __init__(self, db: str, clock: Callable[[], datetime], api_key: str | None = None,
                 webhook_sender: Sender | None = None) -> None:
        self.store = V3Store(db)
        self.app = build_app(self.store, clock, api_key, webhook_sender)

    def close(self) -> None:
        self.store.close()
