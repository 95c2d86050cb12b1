"""SQLite persistence of the v3 emulator: configurations, sessions, bookings, calendar events,
webhook destinations and deliveries, in tables of its own (``v3_*``).

Contract (as the v2 store's): one `V3Store` per emulator instance, one connection, a lock serialising
calls; several stores, in one process or several, may share one database file (also with the v2
emulator, whose tables and ``user_version`` are left alone): WAL journal, a busy timeout, every write
in one ``BEGIN IMMEDIATE`` transaction. Functions taking a ``conn`` run inside
``with store.transaction() as conn`` (or ``snapshot()`` for reads), so a check and its write are atomic.
Times are unix seconds (floats for session expiry).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from provisioner.apis.emulator_db import Database
from provisioner.apis.nylas_v3 import choices

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS v3_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS v3_configurations (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    id        TEXT NOT NULL UNIQUE,
    grant_id  TEXT NOT NULL,
    slug      TEXT UNIQUE,
    config    TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS v3_configurations_by_grant ON v3_configurations(grant_id, seq);
CREATE TABLE IF NOT EXISTS v3_sessions (
    id                TEXT PRIMARY KEY,
    configuration_id  TEXT NOT NULL,
    expires_at        REAL NOT NULL,
    deleted           INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS v3_sessions_by_configuration ON v3_sessions(configuration_id, expires_at);
-- choices.BOOKINGS_OUTLIVE_CONFIGURATION: bookings (and their events) outlive their configuration.
CREATE TABLE IF NOT EXISTS v3_bookings (
    seq               INTEGER PRIMARY KEY AUTOINCREMENT,
    id                TEXT NOT NULL UNIQUE,
    configuration_id  TEXT NOT NULL,
    grant_id          TEXT NOT NULL,
    event_id          TEXT NOT NULL,
    status            TEXT NOT NULL,
    start_time        INTEGER NOT NULL,
    end_time          INTEGER NOT NULL,
    salt              TEXT NOT NULL,
    info              TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS v3_bookings_by_configuration ON v3_bookings(configuration_id, seq);
CREATE TABLE IF NOT EXISTS v3_events (
    id           TEXT PRIMARY KEY,
    grant_id     TEXT NOT NULL,
    calendar_id  TEXT NOT NULL,
    title        TEXT NOT NULL,
    start_time   INTEGER NOT NULL,
    end_time     INTEGER NOT NULL,
    booking_id   TEXT
);
CREATE INDEX IF NOT EXISTS v3_events_by_grant ON v3_events(grant_id, start_time);
CREATE TABLE IF NOT EXISTS v3_webhooks (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    id             TEXT NOT NULL UNIQUE,
    url            TEXT NOT NULL,
    trigger_types  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS v3_deliveries (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    type       TEXT NOT NULL,
    payload    TEXT NOT NULL,
    results    TEXT NOT NULL
);
-- One row per (booking, reminder) once its booking.reminder webhook has been sent.
CREATE TABLE IF NOT EXISTS v3_reminders_sent (
    booking_id  TEXT NOT NULL,
    reminder    TEXT NOT NULL,
    PRIMARY KEY (booking_id, reminder)
)
"""

Conn = sqlite3.Connection


class SlugTaken(Exception):
    """The slug belongs to another configuration of the application."""


@dataclass(frozen=True)
class ConfigurationRecord:
    seq: int
    id: str
    grant_id: str
    config: dict[str, Any]  # as stored: server defaults filled, no id


@dataclass(frozen=True)
class SessionRecord:
    id: str
    configuration_id: str
    expires_at: float
    deleted: bool

    def active(self, now: float) -> bool:
        return not self.deleted and now < self.expires_at


@dataclass(frozen=True)
class BookingRecord:
    seq: int
    id: str
    configuration_id: str
    grant_id: str
    event_id: str
    status: str  # booked | pending | cancelled
    start_time: int
    end_time: int
    salt: str
    info: dict[str, Any]  # title, organizer, guest, participants, additional fields, ...


