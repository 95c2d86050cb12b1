"""The Starlette app: endpoints 1-5 of the Scheduler API, and the ``/_emulator/`` control routes.

Request bodies are validated with `model.PageCreate` / `model.PageUpdate` after dropping the
read-only top-level fields (`model.READ_ONLY_FIELDS`, which the SDKs' save() sends back). Stored
configs are what `spec.fill_server_defaults` makes of the sent config; every page answered is a
valid `model.Page`. Every error answer is ``{"message", "type"}`` and never contains a token.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from provisioner import model, spec
from provisioner.emulator import auth, choices
from provisioner.emulator.faults import FaultConfig, FaultState
from provisioner.emulator.store import PageRecord, Principal, SlugTaken, Store

log = logging.getLogger("provisioner.emulator")


class ApiFailure(Exception):
    """An error answer: HTTP `status` and a message (never a secret)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"message": message, "type": choices.error_type(status)}, status, headers=headers)


# --- bodies --------------------------------------------------------------------------------------


def _loc(parts: tuple[int | str, ...]) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "body"


def validation_message(exc: ValidationError) -> str:
    """One message naming every invalid field by its path; input values are never included."""
    problems = []
    for err in exc.errors(include_input=False, include_url=False, include_context=False):
        where = _loc(tuple(err["loc"]))
        what = "unknown field" if err["type"] == "extra_forbidden" else err["msg"]
        problems.append(f"{where}: {what}")
    return "Invalid request: " + "; ".join(problems)


async def _json_object(request: Request) -> dict[str, Any]:
    raw = await request.body()
    try:
        body = json.loads(raw) if raw.strip() else None
    except (ValueError, UnicodeDecodeError):
        raise ApiFailure(400, "Malformed JSON in request body") from None
    if not isinstance(body, dict):
        raise ApiFailure(400, "The request body must be a JSON object")
    body = {k: v for k, v in body.items() if k not in model.READ_ONLY_FIELDS}
    if choices.NULL_MEANS_LEFT_OUT:
        body = {k: v for k, v in body.items() if v is not None}
    return body


def _tokens(secrets: list[Any]) -> list[str]:
    tokens = [s.get_secret_value() for s in secrets]
    for i, token in enumerate(tokens):
        if not token.strip():
            raise ApiFailure(400, f"Invalid request: access_tokens[{i}]: must not be empty")
        if token in tokens[:i]:
            raise ApiFailure(400, f"Invalid request: access_tokens[{i}]: repeats an earlier token")
    return tokens


def _stored_config(config: model.Config | None) -> dict[str, Any]:
    return spec.fill_server_defaults(model.dump_config(config) if config else {})


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


def _int_param(request: Request, name: str, default: int, maximum: int | None = None) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiFailure(400, f"Invalid request: {name} must be an integer") from None
    if value < 0 or (maximum is not None and value > maximum):
        bound = f" and at most {maximum}" if maximum is not None else ""
        raise ApiFailure(400, f"Invalid request: {name} must be at least 0{bound}")
    return value


# --- the app -------------------------------------------------------------------------------------


