"""The SQLite connection every emulated API opens: one file may hold v2 and v3 tables, and several
processes may open it at once (the chaos tests and `emulator serve` beside the embedded emulator)."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

BUSY_TIMEOUT_MS = 10_000


def connect(db: str | Path) -> sqlite3.Connection:
    """An autocommit connection usable from worker threads, waiting up to `BUSY_TIMEOUT_MS` for
    other writers; a file database is switched to WAL (safe against another process doing the same)."""
    path = str(db)
    if path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys = ON")
    if path != ":memory:":
        _enable_wal(conn)
        conn.execute("PRAGMA synchronous = NORMAL")
    return conn


def _enable_wal(conn: sqlite3.Connection) -> None:
    """Switch the database to WAL. Two processes opening a new file at once can make the switch fail
    at once with "database is locked" (SQLite calls no busy handler there), or leave the old mode:
    retry, with a short backoff, for up to the busy timeout."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    delay = 0.001
    while True:
        try:
            (mode,) = conn.execute("PRAGMA journal_mode = WAL").fetchone()
            if str(mode).lower() == "wal":
                return
            failure = f"the journal mode stayed {mode!r}"
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc):
                raise
            failure = str(exc)
        if time.monotonic() > deadline:
            raise sqlite3.OperationalError(f"cannot switch the emulator database to WAL: {failure}")
        time.sleep(delay)  # another process is switching it: wait for it to finish
        delay = min(delay * 2, 0.05)


class Database:
    """One connection behind a lock: the base of each emulated API's store. Methods of a store are
    synchronous and short; call them from a worker thread."""

    def __init__(self, db: str | Path) -> None:
        self._lock = threading.Lock()
        self._conn = connect(db)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction: committed on success, rolled back on any exception."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    @contextmanager
    def snapshot(self) -> Iterator[sqlite3.Connection]:
        """A read transaction."""
        with self._lock:
            self._conn.execute("BEGIN")
            try:
                yield self._conn
            finally:
                self._conn.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._conn.close()
