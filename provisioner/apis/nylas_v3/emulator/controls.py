"""Test controls of the v3 emulator's world, under ``/_emulator/v3/`` (never faulted or rate limited).

- ``GET /_emulator/v3/grants/{grant_id}``: ``{"grant_id", "email", "primary_calendar_id"}``.
- ``GET/POST /_emulator/v3/grants/{grant_id}/events``: list; add a busy block ``{"start", "end",
  "calendar_id"?, "title"?}`` (ISO 8601 or unix seconds; default calendar: the primary one) (201).
- ``PUT /_emulator/v3/events/{event_id}`` ``{"start", "end"}``: move an event; ``DELETE``: delete it.
  An event of a booking takes its booking along, as a calendar provider's change would: the booking
  moves (``booking.rescheduled``) or is cancelled (``booking.cancelled``). Both answer
  ``{"event", "booking"}`` (``booking`` null for a plain busy block).
- ``GET /_emulator/v3/bookings?configuration_id=``: every booking, with status, times, host and salt.
- ``GET/POST /_emulator/v3/webhooks``: list; register ``{"webhook_url", "trigger_types"?}`` (201;
  default: every ``booking.*`` trigger). ``DELETE /_emulator/v3/webhooks/{id}``.
- ``GET /_emulator/v3/webhooks/deliveries``: every notification sent, with each destination's outcome.
- ``POST /_emulator/v3/reminders/run``: send the ``booking.reminder`` webhooks due at the clock.

The clock is the emulator's one clock: ``/_emulator/clock`` (shared with v2) pins and moves it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from provisioner.apis.nylas_v3 import choices
from provisioner.apis.nylas_v3.emulator import auth
from provisioner.apis.nylas_v3.emulator import store as st
from provisioner.apis.nylas_v3.emulator.availability import calendar
from provisioner.apis.nylas_v3.emulator.context import V3Context
from provisioner.apis.nylas_v3.emulator.webhooks import due_reminders
from provisioner.apis.nylas_v3.emulator.wire import V3Failure, read_json


def parse_time(value: Any, what: str) -> int:
    """Unix seconds of an ISO 8601 string (no offset: UTC) or of an integer; 400 otherwise."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            return int((moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp())
    raise V3Failure(400, f"Invalid request: {what}: must be an ISO 8601 time or unix seconds")