@dataclass(frozen=True)
class EventRecord:
    id: str
    grant_id: str
    calendar_id: str
    title: str
    start_time: int
    end_time: int
    booking_id: str | None


class V3Store(Database):
    """The v3 emulator's data. Methods are synchronous and short; call them from a worker thread."""

    def __init__(self, db: str | Path = ":memory:") -> None:
        super().__init__(db)
        with self.transaction() as conn:
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)
            row = conn.execute("SELECT value FROM v3_meta WHERE key = 'schema'").fetchone()
            if row and int(row[0]) > SCHEMA_VERSION:
                raise RuntimeError(f"v3 emulator schema {row[0]} is newer than this emulator")
            conn.execute("INSERT OR REPLACE INTO v3_meta (key, value) VALUES ('schema', ?)", (str(SCHEMA_VERSION),))

# --- configurations ------------------------------------------------------------------------------

_CONFIG_COLUMNS = "seq, id, grant_id, config"


def _configuration(row: Any) -> ConfigurationRecord:
    return ConfigurationRecord(seq=row[0], id=row[1], grant_id=row[2], config=json.loads(row[3]))


def insert_configuration(conn: Conn, grant_id: str, config: dict[str, Any]) -> ConfigurationRecord:
    """Store a new configuration (raises `SlugTaken`)."""
    config_id = choices.new_id()
    try:
        cur = conn.execute("INSERT INTO v3_configurations (id, grant_id, slug, config) VALUES (?, ?, ?, ?)",
                           (config_id, grant_id, config.get("slug"), json.dumps(config)))
    except sqlite3.IntegrityError:
        raise SlugTaken() from None
    return ConfigurationRecord(seq=int(cur.lastrowid or 0), id=config_id, grant_id=grant_id, config=config)


def replace_configuration(conn: Conn, record: ConfigurationRecord, config: dict[str, Any]) -> ConfigurationRecord:
    """Store `config` as the whole new state of `record` (raises `SlugTaken`)."""
    try:
        conn.execute("UPDATE v3_configurations SET slug = ?, config = ? WHERE id = ?",
                     (config.get("slug"), json.dumps(config), record.id))
    except sqlite3.IntegrityError:
        raise SlugTaken() from None
    return ConfigurationRecord(seq=record.seq, id=record.id, grant_id=record.grant_id, config=config)


def get_configuration(conn: Conn, config_id: str) -> ConfigurationRecord | None:
    row = conn.execute(f"SELECT {_CONFIG_COLUMNS} FROM v3_configurations WHERE id = ?", (config_id,)).fetchone()
    return _configuration(row) if row else None


def configuration_by_slug(conn: Conn, slug: str) -> ConfigurationRecord | None:
    row = conn.execute(f"SELECT {_CONFIG_COLUMNS} FROM v3_configurations WHERE slug = ?", (slug,)).fetchone()
    return _configuration(row) if row else None


def list_configurations(conn: Conn, grant_id: str, after_seq: int, limit: int) -> list[ConfigurationRecord]:
    """Up to `limit` configurations of a grant with ``seq > after_seq``, oldest first."""
    rows = conn.execute(f"SELECT {_CONFIG_COLUMNS} FROM v3_configurations WHERE grant_id = ? AND seq > ? "
                        "ORDER BY seq LIMIT ?", (grant_id, after_seq, limit)).fetchall()
    return [_configuration(r) for r in rows]


def delete_configuration(conn: Conn, config_id: str) -> None:
    conn.execute("DELETE FROM v3_configurations WHERE id = ?", (config_id,))


# --- sessions ------------------------------------------------------------------------------------


def insert_session(conn: Conn, configuration_id: str, expires_at: float) -> SessionRecord:
    session = SessionRecord(id=choices.new_id(), configuration_id=configuration_id, expires_at=expires_at,
                            deleted=False)
    conn.execute("INSERT INTO v3_sessions (id, configuration_id, expires_at) VALUES (?, ?, ?)",
                 (session.id, configuration_id, expires_at))
    return session


