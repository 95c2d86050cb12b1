"""The public booking endpoints (8-12): page info, time slots, book, cancel, confirm.

Contract:
- No auth: a page is found by its slug (404 otherwise); cancel and confirm are authorised by the
  booking's ``edit_hash`` (404 when it names no booking of that page). Edit hashes never appear in
  messages or logs.
- Time slots are `provisioner.slots.compute_slots` over the emulator's calendars (see
  `availability`) at the emulator's clock. Booking re-computes them in the same write transaction as
  the insert: only a slot on offer at that moment is booked, and two bookers cannot both take a last
  seat. A booking is an event on the host's booking calendar; it leaves the slots (or fills a seat).
- Rescheduling (``replaces_booking_hash``): the old booking must be active and cancellable (its
  ``min_cancellation_notice``); its slot is on offer to its own reschedule; on success it is cancelled
  with ``replaced_by`` set and its event deleted, atomically with the new booking.
- [choice] Each booking of a group slot (capacity > 1) is its own calendar event.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from pydantic import Field, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from provisioner import slots
from provisioner.apis.nylas_v2 import model
from provisioner.apis.nylas_v2.emulator import availability, calstore
from provisioner.apis.nylas_v2.emulator.calstore import BookingRecord
from provisioner.apis.nylas_v2.emulator.store import PageRecord, Store
from provisioner.apis.nylas_v2.emulator.wire import (
    ApiFailure,
    instant,
    public_page_json,
    read_object,
    unix,
)
from provisioner.apis.validation_text import validation_message

NO_PAGE = (404, "No page with this slug")
NO_BOOKING = (404, "No booking with this edit hash on this page")
SLOT_TAKEN = "This time slot is not available: it was booked, or is outside the page's availability"
PENDING_METHODS = frozenset({"manual", "external"})
"""[choice] Bookings of these confirmation methods wait for endpoint 12 (``external`` like ``manual``)."""
DEFAULT_TITLE = "Meeting with $[invitee]"  # [choice] title when event.title and template_title are unset


class CancelRequest(model.Strict):
    reason: str | None = Field(None, description="[choice] optional; the SDK always sends it.")


class ConfirmRequest(model.Strict):
    """``{}``: [choice] no field is accepted."""


def confirmation_json(booking: BookingRecord) -> dict[str, Any]:
    """The booking confirmation of endpoints 10 and 12 [sdk SchedulerBookingConfirmation]."""
    return {
        "id": booking.id, "account_id": booking.account_id, "calendar_id": booking.calendar_id,
        "calendar_event_id": booking.calendar_event_id, "edit_hash": booking.edit_hash,
        "is_confirmed": booking.status == "confirmed", "location": booking.location, "title": booking.title,
        "recipient_email": booking.recipient_email, "recipient_name": booking.recipient_name,
        "recipient_locale": booking.recipient_locale, "recipient_tz": booking.recipient_tz,
        "additional_field_values": booking.additional_field_values,
        "start_time": booking.start, "end_time": booking.end,
    }


def title_for(config: model.Config, invitee: str, minutes: int) -> str:
    """[choice] ``event.template_title`` with ``$[duration]`` and ``$[invitee]`` filled, else
    ``event.title``, else `DEFAULT_TITLE` filled."""
    event = config.event
    template = (event.template_title if event else None) or (event.title if event else None) or DEFAULT_TITLE
    return template.replace("$[duration]", str(minutes)).replace("$[invitee]", invitee)


class BookingService:
    """Endpoints 8-12 as synchronous methods (call them from a worker thread)."""

    def __init__(self, store: Store, clock: Callable[[], datetime]) -> None:
        self.store = store
        self.clock = clock

    def page(self, slug: str) -> tuple[PageRecord, model.Config]:
        record = self.store.page_by_slug(slug)
        if record is None:
            raise ApiFailure(*NO_PAGE)
        return record, model.Config.model_validate(record.config)

    def info(self, slug: str) -> dict[str, Any]:
        record, _ = self.page(slug)
        return public_page_json(record)

    def timeslots(self, slug: str) -> list[dict[str, Any]]:
        record, config = self.page(slug)
        now = self.clock()
        with self.store.snapshot() as conn:
            inputs = availability.page_inputs(conn, record, config)
        return [availability.slot_json(s) for s in slots.compute_slots(config, inputs.hosts, inputs.bookings, now)]

    def book(self, slug: str, body: dict[str, Any]) -> dict[str, Any]:
        record, config = self.page(slug)
        request = availability.parse_request(body, config)
        now = self.clock()
        wanted = request.slot
        method = (config.booking.confirmation_method if config.booking else None) or "automatic"
        with self.store.transaction() as conn:
            replaced = None
            if request.replaces_booking_hash is not None:
                replaced = calstore.booking_by_hash(conn, record.id, request.replaces_booking_hash)
                if replaced is None or not replaced.is_active:
                    raise ApiFailure(400, "Invalid request: replaces_booking_hash: names no active booking "
                                          "of this page")
                _check_cancellable(config, replaced, now)
            inputs = availability.page_inputs(conn, record, config, replaced.id if replaced else None)
            offered = slots.compute_slots(config, inputs.hosts, inputs.bookings, now,
                                          window_start=instant(wanted.start), window_end=instant(wanted.start + 1))
            key = (wanted.start, wanted.end, wanted.account_id, wanted.calendar_id)
            if not any((unix(s.start), unix(s.end), s.account_id, s.calendar_id) == key for s in offered):
                raise ApiFailure(400, SLOT_TAKEN)
            calendar = calstore.get_calendar(conn, wanted.calendar_id)
            if calendar is None or calendar.account_id != wanted.account_id or calendar.read_only:
                raise ApiFailure(400, f"The booking calendar {wanted.calendar_id} is not a writable calendar "
                                      f"of account {wanted.account_id}")
            booking = calstore.insert_booking(
                conn, page_id=record.id, calendar=calendar,
                status="pending" if method in PENDING_METHODS else "confirmed",
                start=wanted.start, end=wanted.end,
                title=title_for(config, request.name, (wanted.end - wanted.start) // 60),
                location=(config.event.location if config.event else None) or "",
                recipient_email=request.email, recipient_name=request.name, recipient_locale=request.locale,
                recipient_tz=request.timezone,
                additional_field_values=dict(request.additional_values),
                additional_emails=list(request.additional_emails))
            if replaced is not None:
                calstore.cancel_booking(conn, replaced.id, "rescheduled", replaced_by=booking.id)
        return confirmation_json(booking)

    def cancel(self, slug: str, edit_hash: str, body: dict[str, Any]) -> dict[str, Any]:
        record, config = self.page(slug)
        request = _parse(CancelRequest, body)
        now = self.clock()
        with self.store.transaction() as conn:
            booking = calstore.booking_by_hash(conn, record.id, edit_hash)
            if booking is None:
                raise ApiFailure(*NO_BOOKING)
            if booking.is_active:  # [choice] cancelling a cancelled booking succeeds again (retries)
                _check_cancellable(config, booking, now)
                calstore.cancel_booking(conn, booking.id, request.reason)
        return {"success": True}

    def confirm(self, slug: str, edit_hash: str, body: dict[str, Any]) -> dict[str, Any]:
        record, _ = self.page(slug)
        _parse(ConfirmRequest, body)
        with self.store.transaction() as conn:
            booking = calstore.booking_by_hash(conn, record.id, edit_hash)
            if booking is None:
                raise ApiFailure(*NO_BOOKING)
            if not booking.is_active:
                raise ApiFailure(400, "This booking was cancelled and cannot be confirmed")
            booking = calstore.set_booking(conn, booking.id, status="confirmed") or booking
        return confirmation_json(booking)  # [choice] confirming a confirmed booking answers it again


def _parse(cls: type[model.Strict], body: dict[str, Any]) -> Any:
    try:
        return cls.model_validate(body)
    except ValidationError as exc:
        raise ApiFailure(400, validation_message(exc)) from None


def _check_cancellable(config: model.Config, booking: BookingRecord, now: datetime) -> None:
    """[choice] A booking can be cancelled (or rescheduled) until ``min_cancellation_notice`` minutes
    before its start; with no notice, until it starts."""
    notice = (config.booking.min_cancellation_notice if config.booking else None) or 0
    if now + timedelta(minutes=notice) > instant(booking.start):
        raise ApiFailure(400, f"This booking can no longer be cancelled or rescheduled: the page requires "
                              f"{notice} minutes' notice before the meeting")


def routes(service: BookingService) -> list[Route]:
    """The routes of endpoints 8-12."""

    async def info(request: Request) -> JSONResponse:
        return JSONResponse(await run_in_threadpool(service.info, request.path_params["slug"]))

    async def timeslots(request: Request) -> JSONResponse:
        return JSONResponse(await run_in_threadpool(service.timeslots, request.path_params["slug"]))

    async def book(request: Request) -> JSONResponse:
        body = await read_object(request)
        return JSONResponse(await run_in_threadpool(service.book, request.path_params["slug"], body))

    async def cancel(request: Request) -> JSONResponse:
        body = await read_object(request, empty_ok=True)
        params = request.path_params
        return JSONResponse(await run_in_threadpool(service.cancel, params["slug"], params["edit_hash"], body))

    async def confirm(request: Request) -> JSONResponse:
        body = await read_object(request, empty_ok=True)
        params = request.path_params
        return JSONResponse(await run_in_threadpool(service.confirm, params["slug"], params["edit_hash"], body))

    return [
        Route("/schedule/{slug}/info", info, methods=["GET"]),
        Route("/schedule/{slug}/timeslots", timeslots, methods=["GET"]),
        Route("/schedule/{slug}/timeslots", book, methods=["POST"]),
        Route("/schedule/{slug}/{edit_hash}/cancel", cancel, methods=["POST"]),
        Route("/schedule/{slug}/{edit_hash}/confirm", confirm, methods=["POST"]),
    ]
