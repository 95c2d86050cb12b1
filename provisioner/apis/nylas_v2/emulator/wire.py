"""What every route module of the emulator shares: error answers, reading request bodies, times.

`ApiFailure` is raised by any handler and rendered by the app as ``{"message", "type"}``. Messages
never contain a token, an edit hash or an input value.

Hostile bodies get a 4xx answer, never a 500 and never a stalled server: `read_object` reads at
most `MAX_BODY` bytes (413 beyond), and refuses (400) JSON nested deeper than `MAX_DEPTH`, numbers
that are not finite or do not fit in 64 bits, and text with lone surrogates. `validate` runs
pydantic in a worker thread, off the event loop. Times are bounded by `MAX_TIME`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse

from provisioner.apis.nylas_v2 import model
from provisioner.apis.nylas_v2.emulator import choices
from provisioner.apis.nylas_v2.emulator.store import PageRecord
from provisioner.apis.validation_text import validation_message


class ApiFailure(Exception):
    """An error answer: HTTP `status` and a message (never a secret)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def error_response(status: int, message: str, headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"message": message, "type": choices.error_type(status)}, status, headers=headers)


MAX_BODY = 1_048_576  # [choice] bytes of a request body; a page config is a few KiB
MAX_DEPTH = 32  # [choice] levels of JSON nesting; a page is about 6
MAX_INT = 2**63 - 1  # [choice] what SQLite stores and every client parses
MAX_TIME = 221_845_392_000  # [choice] 9000-01-01T00:00:00Z: any time, plus any horizon, still a datetime
_SURROGATE = re.compile(r"[\ud800-\udfff]")
M = TypeVar("M", bound=BaseModel)


async def _body(request: Request) -> bytes:
    """The body, read in chunks and never more than `MAX_BODY` bytes of it (413 beyond)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        raise ApiFailure(413, f"The request body is larger than {MAX_BODY} bytes")
    chunks, size = [], 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_BODY:
                raise ApiFailure(413, f"The request body is larger than {MAX_BODY} bytes")
            chunks.append(chunk)
    except ClientDisconnect:
        raise ApiFailure(400, "The request body was cut short") from None
    return b"".join(chunks)


class _OutOfRange(ValueError):
    """A number the emulator does not take (raised from inside `json.loads`)."""


def _number(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise _OutOfRange
    return value


def _integer(text: str) -> int:
    try:
        value = int(text)
    except ValueError:  # past Python's digit limit
        raise _OutOfRange from None
    if abs(value) > MAX_INT:
        raise _OutOfRange
    return value


def _constant(text: str) -> Any:
    raise _OutOfRange  # NaN, Infinity, -Infinity: Python's json takes them, JSON does not


def _check_shape(value: Any) -> str | None:
    """What makes parsed JSON unacceptable (depth, lone surrogates), walked without recursion."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            return f"The request body is nested more than {MAX_DEPTH} levels deep"
        if isinstance(item, str) and _SURROGATE.search(item):
            return "The request body holds a lone surrogate (\\ud800-\\udfff), which is not Unicode text"
        if isinstance(item, dict):
            stack.extend((k, depth) for k in item)
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return None


def parse_json(raw: bytes) -> Any:
    """JSON as the emulator accepts it; `ApiFailure` 400 naming what is wrong (never the value)."""
    try:
        body = json.loads(raw, parse_float=_number, parse_int=_integer, parse_constant=_constant)
    except RecursionError:
        raise ApiFailure(400, f"The request body is nested more than {MAX_DEPTH} levels deep") from None
    except _OutOfRange:
        raise ApiFailure(400, "A number in the request body is out of range: not finite, or past 64 bits") from None
    except (ValueError, UnicodeDecodeError):
        raise ApiFailure(400, "Malformed JSON in request body") from None
    problem = _check_shape(body)
    if problem:
        raise ApiFailure(400, problem)
    return body


async def read_object(request: Request, empty_ok: bool = False) -> dict[str, Any]:
    """The request body as a JSON object (400 otherwise); an empty body is ``{}`` when `empty_ok`."""
    raw = await _body(request)
    if not raw.strip() and empty_ok:
        return {}
    body = parse_json(raw) if raw.strip() else None
    if not isinstance(body, dict):
        raise ApiFailure(400, "The request body must be a JSON object")
    return body


def _validate(cls: type[M], body: dict[str, Any], prefix: str) -> M:
    try:
        return cls.model_validate(body)
    except ValidationError as exc:
        raise ApiFailure(400, validation_message(exc, prefix)) from None


async def validate(cls: type[M], body: dict[str, Any], prefix: str = "") -> M:
    """``cls.model_validate(body)`` in a worker thread (400 naming every bad field on failure)."""
    return await run_in_threadpool(_validate, cls, body, prefix)


def page_json(record: PageRecord) -> dict[str, Any]:
    """The page object as the API returns it (edit token included)."""
    page = model.Page.model_validate({
        "id": record.id, "edit_token": record.edit_token, "name": record.name, "slug": record.slug,
        "config": record.config,
        "access_token_infos": [{"account_email": a.email, "account_name": a.name} for a in record.accounts],
        "app_client_id": record.app_client_id, "app_organization_id": record.app_organization_id,
        "created_at": record.created_at, "modified_at": record.modified_at,
    })
    return page.model_dump(mode="json", context=model.WIRE, exclude_none=True)


def public_page_json(record: PageRecord) -> dict[str, Any]:
    """[choice] The public view of a page (endpoint 8, webhook payloads): the page object without its
    edit token and without ``config.reminders`` (their webhook URLs are the integrator's own)."""
    view = page_json(record)
    view.pop("edit_token", None)
    view["config"].pop("reminders", None)
    return view


def unix(moment: datetime) -> int:
    """Unix seconds of an aware datetime."""
    return int(moment.timestamp())


def instant(seconds: int) -> datetime:
    """The aware UTC datetime of unix seconds; 400 for a time out of range."""
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, ValueError, OSError):
        raise ApiFailure(400, "Invalid request: a time is out of range") from None
