"""``booking.*`` webhooks of the v3 emulator (application-level, as in v3: not per configuration).

Destinations are registered through the test controls (``/_emulator/v3/webhooks``; the v3 webhooks
API itself is outside the Scheduler slice). Every notification is recorded (``GET
/_emulator/v3/webhooks/deliveries``), delivered or not, and POSTed to each destination subscribed to
its type through the injected `Sender` (default: `loopback_sender`, loopback hosts only), up to
`choices.WEBHOOK_ATTEMPTS` times until a 2xx. Sending happens after the database work, never inside
a transaction.

The payload follows Nylas's v3 notification envelope (`choices.WEBHOOK_ENVELOPE`)::

    {"specversion": "1.0", "type": "booking.created", "source": "/nylas/scheduler", "id", "time",
     "webhook_delivery_attempt": 1,
     "data": {"application_id", "grant_id", "object": {"object": "booking", "booking_id",
              "configuration_id", "booking_type", "salt", "booking_info": {...}}}}

``salt`` is what confirming or declining the booking needs (`choices.new_salt`).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import httpx
from starlette.concurrency import run_in_threadpool

from provisioner.apis.nylas_v3 import choices
from provisioner.apis.nylas_v3.emulator import store as st

log = logging.getLogger("provisioner.emulator.v3.webhooks")

Sender = Callable[[str, dict[str, Any]], Awaitable[int]]
"""POST a JSON payload to a URL and return the HTTP status; raise on a failed send (the same
contract as the v2 emulator's, so one sender serves both)."""

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
SEND_TIMEOUT_S = 30.0


class DeliveryRefused(Exception):
    """The default sender refuses to leave the machine."""


async def loopback_sender(url: str, payload: dict[str, Any]) -> int:
    """The default sender: httpx, `SEND_TIMEOUT_S`, loopback hosts only."""
    host = httpx.URL(url).host
    if host not in LOOPBACK_HOSTS:
        raise DeliveryRefused("webhook delivery refused: the emulator only calls loopback hosts")
    async with httpx.AsyncClient(timeout=SEND_TIMEOUT_S) as client:
        return (await client.post(url, json=payload)).status_code


def booking_info(booking: st.BookingRecord) -> dict[str, Any]:
    info = booking.info
    out = {"event_id": booking.event_id, "start_time": booking.start_time, "end_time": booking.end_time,
           "title": info.get("title"), "duration": (booking.end_time - booking.start_time) // 60,
           "location": info.get("location"), "participants": info.get("participants", []),
           "organizer": info.get("organizer"), "guest": info.get("guest"),
           "additional_guests": info.get("additional_guests", []),
           "additional_fields": info.get("additional_fields", {}), "timezone": info.get("timezone")}
    if info.get("cancellation_reason"):
        out["cancellation_reason"] = info["cancellation_reason"]
    return out


def notification(kind: str, booking: st.BookingRecord, now: datetime) -> dict[str, Any]:
    """The notification of `kind` about `booking` (see the module docstring)."""
    return {
        "specversion": "1.0", "type": kind, "source": choices.WEBHOOK_SOURCE, "id": choices.new_id(),
        "time": int(now.timestamp()), "webhook_delivery_attempt": 1,
        "data": {"application_id": choices.APPLICATION_ID, "grant_id": booking.grant_id, "object": {
            "object": "booking", "booking_id": booking.id, "configuration_id": booking.configuration_id,
            "booking_type": booking.info.get("booking_type", "booking"), "status": booking.status,
            "salt": booking.salt, "booking_info": booking_info(booking)}},
    }


class Notifier:
    """Sends ``booking.*`` notifications to the registered destinations and records them."""

    def __init__(self, store: st.V3Store, clock: Callable[[], datetime], sender: Sender) -> None:
        self.store = store
        self.clock = clock
        self.sender = sender

    async def send(self, kind: str, booking: st.BookingRecord) -> dict[str, Any]:
        """Deliver one notification; returns ``{"type", "payload", "results"}``."""
        payload = notification(kind, booking, self.clock())

        def destinations() -> list[dict[str, Any]]:
            with self.store.snapshot() as conn:
                return [w for w in st.webhooks(conn) if kind in w["trigger_types"]]

        results = []
        for hook in await run_in_threadpool(destinations):
            results.append(await self._deliver(hook["webhook_url"], payload))

        def record() -> None:
            with self.store.transaction() as conn:
                st.record_delivery(conn, kind, payload, results)

        await run_in_threadpool(record)
        return {"type": kind, "payload": payload, "results": results}

    async def _deliver(self, url: str, payload: dict[str, Any]) -> dict[str, Any]:
        status: int | None = None
        error: str | None = None
        attempts = 0
        while attempts < choices.WEBHOOK_ATTEMPTS:
            attempts += 1
            payload = {**payload, "webhook_delivery_attempt": attempts}
            try:
                status = await self.sender(url, payload)
                error = None
            except Exception as exc:  # a failed send is an outcome to record, not a crash
                status, error = None, type(exc).__name__
            if status is not None and 200 <= status < 300:
                break
        log.info("v3 webhook %s to %s: %s after %d attempt(s)", payload["type"], url, status or error, attempts)
        return {"url": url, "status": status, "error": error, "attempts": attempts,
                "delivered": status is not None and 200 <= status < 300}


def due_reminders(conn: st.Conn, now: int) -> list[tuple[st.BookingRecord, str]]:
    """Booked bookings with a webhook reminder due at `now` (start minus its minutes reached, start
    not passed) and not sent yet; marks them sent."""
    due = []
    for booking in st.bookings_of(conn):
        if booking.status != "booked" or now >= booking.start_time:
            continue
        for reminder in booking.info.get("reminders", []):
            if reminder.get("type") != "webhook":
                continue
            key = f"webhook:{reminder['minutes_before_event']}"
            if now >= booking.start_time - 60 * int(reminder["minutes_before_event"]) and \
                    st.reminder_sent(conn, booking.id, key):
                due.append((booking, key))
    return due
