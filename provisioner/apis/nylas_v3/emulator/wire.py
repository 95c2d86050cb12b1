"""The v3 wire: the spec's response envelope and error shape, and reading request bodies.

- success: ``{"request_id", "data"}`` (`envelope`), lists add ``next_cursor`` (`list_envelope`);
- error: ``{"request_id", "error": {"type", "message"}}`` (`error_response`), raised as `V3Failure`
  anywhere in a handler. Messages never contain a secret (API key, session id) or an input value.
- `read_json`: a bounded body (`choices.MAX_BODY_BYTES`) parsed as a JSON object, else 400.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from provisioner.apis.nylas_v3 import choices


class V3Failure(Exception):
    """An error answer of the v3 API: HTTP `status` and a message free of secrets."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def error_body(status: int, message: str) -> dict[str, Any]:
    return {"request_id": choices.new_request_id(), "error": {"type": choices.error_type(status), "message": message}}


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(error_body(status, message), status, headers=headers)


def envelope(data: Any, status: int = 200) -> JSONResponse:
    return JSONResponse({"request_id": choices.new_request_id(), "data": data}, status)


def list_envelope(data: list[Any], next_cursor: str | None) -> JSONResponse:
    return JSONResponse({"request_id": choices.new_request_id(), "data": data, "next_cursor": next_cursor})


def done() -> JSONResponse:
    """The answer of a delete: ``{"request_id"}``."""
    return JSONResponse({"request_id": choices.new_request_id()})


async def read_body(request: Request) -> bytes:
    """The raw body, refused with 400 beyond `choices.MAX_BODY_BYTES` (read no further than that)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > choices.MAX_BODY_BYTES:
        raise V3Failure(400, f"Request body too large: at most {choices.MAX_BODY_BYTES} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > choices.MAX_BODY_BYTES:
            raise V3Failure(400, f"Request body too large: at most {choices.MAX_BODY_BYTES} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


async def read_json(request: Request, empty_ok: bool = False) -> dict[str, Any]:
    """The body as a JSON object (400 otherwise); an empty body is ``{}`` when `empty_ok`."""
    raw = await read_body(request)
    if not raw.strip():
        if empty_ok:
            return {}
        raise V3Failure(400, "Invalid request: a JSON object body is required")
    try:
        body = json.loads(raw, parse_constant=_no_constant)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise V3Failure(400, "Malformed JSON in request body") from None
    if not isinstance(body, dict):
        raise V3Failure(400, "The request body must be a JSON object")
    return body
