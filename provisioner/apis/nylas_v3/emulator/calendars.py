"""``GET /v3/grants/{grant_id}/calendars``: the one Calendar API call Nylas's configuration editor
makes (to offer booking and availability calendars), outside the Scheduler slice of the spec
(`choices.CALENDARS_ENDPOINT`). API key as for configurations; each grant has one calendar, its
primary one (`choices.primary_calendar_id_for`), whose events are the emulator's busy time.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from provisioner.apis.nylas_v3 import choices
from provisioner.apis.nylas_v3.emulator import auth
from provisioner.apis.nylas_v3.emulator.configurations import limit_param
from provisioner.apis.nylas_v3.emulator.context import V3Context
from provisioner.apis.nylas_v3.emulator.wire import list_envelope


def primary_calendar_json(grant_id: str) -> dict[str, Any]:
    """A grant's primary calendar as Nylas's Calendar API returns a calendar."""
    return {"object": "calendar", "id": choices.primary_calendar_id_for(grant_id), "grant_id": grant_id,
            "name": choices.grant_email_for(grant_id), "description": None, "timezone": choices.DEFAULT_TIMEZONE,
            "is_primary": True, "is_owned_by_user": True, "read_only": False, "hex_color": "#039be5"}


def routes(ctx: V3Context) -> list[Route]:
    async def calendars(request: Request) -> JSONResponse:
        ctx.require_key(request)
        grant_id = auth.check_grant(request.path_params["grant_id"])
        limit_param(request)  # checked as on every list: 1 to LIST_LIMIT_MAX
        return list_envelope([primary_calendar_json(grant_id)], None)

    return [Route(choices.CALENDARS_ENDPOINT, calendars, methods=["GET"])]
