"""Configurations, sessions and the v2 redirect: the API-key side of the v3 Scheduler.

- ``GET/POST /v3/grants/{grant_id}/scheduling/configurations``: list (``limit`` 1-200, default 50;
  ``page_token`` = a previous ``next_cursor``; ``next_cursor`` null on the last page), create (200).
- ``GET/PUT/DELETE …/configurations/{configuration_id}``: PUT follows "Updating objects"
  (`choices.PUT_IS_PARTIAL`): top-level fields left out stay, each one sent replaces the stored one
  whole, ``null`` resets it to the server default where the spec allows ``null`` (`choices.NULLABLE_TOP_LEVEL`;
  elsewhere 400, as in a POST); the result must be a valid configuration. DELETE
  is refused (400) while sessions on the configuration are active.
- ``POST /v3/scheduling/sessions`` ``{configuration_id | slug, time_to_live}`` (minutes, default 5,
  at most 30), ``DELETE /v3/scheduling/sessions/{session_id}``.
- ``GET /v3/scheduling/should-redirect/{v2_scheduler_slug}``.
- The group-event operations answer 400 `choices.GROUP_NOT_SUPPORTED` (after the API key check).

Request bodies drop the read-only ``id``; everything else unknown is refused. Stored objects are
`spec.fill_server_defaults` of the validated body.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from provisioner.apis.nylas_v3 import choices, model, spec
from provisioner.apis.nylas_v3.emulator import auth
from provisioner.apis.nylas_v3.emulator import store as st
from provisioner.apis.nylas_v3.emulator.availability import grant_resolver
from provisioner.apis.nylas_v3.emulator.context import V3Context, configuration_json
from provisioner.apis.nylas_v3.emulator.editor_fields import without_editor_extras
from provisioner.apis.nylas_v3.emulator.wire import (
    V3Failure,
    done,
    envelope,
    list_envelope,
    read_json,
)
from provisioner.apis.validation_text import validation_message

SLUG_TAKEN = "Invalid request: slug: already used by another configuration of this application"
HAS_SESSIONS = "The configuration has active sessions: delete them or let them expire first"
NO_SESSION = "No active session with this id"
_CURSOR_PREFIX = "v3c:"


def cursor_for(seq: int) -> str:
    return base64.urlsafe_b64encode(f"{_CURSOR_PREFIX}{seq}".encode()).decode().rstrip("=")


def seq_of(token: str) -> int:
    """The position a ``page_token`` names (400 for anything not made by `cursor_for`)."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raw = ""
    number = raw.removeprefix(_CURSOR_PREFIX)
    if len(token) > 64 or not raw.startswith(_CURSOR_PREFIX) or not number.isdigit():
        raise V3Failure(400, "Invalid request: page_token: not a cursor from this API")
    return int(number)


def limit_param(request: Request) -> int:
    raw = request.query_params.get("limit")
    if raw is None or raw == "":
        return choices.LIST_LIMIT_DEFAULT
    if not (raw.isascii() and raw.isdigit() and 1 <= int(raw) <= choices.LIST_LIMIT_MAX):
        raise V3Failure(400, f"Invalid request: limit: must be an integer from 1 to {choices.LIST_LIMIT_MAX}")
    return int(raw)


def refuse_nulls(body: dict[str, Any]) -> None:
    """400 for a top-level ``null`` the spec does not allow (`choices.NULLABLE_TOP_LEVEL`)."""
    refused = sorted(k for k, v in body.items() if v is None and k not in choices.NULLABLE_TOP_LEVEL
                     and k not in spec.READ_ONLY_FIELDS)
    if refused:
        raise V3Failure(400, "Invalid request: " + "; ".join(f"{k}: may not be null" for k in refused))


def checked(body: dict[str, Any], grant_id: str) -> dict[str, Any]:
    """A configuration body validated and stored as the server would (400 with every problem)."""
    body = {k: v for k, v in without_editor_extras(body).items() if k not in spec.READ_ONLY_FIELDS}
    try:
        config = model.validate_configuration(body)
    except model.GroupNotSupported as exc:
        raise V3Failure(400, f"Invalid request: {exc}") from None
    except ValidationError as exc:
        raise V3Failure(400, validation_message(exc)) from None
    probe = st.ConfigurationRecord(0, "", grant_id, {})
    grant_of = grant_resolver(probe, config)
    grants = [grant_of(p) for p in config.participants]
    if len(set(grants)) != len(grants):
        raise V3Failure(400, "Invalid request: participants: each participant needs a grant of its own")
    return spec.fill_server_defaults(model.dump(config))


