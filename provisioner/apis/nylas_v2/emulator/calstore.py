"""Calendars, events and bookings in the emulator's database (tables created by `store`).

Contract: every function takes an open connection from ``store.transaction()`` (writes) or
``store.snapshot()`` (reads), so a caller can read, decide and write in one transaction: a booking is
checked against the slots on offer and written without another booking slipping in between. Times
are unix seconds (UTC). A booking's calendar event is an ordinary event with ``booking_id`` set.
Edit hashes are secrets: they are never part of a repr.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import string
from dataclasses import dataclass, field
from typing import Any

Conn = sqlite3.Connection

ACTIVE = ("confirmed", "pending")
"""Statuses of a booking that holds its slot and has a calendar event."""


@dataclass(frozen=True)
class Calendar:
    id: str
    account_id: str
    name: str
    read_only: bool
    is_primary: bool


@dataclass(frozen=True)
class EventRecord:
    id: str
    calendar_id: str
    account_id: str
    title: str
    start: int
    end: int
    booking_id: int | None


@dataclass(frozen=True)
class BookingRecord:
    id: int
    page_id: int
    account_id: str
    calendar_id: str
    calendar_event_id: str | None
    edit_hash: str = field(repr=False)
    status: str
    start: int
    end: int
    title: str
    location: str
    recipient_email: str
    recipient_name: str
    recipient_locale: str
    recipient_tz: str
    additional_field_values: dict[str, Any]
    additional_emails: list[str]
    replaced_by: int | None
    cancel_reason: str | None

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE


def new_id() -> str:
    """[choice] Event and calendar ids: 25 random base36 characters, like the service's ids."""
    return "".join(secrets.choice(string.ascii_lowercase + string.digits) for _ in range(25))


def new_edit_hash() -> str:
    """[choice] A booking's edit hash: 22 URL-safe random characters (it authorises cancel/confirm)."""
    return secrets.token_urlsafe(16)


# --- calendars -----------------------------------------------------------------------------------


def account_exists(conn: Conn, account_id: str) -> bool:
    return conn.execute("SELECT 1 FROM accounts WHERE id = ?", (account_id,)).fetchone() is not None


def calendars_of(conn: Conn, account_id: str) -> list[Calendar]:
    """An account's calendars, the primary one first."""
    rows = conn.execute("SELECT id, account_id, name, read_only, is_primary FROM calendars WHERE account_id = ?"
                        " ORDER BY is_primary DESC, rowid", (account_id,)).fetchall()
    return [Calendar(r[0], r[1], r[2], bool(r[3]), bool(r[4])) for r in rows]


def get_calendar(conn: Conn, calendar_id: str) -> Calendar | None:
    row = conn.execute("SELECT id, account_id, name, read_only, is_primary FROM calendars WHERE id = ?",
                       (calendar_id,)).fetchone()
    return Calendar(row[0], row[1], row[2], bool(row[3]), bool(row[4])) if row else None


def add_calendar(conn: Conn, account_id: str, name: str, read_only: bool) -> Calendar:
    """A new secondary calendar of a known account."""
    calendar = Calendar(new_id(), account_id, name, read_only, False)
    conn.execute("INSERT INTO calendars (id, account_id, name, is_primary, read_only) VALUES (?, ?, ?, 0, ?)",
                 (calendar.id, account_id, name, int(read_only)))
    return calendar


# --- events --------------------------------------------------------------------------------------

_EVENT_COLUMNS = "id, calendar_id, account_id, title, start_time, end_time, booking_id"


def _event(row: Any) -> EventRecord:
    return EventRecord(*row)