def get_session(conn: Conn, session_id: str) -> SessionRecord | None:
    row = conn.execute("SELECT id, configuration_id, expires_at, deleted FROM v3_sessions WHERE id = ?",
                       (session_id,)).fetchone()
    return SessionRecord(row[0], row[1], row[2], bool(row[3])) if row else None


def end_session(conn: Conn, session_id: str) -> None:
    conn.execute("UPDATE v3_sessions SET deleted = 1 WHERE id = ?", (session_id,))


def active_sessions(conn: Conn, configuration_id: str, now: float) -> int:
    (count,) = conn.execute("SELECT COUNT(*) FROM v3_sessions WHERE configuration_id = ? AND deleted = 0 "
                            "AND expires_at > ?", (configuration_id, now)).fetchone()
    return int(count)


# --- bookings and events -------------------------------------------------------------------------

_BOOKING_COLUMNS = "seq, id, configuration_id, grant_id, event_id, status, start_time, end_time, salt, info"


def _booking(row: Any) -> BookingRecord:
    return BookingRecord(seq=row[0], id=row[1], configuration_id=row[2], grant_id=row[3], event_id=row[4],
                         status=row[5], start_time=row[6], end_time=row[7], salt=row[8], info=json.loads(row[9]))


def insert_booking(conn: Conn, *, configuration_id: str, grant_id: str, calendar_id: str, status: str,
                   start: int, end: int, info: dict[str, Any],
                   others: Sequence[tuple[str, str]] = ()) -> BookingRecord:
    """A booking and its event on the host's booking calendar, plus one on each ``(grant, calendar)``
    of `others` (the other participants of a collective booking)."""
    booking_id, event_id, salt = choices.new_id(), choices.new_id(), choices.new_salt()
    cur = conn.execute(f"INSERT INTO v3_bookings ({_BOOKING_COLUMNS.removeprefix('seq, ')}) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       (booking_id, configuration_id, grant_id, event_id, status, start, end, salt, json.dumps(info)))
    conn.execute("INSERT INTO v3_events (id, grant_id, calendar_id, title, start_time, end_time, booking_id) "
                 "VALUES (?, ?, ?, ?, ?, ?, ?)", (event_id, grant_id, calendar_id, info.get("title", ""),
                                                  start, end, booking_id))
    for other_grant, other_calendar in others:
        conn.execute("INSERT INTO v3_events (id, grant_id, calendar_id, title, start_time, end_time, booking_id) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?)", (choices.new_id(), other_grant, other_calendar,
                                                      info.get("title", ""), start, end, booking_id))
    return BookingRecord(int(cur.lastrowid or 0), booking_id, configuration_id, grant_id, event_id, status,
                         start, end, salt, info)


def get_booking(conn: Conn, booking_id: str) -> BookingRecord | None:
    row = conn.execute(f"SELECT {_BOOKING_COLUMNS} FROM v3_bookings WHERE id = ?", (booking_id,)).fetchone()
    return _booking(row) if row else None


def bookings_of(conn: Conn, configuration_id: str | None = None) -> list[BookingRecord]:
    """Bookings in the order they were made (of one configuration, or all)."""
    if configuration_id is None:
        rows = conn.execute(f"SELECT {_BOOKING_COLUMNS} FROM v3_bookings ORDER BY seq").fetchall()
    else:
        rows = conn.execute(f"SELECT {_BOOKING_COLUMNS} FROM v3_bookings WHERE configuration_id = ? ORDER BY seq",
                            (configuration_id,)).fetchall()
    return [_booking(r) for r in rows]


def update_booking(conn: Conn, booking: BookingRecord, *, status: str | None = None, start: int | None = None,
                   end: int | None = None, info: dict[str, Any] | None = None) -> BookingRecord:
    """Change a booking (and move or drop its event); returns the new record."""
    new = BookingRecord(booking.seq, booking.id, booking.configuration_id, booking.grant_id, booking.event_id,
                        status or booking.status, booking.start_time if start is None else start,
                        booking.end_time if end is None else end, booking.salt, info or booking.info)
    conn.execute("UPDATE v3_bookings SET status = ?, start_time = ?, end_time = ?, info = ? WHERE id = ?",
                 (new.status, new.start_time, new.end_time, json.dumps(new.info), new.id))
    if new.status == "cancelled":
        conn.execute("DELETE FROM v3_events WHERE booking_id = ?", (new.id,))
    else:
        conn.execute("UPDATE v3_events SET start_time = ?, end_time = ? WHERE booking_id = ?",
                     (new.start_time, new.end_time, new.id))
    return new


def add_event(conn: Conn, grant_id: str, calendar_id: str, title: str, start: int, end: int) -> EventRecord:
    event = EventRecord(choices.new_id(), grant_id, calendar_id, title, start, end, None)
    conn.execute("INSERT INTO v3_events (id, grant_id, calendar_id, title, start_time, end_time) "
                 "VALUES (?, ?, ?, ?, ?, ?)", (event.id, grant_id, calendar_id, title, start, end))
    return event


def get_event(conn: Conn, event_id: str) -> EventRecord | None:
    row = conn.execute("SELECT id, grant_id, calendar_id, title, start_time, end_time, booking_id FROM v3_events "
                       "WHERE id = ?", (event_id,)).fetchone()
    return EventRecord(*row) if row else None


def move_event(conn: Conn, event_id: str, start: int, end: int) -> None:
    conn.execute("UPDATE v3_events SET start_time = ?, end_time = ? WHERE id = ?", (start, end, event_id))


def delete_event(conn: Conn, event_id: str) -> None:
    conn.execute("DELETE FROM v3_events WHERE id = ?", (event_id,))


def events_of(conn: Conn, grant_ids: list[str]) -> list[EventRecord]:
    """Every event of these grants (busy blocks and bookings' events), by start."""
    marks = ",".join("?" * len(grant_ids))
    rows = conn.execute("SELECT id, grant_id, calendar_id, title, start_time, end_time, booking_id FROM v3_events "
                        f"WHERE grant_id IN ({marks}) ORDER BY start_time", grant_ids).fetchall()
    return [EventRecord(*r) for r in rows]


# --- webhooks ------------------------------------------------------------------------------------


def add_webhook(conn: Conn, url: str, trigger_types: list[str]) -> dict[str, Any]:
    webhook = {"id": choices.new_id(), "webhook_url": url, "trigger_types": trigger_types}
    conn.execute("INSERT INTO v3_webhooks (id, url, trigger_types) VALUES (?, ?, ?)",
                 (webhook["id"], url, json.dumps(trigger_types)))
    return webhook


def webhooks(conn: Conn) -> list[dict[str, Any]]:
    rows = conn.execute("SELECT id, url, trigger_types FROM v3_webhooks ORDER BY seq").fetchall()
    return [{"id": r[0], "webhook_url": r[1], "trigger_types": json.loads(r[2])} for r in rows]


def delete_webhook(conn: Conn, webhook_id: str) -> bool:
    return conn.execute("DELETE FROM v3_webhooks WHERE id = ?", (webhook_id,)).rowcount > 0


def record_delivery(conn: Conn, kind: str, payload: dict[str, Any], results: list[dict[str, Any]]) -> None:
    conn.execute("INSERT INTO v3_deliveries (type, payload, results) VALUES (?, ?, ?)",
                 (kind, json.dumps(payload), json.dumps(results)))


def deliveries(conn: Conn) -> list[dict[str, Any]]:
    rows = conn.execute("SELECT type, payload, results FROM v3_deliveries ORDER BY seq").fetchall()
    return [{"type": r[0], "payload": json.loads(r[1]), "results": json.loads(r[2])} for r in rows]


def reminder_sent(conn: Conn, booking_id: str, reminder: str) -> bool:
    """Mark a reminder sent; False when it already was."""
    cur = conn.execute("INSERT OR IGNORE INTO v3_reminders_sent (booking_id, reminder) VALUES (?, ?)",
                       (booking_id, reminder))
    return cur.rowcount > 0
