"""Webhooks both ways.

Out — reminders with ``delivery_method: webhook`` [ref API notes]: once the emulator's clock reaches a
confirmed booking's start minus ``time_before_event`` minutes, `Reminders.run` POSTs
``{"booking": <confirmation>, "page": <public page>}`` to ``webhook_url``; an answer other than 2xx,
or a failed send, is retried 3 times (4 attempts). Each (booking, reminder) is settled once —
delivered or given up — and never sent again. Runs happen when the clock is set or advanced (test
controls); there are no background timers. Sending goes through an injected async `Sender`; the
default one (`loopback_sender`) uses httpx and refuses any host but loopback.

In — calendar notifications (the guide's Step 4): ``POST /webhook`` takes Nylas v2 notifications
``{"deltas": [{"type": "event.updated", "object_data": {"id", "account_id", "object": "event",
"attributes": null, ...}}]}``. The emulator is its own calendar provider, so it reads the event from
its store (v2 notifications carry no event data): a booking whose event moved takes the new times; a
booking whose event was deleted is cancelled and its slot freed. Test controls that move or delete an
event send the same notification through `apply_notification`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route

from provisioner.apis.nylas_v2 import model
from provisioner.apis.nylas_v2.emulator import calstore
from provisioner.apis.nylas_v2.emulator.booking import confirmation_json
from provisioner.apis.nylas_v2.emulator.calstore import BookingRecord, Conn
from provisioner.apis.nylas_v2.emulator.store import PageRecord, Store
from provisioner.apis.nylas_v2.emulator.wire import ApiFailure, public_page_json, read_object
from provisioner.apis.validation_text import validation_message

log = logging.getLogger("provisioner.apis.nylas_v2.emulator.webhooks")

Sender = Callable[[str, dict[str, Any]], Awaitable[int]]
"""POST a JSON payload to a URL and return the HTTP status; raise on a failed send."""

REMINDER_ATTEMPTS = 4  # [ref] the first attempt and 3 retries
REMINDER_TIMEOUT_S = 30.0  # [ref] "expects 200 within 30 s"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
EVENT_TYPES = ("event.created", "event.updated", "event.deleted")


class DeliveryRefused(Exception):
    """The default sender refuses to leave the machine."""


async def loopback_sender(url: str, payload: dict[str, Any]) -> int:
    """The served emulator's sender: httpx, `REMINDER_TIMEOUT_S`, loopback hosts only."""
    host = httpx.URL(url).host
    if host not in LOOPBACK_HOSTS:
        raise DeliveryRefused(f"webhook delivery to {host!r} refused: the emulator only calls loopback hosts")
    async with httpx.AsyncClient(timeout=REMINDER_TIMEOUT_S) as client:
        return (await client.post(url, json=payload)).status_code


@dataclass(frozen=True)
class Delivery:
    """The outcome of one webhook reminder of one booking."""

    booking_id: int
    webhook_url: str
    time_before_event: int
    attempts: int
    delivered: bool

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def reminder_key(reminder: model.Reminder) -> str:
    return f"{reminder.time_before_event}|{reminder.webhook_url}"


class Reminders:
    """Delivers the webhook reminders that are due at the emulator's clock."""

    def __init__(self, store: Store, clock: Callable[[], datetime], sender: Sender) -> None:
        self.store = store
        self.clock = clock
        self.sender = sender
        self._lock = asyncio.Lock()

    def due(self) -> list[tuple[BookingRecord, PageRecord, model.Reminder]]:
        """[choice] Due: a confirmed booking (pending ones get no reminders) whose start minus
        ``time_before_event`` has passed while the meeting has not ended, not settled yet."""
        now = self.clock().timestamp()
        with self.store.snapshot() as conn:
            settled = calstore.settled_reminders(conn)
            booked = [b for b in calstore.bookings(conn) if b.status == "confirmed" and now < b.end]
        pages: dict[int, PageRecord | None] = {}
        out = []
        for booking in booked:
            if booking.page_id not in pages:
                pages[booking.page_id] = self.store.get_page(booking.page_id)
            page = pages[booking.page_id]
            if page is None:
                continue
            for reminder in model.Config.model_validate(page.config).reminders or []:
                if reminder.delivery_method != "webhook" or not reminder.webhook_url:
                    continue
                if (booking.id, reminder_key(reminder)) in settled:
                    continue
                if booking.start - reminder.time_before_event * 60 <= now:
                    out.append((booking, page, reminder))
        return out

    async def run(self) -> list[Delivery]:
        """Deliver every due reminder (retrying), settle each, and return what happened."""
        async with self._lock:
            results = []
            for booking, page, reminder in await run_in_threadpool(self.due):
                payload = {"booking": confirmation_json(booking), "page": public_page_json(page)}
                attempts, delivered = 0, False
                while attempts < REMINDER_ATTEMPTS and not delivered:
                    attempts += 1
                    delivered = await self._attempt(str(reminder.webhook_url), payload)
                await run_in_threadpool(self._settle, booking.id, reminder_key(reminder), delivered, attempts)
                results.append(Delivery(booking.id, str(reminder.webhook_url), reminder.time_before_event,
                                        attempts, delivered))
            return results

    async def _attempt(self, url: str, payload: dict[str, Any]) -> bool:
        try:
            status = await self.sender(url, payload)
        except Exception as exc:  # a failed send is a failed attempt, whatever the sender raised
            log.warning("webhook reminder delivery failed: %s", type(exc).__name__)
            return False
        return 200 <= status < 300  # [choice] any 2xx counts as delivered

    def _settle(self, booking_id: int, key: str, delivered: bool, attempts: int) -> None:
        with self.store.transaction() as conn:
            calstore.settle_reminder(conn, booking_id, key, delivered, attempts)