def _only(body: dict[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise V3Failure(400, "Invalid request: " + "; ".join(f"{k}: unknown field" for k in unknown))


def grant_json(grant_id: str) -> dict[str, Any]:
    return {"grant_id": grant_id, "email": choices.grant_email_for(grant_id),
            "primary_calendar_id": choices.primary_calendar_id_for(grant_id)}


def event_json(event: st.EventRecord) -> dict[str, Any]:
    return {"id": event.id, "grant_id": event.grant_id, "calendar_id": event.calendar_id, "title": event.title,
            "start": event.start_time, "end": event.end_time, "booking_id": event.booking_id}


def booking_control_json(booking: st.BookingRecord) -> dict[str, Any]:
    return {"booking_id": booking.id, "configuration_id": booking.configuration_id, "grant_id": booking.grant_id,
            "event_id": booking.event_id, "status": booking.status, "start_time": booking.start_time,
            "end_time": booking.end_time, "salt": booking.salt, "info": booking.info}


def routes(ctx: V3Context) -> list[Route]:
    store = ctx.store

    async def grant(request: Request) -> JSONResponse:
        return JSONResponse(grant_json(auth.check_grant(request.path_params["grant_id"])))

    async def events(request: Request) -> JSONResponse:
        grant_id = auth.check_grant(request.path_params["grant_id"])
        if request.method == "GET":
            def listing() -> list[dict[str, Any]]:
                with store.snapshot() as conn:
                    return [event_json(e) for e in st.events_of(conn, [grant_id])]

            return JSONResponse(await run_in_threadpool(listing))
        body = await read_json(request)
        _only(body, {"start", "end", "calendar_id", "title"})
        start, end = parse_time(body.get("start"), "start"), parse_time(body.get("end"), "end")
        if end <= start:
            raise V3Failure(400, "Invalid request: end: must be after start")
        calendar_id, title = body.get("calendar_id", choices.PRIMARY_ALIAS), body.get("title", "Busy")
        if not isinstance(calendar_id, str) or not calendar_id or not isinstance(title, str):
            raise V3Failure(400, "Invalid request: calendar_id and title: strings")

        def adding() -> st.EventRecord:
            with store.transaction() as conn:
                return st.add_event(conn, grant_id, calendar(calendar_id, grant_id), title, start, end)

        return JSONResponse(event_json(await run_in_threadpool(adding)), 201)

    async def change_event(request: Request) -> JSONResponse:
        event_id = request.path_params["event_id"]
        moving = request.method == "PUT"
        span: tuple[int, int] | None = None
        if moving:
            body = await read_json(request)
            _only(body, {"start", "end"})
            span = parse_time(body.get("start"), "start"), parse_time(body.get("end"), "end")
            if span[1] <= span[0]:
                raise V3Failure(400, "Invalid request: end: must be after start")

        def work() -> tuple[st.EventRecord, st.BookingRecord | None]:
            with store.transaction() as conn:
                event = st.get_event(conn, event_id)
                if event is None:
                    raise V3Failure(404, "No event with this id")
                booking = st.get_booking(conn, event.booking_id) if event.booking_id else None
                if booking is not None and booking.status != "cancelled":
                    if span is not None:
                        booking = st.update_booking(conn, booking, start=span[0], end=span[1])
                    else:
                        booking = st.update_booking(conn, booking, status="cancelled", info={
                            **booking.info, "cancellation_reason": "The calendar event was deleted"})
                elif span is not None:
                    st.move_event(conn, event_id, *span)
                if span is None:
                    st.delete_event(conn, event_id)
                return (st.get_event(conn, event_id) or event), booking

        event, booking = await run_in_threadpool(work)
        if booking is not None:
            await ctx.notifier.send("booking.rescheduled" if moving else "booking.cancelled", booking)
        return JSONResponse({"event": event_json(event),
                             "booking": booking_control_json(booking) if booking else None})

    async def bookings(request: Request) -> JSONResponse:
        config_id = request.query_params.get("configuration_id") or None

        def listing() -> list[dict[str, Any]]:
            with store.snapshot() as conn:
                return [booking_control_json(b) for b in st.bookings_of(conn, config_id)]

        return JSONResponse(await run_in_threadpool(listing))

    async def webhooks(request: Request) -> JSONResponse:
        if request.method == "GET":
            def listing() -> list[dict[str, Any]]:
                with store.snapshot() as conn:
                    return st.webhooks(conn)

            return JSONResponse(await run_in_threadpool(listing))
        body = await read_json(request)
        _only(body, {"webhook_url", "trigger_types"})
        url, triggers = body.get("webhook_url"), body.get("trigger_types", list(choices.WEBHOOK_TRIGGERS))
        if not isinstance(url, str) or not url.startswith(("http://", "https://")) or len(url) > choices.URL_MAX:
            raise V3Failure(400, "Invalid request: webhook_url: an http(s) URL")
        if not isinstance(triggers, list) or not triggers or any(t not in choices.WEBHOOK_TRIGGERS for t in triggers):
            raise V3Failure(400, "Invalid request: trigger_types: a non-empty list of " +
                            ", ".join(choices.WEBHOOK_TRIGGERS))

        def adding() -> dict[str, Any]:
            with store.transaction() as conn:
                return st.add_webhook(conn, url, triggers)

        return JSONResponse(await run_in_threadpool(adding), 201)

    async def delete_webhook(request: Request) -> JSONResponse:
        webhook_id = request.path_params["webhook_id"]

        def deleting() -> bool:
            with store.transaction() as conn:
                return st.delete_webhook(conn, webhook_id)

        if not await run_in_threadpool(deleting):
            raise V3Failure(404, "No webhook with this id")
        return JSONResponse({"deleted": webhook_id})

    async def deliveries(request: Request) -> JSONResponse:
        def listing() -> list[dict[str, Any]]:
            with store.snapshot() as conn:
                return st.deliveries(conn)

        return JSONResponse(await run_in_threadpool(listing))

    async def run_reminders(request: Request) -> JSONResponse:
        now = int(ctx.now())

        def due() -> list[tuple[st.BookingRecord, str]]:
            with store.transaction() as conn:
                return due_reminders(conn, now)

        sent = [await ctx.notifier.send("booking.reminder", booking) for booking, _ in await run_in_threadpool(due)]
        return JSONResponse({"reminders": sent})

    return [
        Route("/_emulator/v3/grants/{grant_id}", grant, methods=["GET"]),
        Route("/_emulator/v3/grants/{grant_id}/events", events, methods=["GET", "POST"]),
        Route("/_emulator/v3/events/{event_id}", change_event, methods=["PUT", "DELETE"]),
        Route("/_emulator/v3/bookings", bookings, methods=["GET"]),
        Route("/_emulator/v3/webhooks", webhooks, methods=["GET", "POST"]),
        Route("/_emulator/v3/webhooks/deliveries", deliveries, methods=["GET"]),
        Route("/_emulator/v3/webhooks/{webhook_id}", delete_webhook, methods=["DELETE"]),
        Route("/_emulator/v3/reminders/run", run_reminders, methods=["POST"]),
    ]
