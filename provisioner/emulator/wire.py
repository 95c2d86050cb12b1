"""What every route module of the emulator shares: error answers and reading request bodies.

`ApiFailure` is raised by any handler and rendered by the app as ``{"message", "type"}``. Messages
never contain a token, an edit hash or an input value.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse

from provisioner import model
from provisioner.emulator import choices
from provisioner.emulator.store import PageRecord


class ApiFailure(Exception):
    """An error answer: HTTP `status` and a message (never a secret)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"message": message, "type": choices.error_type(status)}, status, headers=headers)


def _loc(parts: tuple[int | str, ...]) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "body"


def validation_message(exc: ValidationError, prefix: str = "") -> str:
    """One message naming every invalid field by its path; input values are never included."""
    problems = []
    for err in exc.errors(include_input=False, include_url=False, include_context=False):
        where = _loc(tuple(err["loc"]))
        what = "unknown field" if err["type"] == "extra_forbidden" else err["msg"]
        problems.append(f"{prefix}{where}: {what}")
    return "Invalid request: " + "; ".join(problems)


async def read_object(request: Request, empty_ok: bool = False) -> dict[str, Any]:
    """The request body as a JSON object (400 otherwise); an empty body is ``{}`` when `empty_ok`."""
    raw = await request.body()
    if not raw.strip() and empty_ok:
        return {}
    try:
        body = json.loads(raw) if raw.strip() else None
    except (ValueError, UnicodeDecodeError):
        raise ApiFailure(400, "Malformed JSON in request body") from None
    if not isinstance(body, dict):
        raise ApiFailure(400, "The request body must be a JSON object")
    return body


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
    """The aware UTC datetime of unix seconds."""
    return datetime.fromtimestamp(seconds, UTC)
