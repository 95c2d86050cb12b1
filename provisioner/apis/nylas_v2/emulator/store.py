"""SQLite persistence of the emulator: accounts, calendars, pages and which accounts a page uses.

Contract:
- One `Store` per emulator instance, one connection, safe to call from several threads (a lock
  serialises calls). Several stores, in one process or several, may share one database file: WAL
  journal, a busy timeout, and every write in one short ``BEGIN IMMEDIATE`` transaction, so a process
  killed at any moment leaves the file consistent.
- Access tokens are never stored: only `choices.token_hash`. Edit tokens are stored (every page
  object returns its own).
- Calendars per account (a primary one for every account); the events on them and the bookings of
  pages live in the same database, handled by `provisioner.apis.nylas_v2.emulator.calstore`.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from provisioner.apis.emulator_db import Database
from provisioner.apis.nylas_v2.emulator import choices

SCHEMA_VERSION = 2

_SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts (
    id          TEXT PRIMARY KEY,
    token_hash  TEXT NOT NULL UNIQUE,
    email       TEXT NOT NULL,
    name        TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS calendars (
    id          TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL REFERENCES accounts(id),
    name        TEXT NOT NULL,
    is_primary  INTEGER NOT NULL DEFAULT 0,
    read_only   INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS pages (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    slug                 TEXT NOT NULL UNIQUE,
    name                 TEXT,
    config               TEXT NOT NULL,
    edit_token           TEXT NOT NULL UNIQUE,
    app_client_id        TEXT NOT NULL,
    app_organization_id  INTEGER NOT NULL,
    created_at           TEXT NOT NULL,
    modified_at          TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS page_accounts (
    page_id     INTEGER NOT NULL REFERENCES pages(id) ON DELETE CASCADE,
    position    INTEGER NOT NULL,
    account_id  TEXT NOT NULL REFERENCES accounts(id),
    PRIMARY KEY (page_id, position)
);
-- [choice] A deleted page's edit token keeps naming its page, so using it answers 404 (the page is
-- gone), not 401 (a token never seen): clients can tell a page deleted in the editor from a bad token.
CREATE TABLE IF NOT EXISTS deleted_pages (
    id          INTEGER PRIMARY KEY,
    edit_token  TEXT NOT NULL UNIQUE
);
CREATE INDEX IF NOT EXISTS page_accounts_by_account ON page_accounts(account_id, page_id);
-- Times are unix seconds (UTC). An event with a booking_id is that booking's calendar event.
CREATE TABLE IF NOT EXISTS events (
    id           TEXT PRIMARY KEY,
    calendar_id  TEXT NOT NULL,
    account_id   TEXT NOT NULL,
    title        TEXT NOT NULL,
    start_time   INTEGER NOT NULL,
    end_time     INTEGER NOT NULL,
    booking_id   INTEGER
);
CREATE INDEX IF NOT EXISTS events_by_calendar ON events(calendar_id, start_time);
-- [choice] Bookings are kept when their page is deleted (their events stay on the calendars).
CREATE TABLE IF NOT EXISTS bookings (
    id                       INTEGER PRIMARY KEY AUTOINCREMENT,
    page_id                  INTEGER NOT NULL,
    account_id               TEXT NOT NULL,
    calendar_id              TEXT NOT NULL,
    calendar_event_id        TEXT,
    edit_hash                TEXT NOT NULL UNIQUE,
    status                   TEXT NOT NULL,
    start_time               INTEGER NOT NULL,
    end_time                 INTEGER NOT NULL,
    title                    TEXT NOT NULL,
    location                 TEXT NOT NULL,
    recipient_email          TEXT NOT NULL,
    recipient_name           TEXT NOT NULL,
    recipient_locale         TEXT NOT NULL,
    recipient_tz             TEXT NOT NULL,
    additional_field_values  TEXT NOT NULL,
    additional_emails        TEXT NOT NULL,
    replaced_by              INTEGER,
    cancel_reason            TEXT
);
CREATE INDEX IF NOT EXISTS bookings_by_page ON bookings(page_id, start_time);
-- One row per (booking, webhook reminder) once its delivery is settled: delivered or given up.
CREATE TABLE IF NOT EXISTS reminder_deliveries (
    booking_id   INTEGER NOT NULL,
    reminder     TEXT NOT NULL,
    delivered    INTEGER NOT NULL,
    attempts     INTEGER NOT NULL,
    PRIMARY KEY (booking_id, reminder)
);
"""


