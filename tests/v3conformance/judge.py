"""Judging one HTTP exchange with the v3 emulator against the contract (openapi-core's validators).

`Exchange` is a request and its answer as bytes on the wire; `violations(exchange)` lists, in words,
everything in it that breaks `contract.judged_spec()`:

- the answer breaks the spec (undocumented status, wrong content type, a body not matching its schema);
- the request breaks the spec *and* was answered 2xx: the emulator accepted what the contract forbids
  (a spec-breaking request answered 4xx is a test probing the emulator's refusals, and is fine);
- a ``/v3/`` path or method that is not an operation of the spec, answered anything but 404/405.

Only ``/v3/`` paths are judged; the v2 API and the emulator's ``/_emulator`` controls are not its business.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import parse_qsl

from openapi_core import OpenAPI
from openapi_core.datatypes import RequestParameters
from openapi_core.templating.paths.exceptions import OperationNotFound, PathNotFound
from werkzeug.datastructures import Headers, ImmutableMultiDict

from tests.v3conformance.contract import judged_spec

JUDGED_PREFIX = "/v3/"
HOST_URL = "http://emulator.local"  # any: the judged server is "/"
MAX_BODY_SHOWN = 300


@dataclass(frozen=True)
class Exchange:
    """One request and its answer, as sent and received."""

    method: str
    path: str
    query: str = ""
    request_headers: tuple[tuple[str, str], ...] = ()
    request_body: bytes = b""
    status: int = 0
    response_headers: tuple[tuple[str, str], ...] = ()
    response_body: bytes = b""

    def title(self) -> str:
        query = f"?{self.query}" if self.query else ""
        return f"{self.method} {self.path}{query} → {self.status}"


class _Request:
    """An `Exchange`'s request as openapi-core's Request protocol."""

    def __init__(self, exchange: Exchange) -> None:
        self._exchange = exchange
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(parse_qsl(exchange.query)),  # a blank value is judged absent ([choice])
            header=Headers(list(exchange.request_headers)),
            cookie=ImmutableMultiDict(),
        )

    @property
    def host_url(self) -> str:
        return HOST_URL

    @property
    def path(self) -> str:
        return self._exchange.path

    @property
    def method(self) -> str:
        return self._exchange.method.lower()

    @property
    def body(self) -> bytes | None:
        return self._exchange.request_body or None

    @property
    def content_type(self) -> str:
        return _header(self._exchange.request_headers, "content-type").lower()


class _Response:
    """An `Exchange`'s answer as openapi-core's Response protocol."""

    def __init__(self, exchange: Exchange) -> None:
        self._exchange = exchange

    @property
    def status_code(self) -> int:
        return self._exchange.status

    @property
    def content_type(self) -> str:
        return _header(self._exchange.response_headers, "content-type").lower()

    @property
    def headers(self) -> Headers:
        return Headers(list(self._exchange.response_headers))

    @property
    def data(self) -> bytes:
        return self._exchange.response_body


def _header(headers: Iterable[tuple[str, str]], name: str) -> str:
    return next((value for key, value in headers if key.lower() == name), "")


@cache
def contract() -> OpenAPI:
    """The judged spec as an openapi-core application (built once: it takes a while)."""
    return OpenAPI.from_dict(judged_spec())


def describe(error: BaseException) -> str:
    """An openapi-core error in words: its class, and each schema error with its JSON path."""
    cause = error.__cause__
    schema_errors = getattr(cause, "schema_errors", None) or getattr(error, "schema_errors", None)
    if schema_errors:
        parts = [f"{'/'.join(str(p) for p in getattr(e, 'absolute_path', ())) or '(root)'}: "
                 f"{getattr(e, 'message', e)}" for e in schema_errors]
        return f"{type(error).__name__}: " + "; ".join(parts)
    detail = cause or str(error)
    return f"{type(error).__name__}: {detail}" if detail else type(error).__name__


def _shown(body: bytes) -> str:
    text = body.decode("utf-8", "replace")
    return text if len(text) <= MAX_BODY_SHOWN else text[:MAX_BODY_SHOWN] + "…"


def violations(exchange: Exchange) -> list[str]:
    """Everything in `exchange` that breaks the contract, in words (empty: it conforms)."""
    if not exchange.path.startswith(JUDGED_PREFIX):
        return []
    app, request, response = contract(), _Request(exchange), _Response(exchange)
    try:
        request_errors: list[Exception] = list(app.iter_request_errors(request))
    except RecursionError as exc:  # a body nested too deep to parse is no JSON value the spec allows
        request_errors = [exc]
    unknown = [e for e in request_errors if isinstance(e, (PathNotFound, OperationNotFound))]
    if unknown:
        if exchange.status in (404, 405):
            return []
        return [f"{exchange.title()}: not an operation of the spec, yet answered {exchange.status}"]
    found: list[str] = []
    if request_errors and 200 <= exchange.status < 300:
        found += [f"{exchange.title()}: accepted a request the spec forbids: {describe(e)}" for e in request_errors]
    for error in app.iter_response_errors(request, response):
        found.append(f"{exchange.title()}: answer breaks the spec: {describe(error)}; body: "
                     f"{_shown(exchange.response_body)}")
    return found


def exchange_from_json(method: str, path: str, status: int, body: Any = None, request: Any = None,
                       query: str = "", headers: Mapping[str, str] | None = None) -> Exchange:
    """An `Exchange` with JSON bodies (for tests of the judge and of the choices)."""
    request_headers = dict({"Authorization": "Bearer key"} if headers is None else headers)
    if request is not None:
        request_headers.setdefault("Content-Type", "application/json")
    return Exchange(
        method=method, path=path, query=query, request_headers=tuple(request_headers.items()),
        request_body=b"" if request is None else json.dumps(request).encode(), status=status,
        response_headers=(("content-type", "application/json"),),
        response_body=b"" if body is None else json.dumps(body).encode(),
    )
