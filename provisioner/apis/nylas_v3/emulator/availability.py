"""Availability of a v3 configuration: its world (hosts, busy time, bookings) read from the store, the
slots the shared engine offers, and ``GET /v3/scheduling/availability``.

- A participant's grant is its ``grant_id``, else the configuration's grant for the organizer (the
  first participant of a round-robin configuration), else `choices.grant_id_for_email`.
- Busy time: the emulator's events of each grant on the participant's ``availability.calendar_ids``
  (``primary`` = the grant's primary calendar), except this configuration's own bookings' events,
  which reach the engine as bookings (so a reschedule can leave its own booking out).
- Round robin orders hosts by this configuration's bookings (`choices.ROUND_ROBIN_GROUP_IS_CONFIGURATION`).
- Collective: the organizer is the first host, so the booking is the organizer's
  (`choices.COLLECTIVE_BOOKS_ORGANIZER`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from provisioner import slots
from provisioner.apis.nylas_v3 import choices, slot_settings
from provisioner.apis.nylas_v3.emulator import store as st
from provisioner.apis.nylas_v3.emulator.context import V3Context
from provisioner.apis.nylas_v3.emulator.wire import V3Failure, envelope
from provisioner.apis.nylas_v3.model import Configuration, Participant

ENGINE_STATUS = {"booked": "confirmed", "pending": "pending", "cancelled": "cancelled"}
MAX_WINDOW_S = choices.MAX_WINDOW_DAYS * 86_400


def grant_resolver(record: st.ConfigurationRecord, config: Configuration) -> Callable[[Participant], str]:
    return slot_settings.grant_resolver(config, record.grant_id)


def calendar(calendar_id: str, grant_id: str) -> str:
    """A calendar id as stored: ``primary`` is the grant's primary calendar."""
    return choices.primary_calendar_id_for(grant_id) if calendar_id == choices.PRIMARY_ALIAS else calendar_id


def _instant(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


@dataclass(frozen=True)
class World:
    """Everything the engine needs about one configuration at one moment."""

    record: st.ConfigurationRecord
    config: Configuration
    grant_of: Callable[[Participant], str]
    settings: slots.Settings
    hosts: list[slots.Host]
    bookings: list[slots.Booking]

    def participant(self, grant_id: str) -> Participant:
        return next(p for p in self.config.participants if self.grant_of(p) == grant_id)

    def slots(self, now: datetime, start: datetime | None = None, end: datetime | None = None,
              hosts: list[slots.Host] | None = None) -> list[slots.Slot]:
        return slots.compute_slots(self.settings, hosts or self.hosts, self.bookings, now,
                                   window_start=start, window_end=end, history=self.bookings)

    def order(self) -> list[str]:
        """The hosts' e-mails: in last-booked order (round robin), else in participant order."""
        if self.settings.method == slots.COLLECTIVE:
            return [p.email for p in self.config.participants]
        return [h.email for h in slots.last_booked_order(self.hosts, self.bookings)]


def load_world(conn: st.Conn, record: st.ConfigurationRecord, exclude_booking: str | None = None) -> World:
    config = Configuration.model_validate(record.config)
    grant_of = grant_resolver(record, config)
    organizer = config.organizer()
    participants = sorted(config.participants, key=lambda p: p.email != organizer.email)  # organizer first
    config = config.model_copy(update={"participants": participants})
    grants = [grant_of(p) for p in participants]
    own = st.bookings_of(conn, record.id)
    own_ids = {b.id for b in own}
    busy: dict[str, list[slots.Interval]] = {g: [] for g in grants}
    events = st.events_of(conn, grants)
    for p in participants:
        grant = grant_of(p)
        calendars = {calendar(c, grant) for c in p.availability.calendar_ids}
        busy[grant].extend(slots.Interval(_instant(e.start_time), _instant(e.end_time)) for e in events
                           if e.grant_id == grant and e.calendar_id in calendars and e.booking_id not in own_ids)
    bookings = [slots.Booking(_instant(b.start_time), _instant(b.end_time), b.grant_id, ENGINE_STATUS[b.status])  # type: ignore[arg-type]
                for b in own if b.id != exclude_booking]
    return World(record, config, grant_of, slot_settings.settings_for(config, grant_of),
                 slot_settings.hosts_for(config, grant_of, busy), bookings)


def unix_param(raw: Any, name: str) -> int:
    """Unix seconds from an integer or a string of digits (400 otherwise)."""
    if isinstance(raw, bool):
        raise V3Failure(400, f"Invalid request: {name}: must be unix seconds")
    if isinstance(raw, int):
        value = raw
    elif isinstance(raw, str) and raw.isascii() and raw.isdigit() and len(raw) <= 12:
        value = int(raw)
    else:
        raise V3Failure(400, f"Invalid request: {name}: must be unix seconds")
    if not 0 <= value < 10**11:
        raise V3Failure(400, f"Invalid request: {name}: out of range")
    return value


def time_slot_json(slot: slots.Slot) -> dict[str, Any]:
    return {"emails": list(slot.emails), "start_time": int(slot.start.timestamp()),
            "end_time": int(slot.end.timestamp()), "calendar_id": slot.calendar_id}


def routes(ctx: V3Context) -> list[Route]:
    async def availability(request: Request) -> JSONResponse:
        record = await ctx.booking_access(request)
        assert record is not None
        start = unix_param(request.query_params.get("start_time"), "start_time")
        end = unix_param(request.query_params.get("end_time"), "end_time")
        if end <= start or end - start > MAX_WINDOW_S:
            raise V3Failure(400, f"Invalid request: end_time must be after start_time, within "
                                 f"{choices.MAX_WINDOW_DAYS} days")
        exclude = request.query_params.get("booking_id") or None
        now = ctx.clock()

        def work() -> dict[str, Any]:
            with ctx.store.snapshot() as conn:
                world = load_world(conn, record, exclude)
            found = world.slots(now, _instant(start), _instant(end))
            return {"order": world.order(), "time_slots": [time_slot_json(s) for s in found]}

        return envelope(await run_in_threadpool(work))

    return [Route("/v3/scheduling/availability", availability, methods=["GET"])]
