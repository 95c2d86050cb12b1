"""Test controls of the emulator's world, under ``/_emulator/`` (never the real API, never faulted).

- ``GET /_emulator/clock``: ``{"now": iso, "pinned": bool}``.
- ``PUT /_emulator/clock``: ``{"now": iso}`` pins the clock, ``{"advance_minutes": n}`` moves it; then
  the webhook reminders now due are delivered: ``{"now", "pinned", "reminders": [delivery...]}``.
- ``DELETE /_emulator/clock``: unpin (follow the base clock again).
- ``POST /_emulator/reminders/run``: deliver the reminders due at the current clock.
- ``GET/POST /_emulator/accounts/{account_id}/calendars``: list; add ``{"name", "read_only"?}`` (201).
- ``GET/POST /_emulator/accounts/{account_id}/events``: list; add a busy block
  ``{"start", "end", "calendar_id"?, "title"?}`` (default: the primary calendar) (201).
- ``PUT /_emulator/events/{event_id}`` ``{"start", "end"}``: move it, then send ``event.updated``
  through the ``/webhook`` handler; ``DELETE``: delete it and send ``event.deleted``. Both answer
  ``{"event", "bookings": [bookings changed]}``.
- ``GET /_emulator/bookings?slug=``: every booking (of one page), with status and edit hash.

Times are ISO 8601 (a time without offset is UTC) or unix seconds; answers give unix seconds.
Accounts exist once a page used their token (``emulator.account_id_for(token)`` gives the id).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from provisioner.apis.nylas_v2.emulator import calstore
from provisioner.apis.nylas_v2.emulator.booking import confirmation_json
from provisioner.apis.nylas_v2.emulator.calstore import BookingRecord, EventRecord
from provisioner.apis.nylas_v2.emulator.store import Store
from provisioner.apis.nylas_v2.emulator.webhooks import Reminders, apply_notification, notification
from provisioner.apis.nylas_v2.emulator.wire import MAX_TIME, ApiFailure, read_object, unix
from provisioner.emulator.clock import SettableClock

NO_ACCOUNT = (404, "No account with this id: create a page with its access token first")
NO_EVENT = (404, "No event with this id")

Endpoint = Callable[[Request], Awaitable[JSONResponse]]


def parse_time(value: Any, what: str) -> int:
    """Unix seconds of an ISO 8601 string (no offset: UTC) or of an integer; 400 otherwise."""
    seconds = None
    if isinstance(value, int) and not isinstance(value, bool):
        seconds = value
    elif isinstance(value, str) and len(value) <= 64:
        try:
            moment = datetime.fromisoformat(value)
            seconds = unix(moment if moment.tzinfo else moment.replace(tzinfo=UTC))
        except (ValueError, OverflowError):
            pass
    if seconds is None:
        raise ApiFailure(400, f"Invalid request: {what}: must be an ISO 8601 time or unix seconds")
    if not 0 <= seconds <= MAX_TIME:
        raise ApiFailure(400, f"Invalid request: {what}: must be from 1970 to the year 9000")
    return seconds


def _span(body: dict[str, Any]) -> tuple[int, int]:
    start, end = parse_time(body.get("start"), "start"), parse_time(body.get("end"), "end")
    if end <= start:
        raise ApiFailure(400, "Invalid request: end: must be after start")
    return start, end


def _only(body: dict[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise ApiFailure(400, "Invalid request: " + "; ".join(f"{k}: unknown field" for k in unknown))


def event_json(event: EventRecord) -> dict[str, Any]:
    return {"id": event.id, "calendar_id": event.calendar_id, "account_id": event.account_id,
            "title": event.title, "start": event.start, "end": event.end, "booking_id": event.booking_id}


def booking_json(booking: BookingRecord) -> dict[str, Any]:
    """A booking as the controls show it: the confirmation plus its state."""
    return confirmation_json(booking) | {
        "page_id": booking.page_id, "status": booking.status, "additional_emails": booking.additional_emails,
        "replaced_by": booking.replaced_by, "cancel_reason": booking.cancel_reason}


def _list_calendars(conn: calstore.Conn, account_id: str) -> list[dict[str, Any]]:
    return [vars(c) for c in calstore.calendars_of(conn, account_id)]


def _add_calendar(conn: calstore.Conn, account_id: str, body: dict[str, Any]) -> dict[str, Any]:
    _only(body, {"name", "read_only"})
    name, read_only = body.get("name"), body.get("read_only", False)
    if not isinstance(name, str) or not name or not isinstance(read_only, bool):
        raise ApiFailure(400, "Invalid request: name: a non-empty string; read_only: a bool")
    return vars(calstore.add_calendar(conn, account_id, name, read_only))


def _list_events(conn: calstore.Conn, account_id: str) -> list[dict[str, Any]]:
    return [event_json(e) for e in calstore.events_of_account(conn, account_id)]


def _add_event(conn: calstore.Conn, account_id: str, body: dict[str, Any]) -> dict[str, Any]:
    _only(body, {"start", "end", "calendar_id", "title"})
    start, end = _span(body)
    calendar_id = body.get("calendar_id") or calstore.calendars_of(conn, account_id)[0].id
    calendar = calstore.get_calendar(conn, str(calendar_id))
    if calendar is None or calendar.account_id != account_id:
        raise ApiFailure(400, "Invalid request: calendar_id: not a calendar of this account")
    title = body.get("title", "Busy")
    if not isinstance(title, str):
        raise ApiFailure(400, "Invalid request: title: must be a string")
    return event_json(calstore.add_event(conn, calendar, title, start, end))


def routes(store: Store, clock: SettableClock, reminders: Reminders) -> list[Route]:
    """The control routes over one emulator's store, clock and reminders."""

    def clock_json() -> dict[str, Any]:
        return {"now": clock().isoformat(), "pinned": clock.pinned}

    async def get_clock(request: Request) -> JSONResponse:
        return JSONResponse(clock_json())

    async def put_clock(request: Request) -> JSONResponse:
        body = await read_object(request)
        _only(body, {"now", "advance_minutes"})
        if ("now" in body) == ("advance_minutes" in body):
            raise ApiFailure(400, "Invalid request: send exactly one of now, advance_minutes")
        if "now" in body:
            clock.set(datetime.fromtimestamp(parse_time(body["now"], "now"), UTC))
        else:
            minutes = body["advance_minutes"]
            if not isinstance(minutes, int | float) or isinstance(minutes, bool) or minutes < 0 \
                    or unix(clock()) + minutes * 60 > MAX_TIME:
                raise ApiFailure(400, "Invalid request: advance_minutes: must be a number >= 0 that keeps "
                                      "the clock before the year 9000")
            clock.advance(timedelta(minutes=minutes))
        delivered = await reminders.run()
        return JSONResponse(clock_json() | {"reminders": [d.to_json() for d in delivered]})

    async def delete_clock(request: Request) -> JSONResponse:
        clock.reset()
        return JSONResponse(clock_json())

    async def run_reminders(request: Request) -> JSONResponse:
        return JSONResponse({"reminders": [d.to_json() for d in await reminders.run()]})

    def account_collection(listing: Callable[[calstore.Conn, str], Any],
                           adding: Callable[[calstore.Conn, str, dict[str, Any]], Any]) -> Endpoint:
        """GET lists what `listing` gives of an account; POST adds with `adding` (201). 404 for an
        unknown account; both run in one transaction."""

        async def endpoint(request: Request) -> JSONResponse:
            account_id = request.path_params["account_id"]
            body = await read_object(request) if request.method == "POST" else None

            def work() -> Any:
                with store.transaction() as conn:
                    if not calstore.account_exists(conn, account_id):
                        raise ApiFailure(*NO_ACCOUNT)
                    return listing(conn, account_id) if body is None else adding(conn, account_id, body)

            return JSONResponse(await run_in_threadpool(work), 200 if body is None else 201)

        return endpoint

    async def change_event(request: Request) -> JSONResponse:
        event_id = request.path_params["event_id"]
        moving = request.method == "PUT"
        body = await read_object(request) if moving else {}

        def work() -> dict[str, Any]:
            with store.transaction() as conn:
                event = calstore.get_event(conn, event_id)
                if event is None:
                    raise ApiFailure(*NO_EVENT)
                if moving:
                    _only(body, {"start", "end"})
                    event = calstore.move_event(conn, event_id, *_span(body)) or event
                else:
                    calstore.delete_event(conn, event_id)
                kind = "event.updated" if moving else "event.deleted"
                changed = apply_notification(conn, notification(kind, event, unix(clock())))
                return {"event": event_json(event), "bookings": [booking_json(b) for b in changed]}

        return JSONResponse(await run_in_threadpool(work))

    async def list_bookings(request: Request) -> JSONResponse:
        slug = request.query_params.get("slug")

        def work() -> list[dict[str, Any]]:
            page_id = None
            if slug is not None:
                page = store.page_by_slug(slug)
                if page is None:
                    raise ApiFailure(404, "No page with this slug")
                page_id = page.id
            with store.snapshot() as conn:
                return [booking_json(b) for b in calstore.bookings(conn, page_id)]

        return JSONResponse(await run_in_threadpool(work))

    return [
        Route("/_emulator/clock", get_clock, methods=["GET"]),
        Route("/_emulator/clock", put_clock, methods=["PUT"]),
        Route("/_emulator/clock", delete_clock, methods=["DELETE"]),
        Route("/_emulator/reminders/run", run_reminders, methods=["POST"]),
        Route("/_emulator/accounts/{account_id}/calendars", account_collection(_list_calendars, _add_calendar),
              methods=["GET", "POST"]),
        Route("/_emulator/accounts/{account_id}/events", account_collection(_list_events, _add_event),
              methods=["GET", "POST"]),
        Route("/_emulator/events/{event_id}", change_event, methods=["PUT", "DELETE"]),
        Route("/_emulator/bookings", list_bookings, methods=["GET"]),
    ]