def build_app(store: Store, faults: FaultState, clock: Callable[[], datetime]) -> Starlette:
    """The emulator's Starlette app over `store`, with `faults` exposed on ``/_emulator/``."""

    def today() -> str:
        return clock().date().isoformat()

    async def principal_of(request: Request) -> Principal | None:
        token = auth.bearer_token(request.headers)
        if token is None:
            raise auth.Denied(*auth.MISSING)
        return await run_in_threadpool(store.resolve, token)

    async def authorised_page_id(request: Request) -> int:
        principal = await principal_of(request)
        if principal is None:
            raise auth.Denied(*auth.UNKNOWN)
        raw = request.path_params["page_id"]
        page_id = int(raw) if raw.isdigit() and len(raw) < 19 else -1
        accounts = await run_in_threadpool(store.page_account_ids, page_id) if page_id > 0 else None
        auth.check_page_access(principal, page_id, accounts)
        return page_id

    async def list_pages(request: Request) -> JSONResponse:
        token = auth.bearer_token(request.headers)
        if token is None:
            raise auth.Denied(*auth.MISSING)
        principal = await run_in_threadpool(store.resolve, token)
        auth.check_list_access(principal)
        offset = _int_param(request, "offset", 0)
        limit = _int_param(request, "limit", choices.DEFAULT_LIST_LIMIT, choices.MAX_LIST_LIMIT)
        if principal is None:
            if not choices.LIST_UNKNOWN_ACCOUNT_IS_EMPTY:
                raise auth.Denied(*auth.UNKNOWN)
            return JSONResponse([])
        records = await run_in_threadpool(store.list_pages, principal.account_id or "", offset, limit)
        return JSONResponse([page_json(r) for r in records])

    async def create_page(request: Request) -> JSONResponse:
        body = await _json_object(request)
        try:
            create = model.PageCreate.model_validate(body)
        except ValidationError as exc:
            raise ApiFailure(400, validation_message(exc)) from None
        tokens = _tokens(create.access_tokens)
        try:
            record = await run_in_threadpool(lambda: store.create_page(
                tokens=tokens, name=create.name, slug=create.slug or choices.new_slug(),
                config=_stored_config(create.config), edit_token=choices.new_edit_token(), today=today()))
        except SlugTaken:
            raise ApiFailure(400, choices.SLUG_TAKEN_MESSAGE) from None
        return JSONResponse(page_json(record), 201)

    async def get_page(request: Request) -> JSONResponse:
        page_id = await authorised_page_id(request)
        record = await run_in_threadpool(store.get_page, page_id)
        if record is None:
            raise auth.Denied(*auth.NO_PAGE)
        return JSONResponse(page_json(record))

    async def update_page(request: Request) -> JSONResponse:
        page_id = await authorised_page_id(request)
        body = await _json_object(request)
        try:
            update = model.PageUpdate.model_validate(body)
        except ValidationError as exc:
            raise ApiFailure(400, validation_message(exc)) from None
        changes: dict[str, Any] = {}
        sent = update.model_fields_set
        if "name" in sent:
            changes["name"] = update.name
        if "slug" in sent:
            changes["slug"] = update.slug
        if "config" in sent:
            changes["config"] = _stored_config(update.config)
        if "access_tokens" in sent and update.access_tokens is not None:
            changes["tokens"] = _tokens(update.access_tokens)
        try:
            record = await run_in_threadpool(lambda: store.update_page(page_id, today=today(), **changes))
        except SlugTaken:
            raise ApiFailure(400, choices.SLUG_TAKEN_MESSAGE) from None
        if record is None:
            raise auth.Denied(*auth.NO_PAGE)
        return JSONResponse(page_json(record))

    async def delete_page(request: Request) -> JSONResponse:
        page_id = await authorised_page_id(request)
        if not await run_in_threadpool(store.delete_page, page_id):
            raise auth.Denied(*auth.NO_PAGE)
        return JSONResponse({"success": True})

    async def get_faults(request: Request) -> JSONResponse:
        return JSONResponse(faults.config.to_json())

    async def put_faults(request: Request) -> JSONResponse:
        raw = await request.body()
        try:
            faults.replace(FaultConfig.from_json(json.loads(raw or b"{}")))
        except ValueError as exc:  # json.JSONDecodeError is a ValueError
            raise ApiFailure(400, f"Invalid fault configuration: {exc}") from None
        return JSONResponse(faults.config.to_json())

    async def get_stats(request: Request) -> JSONResponse:
        return JSONResponse(faults.stats())

    async def reset_stats(request: Request) -> JSONResponse:
        faults.reset_stats()
        return JSONResponse(faults.stats())

    async def on_failure(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiFailure | auth.Denied)
        return error_response(exc.status, exc.message)

    async def on_http_exception(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, HTTPException)
        message = "Unknown endpoint" if exc.status_code == 404 else str(exc.detail)
        return error_response(exc.status_code, message, exc.headers)

    async def on_crash(request: Request, exc: Exception) -> JSONResponse:
        log.error("emulator error on %s %s: %s", request.method, request.url.path, type(exc).__name__)
        return error_response(500, "Internal server error")

    routes = [
        Route("/manage/pages", list_pages, methods=["GET"]),
        Route("/manage/pages", create_page, methods=["POST"]),
        Route("/manage/pages/{page_id}", get_page, methods=["GET"]),
        Route("/manage/pages/{page_id}", update_page, methods=["PUT"]),
        Route("/manage/pages/{page_id}", delete_page, methods=["DELETE"]),
        Route("/_emulator/faults", get_faults, methods=["GET"]),
        Route("/_emulator/faults", put_faults, methods=["PUT"]),
        Route("/_emulator/stats", get_stats, methods=["GET"]),
        Route("/_emulator/stats", reset_stats, methods=["DELETE"]),
    ]
    return Starlette(routes=routes, exception_handlers={
        ApiFailure: on_failure, auth.Denied: on_failure, HTTPException: on_http_exception,
        Exception: on_crash,
    })