class SlugTaken(Exception):
    """The slug belongs to another page."""


@dataclass(frozen=True)
class Account:
    id: str
    email: str
    name: str


@dataclass(frozen=True)
class PageRecord:
    """A stored page; `config` is the JSON config as the server returns it."""

    id: int
    slug: str
    name: str | None
    config: dict[str, Any]
    edit_token: str = field(repr=False)
    app_client_id: str
    app_organization_id: int
    created_at: str
    modified_at: str
    accounts: tuple[Account, ...]


@dataclass(frozen=True)
class Principal:
    """Who a bearer token is: a page (its edit token) or an account (an access token)."""

    page_id: int | None = None
    account_id: str | None = None


_UNSET: Any = object()


@contextmanager
def _slug_unique() -> Iterator[None]:
    """Turn the unique-slug constraint's failure into `SlugTaken` (other integrity errors pass)."""
    try:
        yield
    except sqlite3.IntegrityError as exc:
        if "slug" in str(exc):
            raise SlugTaken() from None
        raise


class Store(Database):
    """The emulator's data. Methods are synchronous and short; call them from a worker thread."""

    def __init__(self, db: str | Path = ":memory:") -> None:
        super().__init__(db)
        self._migrate()

    def _migrate(self) -> None:
        with self.transaction() as conn:
            (version,) = conn.execute("PRAGMA user_version").fetchone()
            if version > SCHEMA_VERSION:
                raise RuntimeError(f"emulator database schema {version} is newer than this emulator")
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    # --- accounts --------------------------------------------------------------------------------

    @staticmethod
    def _ensure_account(conn: sqlite3.Connection, token: str) -> str:
        account_id = choices.account_id_for(token)
        conn.execute(
            "INSERT OR IGNORE INTO accounts (id, token_hash, email, name) VALUES (?, ?, ?, ?)",
            (account_id, choices.token_hash(token), choices.account_email_for(account_id),
             choices.account_name_for(account_id)),
        )
        conn.execute(
            "INSERT OR IGNORE INTO calendars (id, account_id, name, is_primary) VALUES (?, ?, ?, 1)",
            (choices.primary_calendar_id_for(account_id), account_id, choices.PRIMARY_CALENDAR_NAME),
        )
        return account_id

    def resolve(self, token: str) -> Principal | None:
        """The page whose edit token this is, else the known account of this access token, else None."""
        with self.snapshot() as conn:
            row = conn.execute("SELECT id FROM pages WHERE edit_token = ? UNION ALL "
                               "SELECT id FROM deleted_pages WHERE edit_token = ?", (token, token)).fetchone()
            if row:
                return Principal(page_id=row[0])
            row = conn.execute("SELECT id FROM accounts WHERE token_hash = ?",
                               (choices.token_hash(token),)).fetchone()
            return Principal(account_id=row[0]) if row else None

    def page_account_ids(self, page_id: int) -> list[str] | None:
        """The account ids of a page in order, or None when there is no such page."""
        with self.snapshot() as conn:
            if not conn.execute("SELECT 1 FROM pages WHERE id = ?", (page_id,)).fetchone():
                return None
            rows = conn.execute("SELECT account_id FROM page_accounts WHERE page_id = ? ORDER BY position",
                                (page_id,)).fetchall()
            return [r[0] for r in rows]

    # --- pages -----------------------------------------------------------------------------------

    def create_page(self, *, tokens: Sequence[str], name: str | None, slug: str, config: dict[str, Any],
                    edit_token: str, today: str) -> PageRecord:
        """Insert a page (and any new accounts). Raises `SlugTaken`."""
        with self.transaction() as conn:
            account_ids = [self._ensure_account(conn, t) for t in tokens]
            with _slug_unique():
                cursor = conn.execute(
                    "INSERT INTO pages (slug, name, config, edit_token, app_client_id, app_organization_id,"
                    " created_at, modified_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (slug, name, json.dumps(config), edit_token, choices.APP_CLIENT_ID,
                     choices.APP_ORGANIZATION_ID, today, today),
                )
            page_id = int(cursor.lastrowid or 0)
            self._set_accounts(conn, page_id, account_ids)
            return self._load(conn, page_id)  # type: ignore[return-value]

    def update_page(self, page_id: int, *, today: str, name: Any = _UNSET, slug: Any = _UNSET,
                    config: Any = _UNSET, tokens: Any = _UNSET) -> PageRecord | None:
        """Change the given fields (the others are kept). None when the page is gone; raises `SlugTaken`."""
        with self.transaction() as conn:
            if not conn.execute("SELECT 1 FROM pages WHERE id = ?", (page_id,)).fetchone():
                return None
            sets: dict[str, Any] = {"modified_at": today}
            if name is not _UNSET:
                sets["name"] = name
            if slug is not _UNSET:
                sets["slug"] = slug
            if config is not _UNSET:
                sets["config"] = json.dumps(config)
            assignments = ", ".join(f"{column} = ?" for column in sets)
            with _slug_unique():
                conn.execute(f"UPDATE pages SET {assignments} WHERE id = ?", (*sets.values(), page_id))
            if tokens is not _UNSET:
                self._set_accounts(conn, page_id, [self._ensure_account(conn, t) for t in tokens])
            return self._load(conn, page_id)

    def delete_page(self, page_id: int) -> bool:
        """Delete a page; False when there was none."""
        with self.transaction() as conn:
            conn.execute("DELETE FROM page_accounts WHERE page_id = ?", (page_id,))
            conn.execute("INSERT OR IGNORE INTO deleted_pages (id, edit_token) "
                         "SELECT id, edit_token FROM pages WHERE id = ?", (page_id,))
            return conn.execute("DELETE FROM pages WHERE id = ?", (page_id,)).rowcount > 0

    def get_page(self, page_id: int) -> PageRecord | None:
        with self.snapshot() as conn:
            return self._load(conn, page_id)

    def page_by_slug(self, slug: str) -> PageRecord | None:
        with self.snapshot() as conn:
            row = conn.execute("SELECT id FROM pages WHERE slug = ?", (slug,)).fetchone()
            return self._load(conn, row[0]) if row else None

    def list_pages(self, account_id: str, offset: int, limit: int) -> list[PageRecord]:
        """The pages that use this account, by id, from `offset`, at most `limit`."""
        with self.snapshot() as conn:
            rows = conn.execute(
                "SELECT DISTINCT page_id FROM page_accounts WHERE account_id = ? ORDER BY page_id"
                " LIMIT ? OFFSET ?", (account_id, limit, offset),
            ).fetchall()
            pages = [self._load(conn, r[0]) for r in rows]
            return [p for p in pages if p is not None]

    def count_pages(self, account_id: str) -> int:
        """How many pages use this account (``view=count``): counted on the account's index, no page read."""
        with self.snapshot() as conn:
            (count,) = conn.execute("SELECT COUNT(DISTINCT page_id) FROM page_accounts WHERE account_id = ?",
                                    (account_id,)).fetchone()
            return int(count)

    @staticmethod
    def _set_accounts(conn: sqlite3.Connection, page_id: int, account_ids: list[str]) -> None:
        conn.execute("DELETE FROM page_accounts WHERE page_id = ?", (page_id,))
        conn.executemany("INSERT INTO page_accounts (page_id, position, account_id) VALUES (?, ?, ?)",
                         [(page_id, i, a) for i, a in enumerate(account_ids)])

    @staticmethod
    def _load(conn: sqlite3.Connection, page_id: int) -> PageRecord | None:
        row = conn.execute(
            "SELECT id, slug, name, config, edit_token, app_client_id, app_organization_id, created_at,"
            " modified_at FROM pages WHERE id = ?", (page_id,),
        ).fetchone()
        if row is None:
            return None
        accounts = conn.execute(
            "SELECT a.id, a.email, a.name FROM page_accounts pa JOIN accounts a ON a.id = pa.account_id"
            " WHERE pa.page_id = ? ORDER BY pa.position", (page_id,),
        ).fetchall()
        return PageRecord(
            id=row[0], slug=row[1], name=row[2], config=json.loads(row[3]), edit_token=row[4],
            app_client_id=row[5], app_organization_id=row[6], created_at=row[7], modified_at=row[8],
            accounts=tuple(Account(*a) for a in accounts),
        )