# --- notifications in ----------------------------------------------------------------------------


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")  # [choice] Nylas adds fields (date, namespace_id, metadata)


class ObjectData(_Open):
    id: str
    object: str = "event"
    account_id: str | None = None
    attributes: dict[str, Any] | None = None


class Delta(_Open):
    type: str
    object_data: ObjectData


class Notification(_Open):
    deltas: list[Delta]


def notification(kind: str, event: calstore.EventRecord, date: int) -> dict[str, Any]:
    """The Nylas v2 notification the emulator's calendar sends for a change to `event`."""
    return {"deltas": [{
        "date": date, "object": "event", "type": kind,
        "object_data": {"namespace_id": event.account_id, "account_id": event.account_id, "object": "event",
                        "attributes": None, "id": event.id, "metadata": None},
    }]}


def _when(attributes: dict[str, Any] | None) -> tuple[int, int] | None:
    """[choice] An extension for clients without the test controls: ``attributes.when`` (a v2
    timespan ``{start_time, end_time}``) moves the emulator's copy of the event first."""
    when = (attributes or {}).get("when")
    if not isinstance(when, dict):
        return None
    start, end = when.get("start_time"), when.get("end_time")
    if not (isinstance(start, int) and isinstance(end, int)) or end <= start:
        raise ApiFailure(400, "Invalid request: attributes.when: needs integer start_time < end_time")
    return start, end


def apply_notification(conn: Conn, body: dict[str, Any]) -> list[BookingRecord]:
    """Apply a v2 notification to the bookings; returns the bookings it changed.

    [choice] Deltas of other object types or triggers are ignored; an event that is no booking's
    changes nothing (it is busy time already); an ``event.created`` is treated like an update.
    """
    try:
        parsed = Notification.model_validate(body)
    except ValidationError as exc:
        raise ApiFailure(400, validation_message(exc)) from None
    changed = []
    for delta in parsed.deltas:
        data = delta.object_data
        if data.object != "event" or delta.type not in EVENT_TYPES:
            continue
        booking = calstore.booking_for_event(conn, data.id)
        if delta.type == "event.deleted":
            calstore.delete_event(conn, data.id)
            if booking is not None and booking.is_active:
                changed.append(calstore.cancel_booking(conn, booking.id, "calendar event deleted",
                                                       delete_event_too=False))
            continue
        when = _when(data.attributes)
        event = calstore.move_event(conn, data.id, *when) if when else calstore.get_event(conn, data.id)
        if event is not None and booking is not None and booking.is_active \
                and (booking.start, booking.end) != (event.start, event.end):
            changed.append(calstore.set_booking(conn, booking.id, start=event.start, end=event.end))
    return [b for b in changed if b is not None]


def routes(store: Store) -> list[Route]:
    """``POST /webhook`` (notifications) and ``GET /webhook?challenge=`` (v2 endpoint verification)."""

    async def receive(request: Request) -> JSONResponse:
        body = await read_object(request)

        def apply() -> None:
            with store.transaction() as conn:
                apply_notification(conn, body)

        await run_in_threadpool(apply)
        return JSONResponse({"success": True})

    async def challenge(request: Request) -> PlainTextResponse:
        value = request.query_params.get("challenge")
        if value is None:
            raise ApiFailure(400, "Invalid request: challenge: required")
        return PlainTextResponse(value)

    return [Route("/webhook", receive, methods=["POST"]), Route("/webhook", challenge, methods=["GET"])]
