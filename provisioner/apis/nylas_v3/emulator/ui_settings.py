"""``GET /v3/scheduling/ui-settings``: the endpoint Nylas's booking component asks first, which the
spec does not list (`choices.UI_SETTINGS_ENDPOINT` for its shape and where it was read).

Authorised as availability is (`V3Context.booking_access`): a session's configuration, or a public one
named by ``configuration_id`` or ``slug``. With ``booking_id`` (the component is rescheduling), the
answer adds that booking's details, and a booking of another configuration is 404.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from provisioner.apis.nylas_v3 import choices
from provisioner.apis.nylas_v3.emulator import store as st
from provisioner.apis.nylas_v3.emulator.context import V3Context
from provisioner.apis.nylas_v3.emulator.wire import V3Failure, envelope
from provisioner.apis.nylas_v3.model import Configuration

NO_BOOKING = "Booking not found"


def ui_settings_json(record: st.ConfigurationRecord) -> dict[str, Any]:
    """The component's ``UISettingsResponse`` of one stored configuration."""
    config = record.config
    organizer = Configuration.model_validate(config).organizer()
    return {
        "configuration_id": record.id,
        "app_client_id": choices.APPLICATION_ID,
        "name": config.get("name") or "",
        "slug": config.get("slug") or "",
        "booking_type": config["event_booking"].get("booking_type", "booking"),
        "organizer": {"name": organizer.name or organizer.email, "email": organizer.email},
        "appearance": config.get("appearance") or {},
        "scheduler": config.get("scheduler") or {},
    }


def booking_settings_json(booking: st.BookingRecord) -> dict[str, Any]:
    """A booking as the component pre-fills its form from (``ConfigSettings.booking``)."""
    info = booking.info
    timezone = info.get("timezone") or choices.DEFAULT_TIMEZONE
    return {
        "guest": info.get("guest", {}),
        "additional_guests": info.get("additional_guests", []),
        "additional_fields": info.get("additional_fields", {}),
        "timezone": timezone,
        "event_organizer": {**info.get("organizer", {}), "is_organizer": True},
        "event_data": {"location": info.get("location") or "",
                       "when": {"object": "timespan", "start_time": booking.start_time, "end_time": booking.end_time,
                                "start_timezone": timezone, "end_timezone": timezone}},
    }


def routes(ctx: V3Context) -> list[Route]:
    async def ui_settings(request: Request) -> JSONResponse:
        record = await ctx.booking_access(request)
        assert record is not None
        data = ui_settings_json(record)
        booking_id = request.query_params.get("booking_id") or None
        if booking_id is not None:

            def load() -> st.BookingRecord | None:
                with ctx.store.snapshot() as conn:
                    return st.get_booking(conn, booking_id)

            booking = await run_in_threadpool(load)
            if booking is None or booking.configuration_id != record.id:
                raise V3Failure(404, NO_BOOKING)
            data["booking"] = booking_settings_json(booking)
        return envelope(data)

    return [Route(choices.UI_SETTINGS_ENDPOINT, ui_settings, methods=["GET"])]
