"""The Starlette app: endpoints 1-7 of the Scheduler API (8-12 in `booking`, the provider availability
in `freebusy`, ``/webhook`` in `webhooks`), the ``/_emulator/`` control routes (faults here, the rest
in `controls`) and the emulator's hosted booking page and Schedule Editor (`web`).

Request bodies are read and checked by `wire.read_object` (bounded in size, depth and numbers) and
validated in a worker thread (`wire.validate`) with `model.PageCreate` / `model.PageUpdate` after dropping the
read-only top-level fields (`model.READ_ONLY_FIELDS`, which the SDKs' save() sends back). Stored
configs are what `spec.fill_server_defaults` makes of the sent config; every page answered is a
valid `model.Page`. Every error answer is ``{"message", "type"}`` and never contains a token.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from provisioner.apis.nylas_v2 import model, spec
from provisioner.apis.nylas_v2.emulator import auth, booking, calstore, choices, controls, freebusy, web, webhooks
from provisioner.apis.nylas_v2.emulator.store import PageRecord, Principal, SlugTaken, Store
from provisioner.apis.nylas_v2.emulator.webhooks import Sender
from provisioner.apis.nylas_v2.emulator.wire import (
    MAX_INT,
    ApiFailure,
    error_response,
    page_json,
    read_object,
    validate,
)
from provisioner.emulator.clock import SettableClock
from provisioner.emulator.faults import FaultConfig, FaultState

__all__ = ["build_app"]

log = logging.getLogger("provisioner.emulator")


async def _json_object(request: Request) -> dict[str, Any]:
    body = await read_object(request)
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


def _int_param(request: Request, name: str, default: int, maximum: int | None = None) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiFailure(400, f"Invalid request: {name} must be an integer") from None
    if value < 0 or value > (maximum if maximum is not None else MAX_INT):
        bound = f" and at most {maximum}" if maximum is not None else " and fit in 64 bits"
        raise ApiFailure(400, f"Invalid request: {name} must be at least 0{bound}")
    return value


# --- the app -------------------------------------------------------------------------------------


def calendars_json(store: Store, page_id: int) -> list[dict[str, Any]]:
    """Endpoint 6: one ``{id, name, email, calendars: [{id, name, read_only}]}`` per account of the page."""
    record = store.get_page(page_id)
    if record is None:
        raise auth.Denied(*auth.NO_PAGE)
    with store.snapshot() as conn:
        return [{"id": a.id, "name": a.name, "email": a.email,
                 "calendars": [{"id": c.id, "name": c.name, "read_only": c.read_only}
                               for c in calstore.calendars_of(conn, a.id)]} for a in record.accounts]


def upload_image_json(page_id: int, body: dict[str, Any]) -> dict[str, Any]:
    """Endpoint 7: ``{contentType, objectName}`` -> where to upload it (nothing is stored)."""
    problems = [f"{k}: unknown field" for k in sorted(set(body) - {"contentType", "objectName"})]
    content_type, name = body.get("contentType"), body.get("objectName")
    if not isinstance(content_type, str) or not content_type.startswith(choices.IMAGE_CONTENT_TYPE_PREFIX):
        problems.append(f"contentType: must be a string starting with {choices.IMAGE_CONTENT_TYPE_PREFIX!r}")
    if not isinstance(name, str) or not name.strip() or "/" in name:
        problems.append("objectName: must be a non-empty file name without '/'")
    if problems:
        raise ApiFailure(400, "Invalid request: " + "; ".join(problems))
    return choices.image_upload(page_id, str(name))


def build_app(store: Store, faults: FaultState, clock: Callable[[], datetime],
              webhook_sender: Sender | None = None) -> Starlette:
    """The emulator's Starlette app over `store`: the API, `faults` and the test controls on
    ``/_emulator/``. `clock` is "now" (a `SettableClock`, or wrapped in one for the controls)."""

    clock = clock if isinstance(clock, SettableClock) else SettableClock(clock)
    reminders = webhooks.Reminders(store, clock, webhook_sender or webhooks.loopback_sender)

    def today() -> str:
        return clock().date().isoformat()

    async def principal_of(request: Request) -> Principal | None:
        token = auth.request_token(request.headers)
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
        principal = await principal_of(request)
        view = request.query_params.get("view") or None
        if view is not None and view not in choices.LIST_VIEWS:
            raise ApiFailure(400, f"Invalid request: view must be one of {', '.join(sorted(choices.LIST_VIEWS))}")
        offset = _int_param(request, "offset", 0)
        limit = _int_param(request, "limit", choices.DEFAULT_LIST_LIMIT, choices.MAX_LIST_LIMIT)
        if view == "count":
            offset, limit = 0, -1  # SQLite: no limit
            if principal is not None and principal.page_id is None:  # an account: counted from its index
                return JSONResponse({"count": await run_in_threadpool(store.count_pages, principal.account_id or "")})
        if principal is None:
            if not choices.LIST_UNKNOWN_ACCOUNT_IS_EMPTY:
                raise auth.Denied(*auth.UNKNOWN)
            records: list[PageRecord] = []
        elif principal.page_id is not None:  # an edit token lists its own page
            record = await run_in_threadpool(store.get_page, principal.page_id)
            if record is None:
                raise auth.Denied(*auth.PAGE_DELETED)
            records = [record][offset:None if limit < 0 else offset + limit]
        else:
            records = await run_in_threadpool(store.list_pages, principal.account_id or "", offset, limit)
        if view == "count":
            return JSONResponse({"count": len(records)})
        if view == "ids":
            return JSONResponse([r.id for r in records])
        return JSONResponse(await run_in_threadpool(lambda: [page_json(r) for r in records]))  # validated off the loop

    async def create_page(request: Request) -> JSONResponse:
        create = await validate(model.PageCreate, await _json_object(request))
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
        update = await validate(model.PageUpdate, await _json_object(request))
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

    async def page_calendars(request: Request) -> JSONResponse:
        page_id = await authorised_page_id(request)
        return JSONResponse(await run_in_threadpool(calendars_json, store, page_id))

    async def upload_image(request: Request) -> JSONResponse:
        page_id = await authorised_page_id(request)
        return JSONResponse(upload_image_json(page_id, await read_object(request)))

    async def get_faults(request: Request) -> JSONResponse:
        return JSONResponse(faults.config.to_json())

    async def put_faults(request: Request) -> JSONResponse:
        body = await read_object(request, empty_ok=True)
        try:
            faults.replace(FaultConfig.from_json(body))
        except ValueError as exc:
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
        Route("/manage/pages/{page_id}/calendars", page_calendars, methods=["GET"]),
        Route("/manage/pages/{page_id}/upload-image", upload_image, methods=["PUT"]),
        *freebusy.routes(store, clock),
        *booking.routes(booking.BookingService(store, clock)),
        *web.routes(),
        *webhooks.routes(store),
        *controls.routes(store, clock, reminders),
        Route("/_emulator/faults", get_faults, methods=["GET"]),
        Route("/_emulator/faults", put_faults, methods=["PUT"]),
        Route("/_emulator/stats", get_stats, methods=["GET"]),
        Route("/_emulator/stats", reset_stats, methods=["DELETE"]),
    ]
    return Starlette(routes=routes, exception_handlers={
        ApiFailure: on_failure, auth.Denied: on_failure, HTTPException: on_http_exception,
        Exception: on_crash,
    })
