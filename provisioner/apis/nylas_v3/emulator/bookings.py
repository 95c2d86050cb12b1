"""Bookings of the v3 emulator: ``POST /v3/scheduling/bookings`` and ``GET`` (find), ``PATCH``
(reschedule), ``PUT`` (confirm or decline) and ``DELETE`` (cancel) on ``…/bookings/{booking_id}``.

Auth as `context.V3Context.booking_access` (session, API key, or public). A booking is made only at a
start the availability would offer (checked and written in one transaction: no double booking), for
exactly ``duration_minutes`` (`choices.BOOKING_DURATION_MUST_MATCH`); round robin gives it to the
host the engine picks (``participants`` in the body narrows the hosts). ``organizer-confirmation``
bookings start ``pending`` (holding the slot) until ``PUT`` with the booking's ``salt`` confirms
(``booked``) or declines (``cancelled``) them. Cancelling and rescheduling respect
``min_cancellation_notice``; a reschedule keeps the booking's host(s)
(`choices.RESCHEDULE_KEEPS_HOSTS`). Each change sends its ``booking.*`` webhook after it is stored.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from provisioner import slots
from provisioner.apis.nylas_v3 import choices
from provisioner.apis.nylas_v3.emulator import store as st
from provisioner.apis.nylas_v3.emulator.availability import World, calendar, load_world, unix_param
from provisioner.apis.nylas_v3.emulator.context import V3Context
from provisioner.apis.nylas_v3.emulator.wire import V3Failure, done, envelope, read_json
from provisioner.apis.nylas_v3.scalars import Email, Short, Zone
from provisioner.apis.validation_text import validation_message

FieldValue = Annotated[str, Field(max_length=choices.FIELD_VALUE_MAX)]
FieldName = Annotated[str, Field(min_length=1, max_length=choices.KEY_MAX)]
NO_BOOKING = "Booking not found"
TAKEN = "Invalid request: the time slot is not available (taken, outside the open hours, or too soon)"


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Person(_Body):
    email: Email
    name: Short | None = None


class ParticipantRef(_Body):
    email: Email


class BookingCreate(_Body):
    """``booking_create`` [spec]; ``guest.email`` required (`choices.GUEST_EMAIL_REQUIRED`)."""

    start_time: int = Field(ge=0, lt=10**11)
    end_time: int = Field(ge=0, lt=10**11)
    guest: Person
    participants: list[ParticipantRef] | None = Field(None, max_length=choices.MAX_PARTICIPANTS)
    timezone: Zone | None = None
    email_language: Literal["en", "fr", "de", "es", "nl", "sv", "ja", "zh"] | None = None
    additional_guests: list[Person] | None = Field(None, max_length=choices.MAX_LIST_ITEMS)
    additional_fields: dict[FieldName, FieldValue] | None = Field(None, max_length=choices.MAX_ADDITIONAL_FIELDS)


class BookingConfirm(_Body):
    salt: str = Field(min_length=1, max_length=choices.SHORT_TEXT_MAX)
    status: Literal["confirmed", "cancelled"]
    cancellation_reason: str | None = Field(None, max_length=choices.LONG_TEXT_MAX)


def booking_json(booking: st.BookingRecord) -> dict[str, Any]:
    """``components.schemas.booking``."""
    return {"booking_id": booking.id, "event_id": booking.event_id, "title": booking.info.get("title", ""),
            "organizer": booking.info.get("organizer", {}), "status": booking.status}


def _parse(model: type[_Body], body: dict[str, Any]) -> Any:
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise V3Failure(400, validation_message(exc)) from None


def check_fields(world: World, values: dict[str, str]) -> None:
    """`choices.UNKNOWN_ADDITIONAL_FIELD_REFUSED`: names, required ones, patterns, options."""
    defined = (world.config.scheduler.additional_fields if world.config.scheduler else None) or {}
    problems = [f"additional_fields.{k}: not a field of this configuration" for k in sorted(set(values) - set(defined))]
    for name, field in sorted(defined.items()):
        value = values.get(name)
        if value is None:
            if field.required:
                problems.append(f"additional_fields.{name}: required")
            continue
        if field.pattern and re.fullmatch(field.pattern, value) is None:
            problems.append(f"additional_fields.{name}: does not match the field's pattern")
        if field.options and field.type in ("dropdown", "radio_button") and value not in field.options:
            problems.append(f"additional_fields.{name}: not one of the field's options")
    if problems:
        raise V3Failure(400, "Invalid request: " + "; ".join(problems))


def _instant(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def pick(world: World, start: int, end: int, now: datetime, emails: list[str] | None) -> slots.Slot:
    """The slot at `start` the engine offers (among hosts named by `emails`), else 400."""
    if choices.BOOKING_DURATION_MUST_MATCH and end - start != world.settings.duration_s:
        raise V3Failure(400, f"Invalid request: end_time - start_time must be {world.settings.duration_s // 60} "
                             "minutes (duration_minutes)")
    hosts = world.hosts
    if emails is not None:
        wanted = {e.lower() for e in emails}
        unknown = wanted - {h.email.lower() for h in hosts}
        if unknown:
            raise V3Failure(400, "Invalid request: participants: not participants of this configuration")
        if world.settings.method != slots.COLLECTIVE:
            hosts = [h for h in hosts if h.email.lower() in wanted]
    found = world.slots(now, _instant(start), _instant(start + 1), hosts=hosts)
    if not found:
        raise V3Failure(400, TAKEN)
    return found[0]


def _notice_ok(world: World, booking: st.BookingRecord, now: datetime) -> None:
    notice = (world.config.scheduler.min_cancellation_notice if world.config.scheduler else None) or 0
    if now.timestamp() > booking.start_time - notice * 60:
        raise V3Failure(400, f"Invalid request: changes need {notice} minutes' notice before the booking starts")


def routes(ctx: V3Context) -> list[Route]:
    store = ctx.store

    async def create(request: Request) -> JSONResponse:
        record = await ctx.booking_access(request)
        assert record is not None
        body = _parse(BookingCreate, await read_json(request))
        now = ctx.clock()

        def work() -> st.BookingRecord:
            with store.transaction() as conn:
                world = load_world(conn, record)
                check_fields(world, body.additional_fields or {})
                emails = [p.email for p in body.participants] if body.participants is not None else None
                slot = pick(world, body.start_time, body.end_time, now, emails)
                host = world.participant(slot.account_id)
                event_booking = world.config.event_booking
                pending = event_booking.booking_type == "organizer-confirmation"
                info = {"title": event_booking.title, "location": event_booking.location,
                        "description": event_booking.description, "booking_type": event_booking.booking_type,
                        "organizer": {"email": host.email, "name": host.name or host.email},
                        "guest": body.guest.model_dump(exclude_none=True),
                        "participants": [{"email": e} for e in slot.emails],
                        "additional_guests": [g.model_dump(exclude_none=True) for g in body.additional_guests or []],
                        "additional_fields": body.additional_fields or {}, "timezone": body.timezone,
                        "reminders": [r.model_dump(exclude_none=True) for r in event_booking.reminders or []]}
                others = [(world.grant_of(p), calendar(p.booking.calendar_id, world.grant_of(p)))
                          for p in world.config.participants if p.email in slot.emails and p is not host]
                return st.insert_booking(conn, configuration_id=record.id, grant_id=slot.account_id,
                                         calendar_id=calendar(host.booking.calendar_id, slot.account_id),
                                         status="pending" if pending else "booked", start=body.start_time,
                                         end=body.end_time, info=info, others=others)

        booking = await run_in_threadpool(work)
        await ctx.notifier.send("booking.pending" if booking.status == "pending" else "booking.created", booking)
        return envelope(booking_json(booking))

    async def find(request: Request) -> tuple[st.ConfigurationRecord, st.BookingRecord]:
        """The booking of the path, within the configuration the request may use (404 otherwise)."""
        record = await ctx.booking_access(request, need_configuration=False)
        booking_id = request.path_params["booking_id"]

        def work() -> tuple[st.ConfigurationRecord | None, st.BookingRecord | None]:
            with store.snapshot() as conn:
                booking = st.get_booking(conn, booking_id)
                owner = st.get_configuration(conn, booking.configuration_id) if booking else None
                return owner, booking

        owner, booking = await run_in_threadpool(work)
        if booking is None or owner is None or (record is not None and record.id != owner.id):
            raise V3Failure(404, NO_BOOKING)
        return owner, booking

    async def get(request: Request) -> JSONResponse:
        _, booking = await find(request)
        return envelope(booking_json(booking))

    async def reschedule(request: Request) -> JSONResponse:
        owner, booking = await find(request)
        body = await read_json(request)
        unknown = sorted(set(body) - {"start_time", "end_time"})
        if unknown:
            raise V3Failure(400, "Invalid request: " + "; ".join(f"{k}: unknown field" for k in unknown))
        start, end = unix_param(body.get("start_time"), "start_time"), unix_param(body.get("end_time"), "end_time")
        now = ctx.clock()

        def work() -> st.BookingRecord:
            with store.transaction() as conn:
                current = st.get_booking(conn, booking.id)
                if current is None or current.status == "cancelled":
                    raise V3Failure(400, "Invalid request: a cancelled booking cannot be rescheduled")
                world = load_world(conn, owner, exclude_booking=booking.id)
                _notice_ok(world, current, now)
                emails = [p["email"] for p in current.info.get("participants", [])]
                pick(world, start, end, now, emails)
                return st.update_booking(conn, current, start=start, end=end)

        updated = await run_in_threadpool(work)
        await ctx.notifier.send("booking.rescheduled", updated)
        return envelope(booking_json(updated))

    async def confirm(request: Request) -> JSONResponse:
        _, booking = await find(request)
        body = _parse(BookingConfirm, await read_json(request))

        def work() -> st.BookingRecord:
            with store.transaction() as conn:
                current = st.get_booking(conn, booking.id)
                if current is None or current.status != "pending":
                    raise V3Failure(400, "Invalid request: only a pending booking can be confirmed or declined")
                if body.salt != current.salt:
                    raise V3Failure(400, "Invalid request: salt: does not match the booking")
                info = {**current.info, "cancellation_reason": body.cancellation_reason}
                status = "booked" if body.status == "confirmed" else "cancelled"
                return st.update_booking(conn, current, status=status, info=info)

        updated = await run_in_threadpool(work)
        await ctx.notifier.send("booking.created" if updated.status == "booked" else "booking.cancelled", updated)
        return envelope(booking_json(updated))

    async def cancel(request: Request) -> JSONResponse:
        owner, booking = await find(request)
        body = await read_json(request, empty_ok=True)
        unknown = sorted(set(body) - {"cancellation_reason"})
        reason = body.get("cancellation_reason")
        if unknown or not (reason is None or (isinstance(reason, str) and len(reason) <= choices.LONG_TEXT_MAX)):
            raise V3Failure(400, "Invalid request: the body may only hold cancellation_reason (a string)")
        now = ctx.clock()

        def work() -> st.BookingRecord:
            with store.transaction() as conn:
                current = st.get_booking(conn, booking.id)
                if current is None or current.status == "cancelled":
                    raise V3Failure(400, "Invalid request: the booking is already cancelled")
                _notice_ok(load_world(conn, owner), current, now)
                return st.update_booking(conn, current, status="cancelled",
                                         info={**current.info, "cancellation_reason": reason})

        updated = await run_in_threadpool(work)
        await ctx.notifier.send("booking.cancelled", updated)
        return done()

    path = "/v3/scheduling/bookings/{booking_id}"
    return [
        Route("/v3/scheduling/bookings", create, methods=["POST"]),
        Route(path, get, methods=["GET"]),
        Route(path, reschedule, methods=["PATCH"]),
        Route(path, confirm, methods=["PUT"]),
        Route(path, cancel, methods=["DELETE"]),
    ]