def add_event(conn: Conn, calendar: Calendar, title: str, start: int, end: int,
              booking_id: int | None = None) -> EventRecord:
    event = EventRecord(new_id(), calendar.id, calendar.account_id, title, start, end, booking_id)
    conn.execute(f"INSERT INTO events ({_EVENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                 (event.id, event.calendar_id, event.account_id, title, start, end, booking_id))
    return event


def get_event(conn: Conn, event_id: str) -> EventRecord | None:
    row = conn.execute(f"SELECT {_EVENT_COLUMNS} FROM events WHERE id = ?", (event_id,)).fetchone()
    return _event(row) if row else None


def move_event(conn: Conn, event_id: str, start: int, end: int) -> EventRecord | None:
    conn.execute("UPDATE events SET start_time = ?, end_time = ? WHERE id = ?", (start, end, event_id))
    return get_event(conn, event_id)


def delete_event(conn: Conn, event_id: str) -> EventRecord | None:
    event = get_event(conn, event_id)
    conn.execute("DELETE FROM events WHERE id = ?", (event_id,))
    return event


def events_on(conn: Conn, calendar_ids: list[str]) -> list[EventRecord]:
    """Every event on these calendars, by start."""
    if not calendar_ids:
        return []
    marks = ", ".join("?" for _ in calendar_ids)
    rows = conn.execute(f"SELECT {_EVENT_COLUMNS} FROM events WHERE calendar_id IN ({marks})"
                        " ORDER BY start_time, id", calendar_ids).fetchall()
    return [_event(r) for r in rows]


def events_of_account(conn: Conn, account_id: str) -> list[EventRecord]:
    rows = conn.execute(f"SELECT {_EVENT_COLUMNS} FROM events WHERE account_id = ? ORDER BY start_time, id",
                        (account_id,)).fetchall()
    return [_event(r) for r in rows]


# --- bookings ------------------------------------------------------------------------------------

_BOOKING_COLUMNS = (
    "id, page_id, account_id, calendar_id, calendar_event_id, edit_hash, status, start_time, end_time,"
    " title, location, recipient_email, recipient_name, recipient_locale, recipient_tz,"
    " additional_field_values, additional_emails, replaced_by, cancel_reason"
)


def _booking(row: Any) -> BookingRecord:
    values = list(row)
    values[15], values[16] = json.loads(values[15]), json.loads(values[16])
    return BookingRecord(*values)


def get_booking(conn: Conn, booking_id: int) -> BookingRecord | None:
    row = conn.execute(f"SELECT {_BOOKING_COLUMNS} FROM bookings WHERE id = ?", (booking_id,)).fetchone()
    return _booking(row) if row else None


def booking_by_hash(conn: Conn, page_id: int, edit_hash: str) -> BookingRecord | None:
    row = conn.execute(f"SELECT {_BOOKING_COLUMNS} FROM bookings WHERE page_id = ? AND edit_hash = ?",
                       (page_id, edit_hash)).fetchone()
    return _booking(row) if row else None


def booking_for_event(conn: Conn, event_id: str) -> BookingRecord | None:
    row = conn.execute(f"SELECT {_BOOKING_COLUMNS} FROM bookings WHERE calendar_event_id = ?",
                       (event_id,)).fetchone()
    return _booking(row) if row else None


def bookings(conn: Conn, page_id: int | None = None) -> list[BookingRecord]:
    """Every booking (of one page, when given), by start then id."""
    where, args = ("WHERE page_id = ?", (page_id,)) if page_id is not None else ("", ())
    rows = conn.execute(f"SELECT {_BOOKING_COLUMNS} FROM bookings {where} ORDER BY start_time, id",
                        args).fetchall()
    return [_booking(r) for r in rows]


def insert_booking(conn: Conn, *, page_id: int, calendar: Calendar, status: str, start: int, end: int,
                   title: str, location: str, recipient_email: str, recipient_name: str,
                   recipient_locale: str, recipient_tz: str, additional_field_values: dict[str, Any],
                   additional_emails: list[str]) -> BookingRecord:
    """A new booking and its event on `calendar`."""
    cursor = conn.execute(
        f"INSERT INTO bookings ({_BOOKING_COLUMNS}) VALUES (NULL, ?, ?, ?, NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
        " ?, ?, NULL, NULL)",
        (page_id, calendar.account_id, calendar.id, new_edit_hash(), status, start, end, title, location,
         recipient_email, recipient_name, recipient_locale, recipient_tz,
         json.dumps(additional_field_values), json.dumps(additional_emails)),
    )
    booking_id = int(cursor.lastrowid or 0)
    event = add_event(conn, calendar, title, start, end, booking_id)
    conn.execute("UPDATE bookings SET calendar_event_id = ? WHERE id = ?", (event.id, booking_id))
    return get_booking(conn, booking_id)  # type: ignore[return-value]


def cancel_booking(conn: Conn, booking_id: int, reason: str | None, replaced_by: int | None = None,
                   delete_event_too: bool = True) -> BookingRecord | None:
    """Mark a booking cancelled (and replaced, on a reschedule) and delete its calendar event."""
    booking = get_booking(conn, booking_id)
    if booking is None:
        return None
    if delete_event_too and booking.calendar_event_id:
        delete_event(conn, booking.calendar_event_id)
    conn.execute("UPDATE bookings SET status = 'cancelled', cancel_reason = ?, replaced_by = ? WHERE id = ?",
                 (reason, replaced_by, booking_id))
    return get_booking(conn, booking_id)


def set_booking(conn: Conn, booking_id: int, *, status: str | None = None, start: int | None = None,
                end: int | None = None) -> BookingRecord | None:
    """Change a booking's status and/or times (the event is not touched)."""
    if status is not None:
        conn.execute("UPDATE bookings SET status = ? WHERE id = ?", (status, booking_id))
    if start is not None and end is not None:
        conn.execute("UPDATE bookings SET start_time = ?, end_time = ? WHERE id = ?", (start, end, booking_id))
    return get_booking(conn, booking_id)


# --- webhook reminder deliveries -----------------------------------------------------------------


def settled_reminders(conn: Conn) -> set[tuple[int, str]]:
    """(booking id, reminder key) of every reminder delivered or given up."""
    return {(r[0], r[1]) for r in conn.execute("SELECT booking_id, reminder FROM reminder_deliveries")}


def settle_reminder(conn: Conn, booking_id: int, reminder: str, delivered: bool, attempts: int) -> None:
    conn.execute("INSERT OR REPLACE INTO reminder_deliveries (booking_id, reminder, delivered, attempts)"
                 " VALUES (?, ?, ?, ?)", (booking_id, reminder, int(delivered), attempts))