def routes(ctx: V3Context) -> list[Route]:
    store = ctx.store

    async def list_configurations(request: Request) -> JSONResponse:
        ctx.require_key(request)
        grant_id = auth.check_grant(request.path_params["grant_id"])
        limit = limit_param(request)
        token = request.query_params.get("page_token")
        after = seq_of(token) if token else 0

        def work() -> list[st.ConfigurationRecord]:
            with store.snapshot() as conn:
                return st.list_configurations(conn, grant_id, after, limit + 1)

        records = await run_in_threadpool(work)
        page = records[:limit]
        cursor = cursor_for(page[-1].seq) if len(records) > limit else None
        return list_envelope([configuration_json(r) for r in page], cursor)

    async def create_configuration(request: Request) -> JSONResponse:
        ctx.require_key(request)
        grant_id = auth.check_grant(request.path_params["grant_id"])
        body = await read_json(request)
        if not model.is_group(body):  # a group body is refused as such, by `checked`
            refuse_nulls(body)
        config = checked(body, grant_id)

        def work() -> st.ConfigurationRecord:
            with store.transaction() as conn:
                return st.insert_configuration(conn, grant_id, config)

        try:
            record = await run_in_threadpool(work)
        except st.SlugTaken:
            raise V3Failure(400, SLUG_TAKEN) from None
        return envelope(configuration_json(record))

    async def get_configuration(request: Request) -> JSONResponse:
        return envelope(configuration_json(await ctx.configuration_of_grant(request)))

    async def update_configuration(request: Request) -> JSONResponse:
        record = await ctx.configuration_of_grant(request)
        body = await read_json(request)
        if model.is_group(body):
            raise V3Failure(400, f"Invalid request: {choices.GROUP_NOT_SUPPORTED}")
        refuse_nulls(body)
        merged = {**record.config, **{k: v for k, v in body.items() if k not in spec.READ_ONLY_FIELDS}}
        config = checked({k: v for k, v in merged.items() if v is not None}, record.grant_id)

        def work() -> st.ConfigurationRecord | None:
            with store.transaction() as conn:
                current = st.get_configuration(conn, record.id)  # deleted meanwhile: 404
                return st.replace_configuration(conn, current, config) if current else None

        try:
            updated = await run_in_threadpool(work)
        except st.SlugTaken:
            raise V3Failure(400, SLUG_TAKEN) from None
        if updated is None:
            raise V3Failure(404, "Configuration not found")
        return envelope(configuration_json(updated))

    async def delete_configuration(request: Request) -> JSONResponse:
        record = await ctx.configuration_of_grant(request)
        now = ctx.now()

        def work() -> int:
            with store.transaction() as conn:
                active = st.active_sessions(conn, record.id, now)
                if not active:
                    st.delete_configuration(conn, record.id)
                return active

        if await run_in_threadpool(work):
            raise V3Failure(400, HAS_SESSIONS)
        return done()

    async def create_session(request: Request) -> JSONResponse:
        ctx.require_key(request)
        body = await read_json(request)
        unknown = sorted(set(body) - {"configuration_id", "slug", "time_to_live"})
        if unknown:
            raise V3Failure(400, "Invalid request: " + "; ".join(f"{k}: unknown field" for k in unknown))
        config_id, slug = body.get("configuration_id"), body.get("slug")
        ttl = body.get("time_to_live", choices.SESSION_TTL_DEFAULT)
        if not any(isinstance(v, str) and v for v in (config_id, slug)) or \
                any(v is not None and not isinstance(v, str) for v in (config_id, slug)):
            raise V3Failure(400, "Invalid request: give configuration_id or slug (strings)")
        if isinstance(ttl, bool) or not isinstance(ttl, int | float) or not 0 < ttl <= choices.SESSION_TTL_MAX:
            raise V3Failure(400, f"Invalid request: time_to_live: minutes, more than 0 and at most "
                                 f"{choices.SESSION_TTL_MAX}")
        expires = ctx.now() + float(ttl) * 60

        def work() -> st.SessionRecord | None:
            with store.transaction() as conn:
                by_id = st.get_configuration(conn, config_id) if config_id else None
                by_slug = st.configuration_by_slug(conn, slug) if slug else None
                record = by_id or by_slug
                if record is None or (config_id and slug and (by_id is None or by_slug is None
                                                              or by_id.id != by_slug.id)):
                    return None
                return st.insert_session(conn, record.id, expires)

        session = await run_in_threadpool(work)
        if session is None:
            raise V3Failure(choices.NOT_FOUND_WITHOUT_404, "Invalid request: no such configuration")
        return envelope({"session_id": session.id})

    async def delete_session(request: Request) -> JSONResponse:
        ctx.require_key(request)
        session_id = request.path_params["session_id"]

        def work() -> bool:
            with store.transaction() as conn:
                session = st.get_session(conn, session_id)
                if session is None or session.deleted:
                    return False
                st.end_session(conn, session_id)
                return True

        if not await run_in_threadpool(work):
            raise V3Failure(choices.NOT_FOUND_WITHOUT_404, NO_SESSION)
        return done()

    async def should_redirect(request: Request) -> JSONResponse:
        ctx.require_key(request)
        slug = request.path_params["v2_scheduler_slug"]

        def work() -> st.ConfigurationRecord | None:
            with store.snapshot() as conn:
                return st.configuration_by_slug(conn, slug)

        record = await run_in_threadpool(work)
        return envelope({"url": choices.hosted_page_url(slug)} if record else {})

    async def group_events(request: Request) -> JSONResponse:
        ctx.require_key(request)
        raise V3Failure(400, f"Invalid request: {choices.GROUP_NOT_SUPPORTED}")

    base = "/v3/grants/{grant_id}/scheduling/configurations"
    group = "/v3/scheduling/configurations/{configuration_id}"
    return [
        Route(base + "/{configuration_id}/group-events", group_events, methods=["GET", "POST"]),
        Route(base + "/{configuration_id}/group-events/{event_id}", group_events, methods=["PUT", "DELETE"]),
        Route(group + "/import-group-events", group_events, methods=["POST"]),
        Route(group + "/group-events/validate-timeslot", group_events, methods=["POST"]),
        Route(base, list_configurations, methods=["GET"]),
        Route(base, create_configuration, methods=["POST"]),
        Route(base + "/{configuration_id}", get_configuration, methods=["GET"]),
        Route(base + "/{configuration_id}", update_configuration, methods=["PUT"]),
        Route(base + "/{configuration_id}", delete_configuration, methods=["DELETE"]),
        Route("/v3/scheduling/sessions", create_session, methods=["POST"]),
        Route("/v3/scheduling/sessions/{session_id}", delete_session, methods=["DELETE"]),
        Route("/v3/scheduling/should-redirect/{v2_scheduler_slug}", should_redirect, methods=["GET"]),
    ]
