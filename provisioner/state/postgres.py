"""The PostgreSQL state backend: one row per target, one row per page, the database as the journal.

Tables, in a schema (``provisioner`` unless told otherwise), created on the first transaction and
versioned in ``meta`` (a newer schema is refused; an older one is migrated forward):

- ``states``: one row per target: lineage, serial, API URL, the pending creates (a JSON object of
  address -> slug) and ``dirty``, set by every step and cleared when the serial is bumped.
- ``pages``: one row per managed page; the edit token is sealed with `secrets.Sealer`, exactly as in
  the lockfile (the sealer keeps a sealed form while the token does not change), the config is ``jsonb``;
  a v3 configuration has its id (text, schema 2) and ``grant_id``, and no edit token.
- ``holders``: who holds each target's apply lock, named only while its connection holds the lock.

Each step of a transaction commits on its own before it returns, so a crash loses at most the step in
flight and the next ``read`` sees the rest, pending creates included. The serial moves once, when the
transaction ends (+1 if the state differs from where it began), or, after a crash, when the next
transaction begins (+1 if any step was committed).

One apply at a time per target: a session-level ``pg_try_advisory_lock`` on the apply's own
connection, which also carries its steps, so no step can be written without the lock. A second apply
is refused at once (`LockHeld`) naming the holder, looked up through ``pg_locks`` so that a holder
whose connection died is never named. When a holder dies its connection dies with it, and the
database releases the lock: there is nothing to clean up by hand. ``read`` never takes the lock.
"""

from __future__ import annotations

import hashlib
import re
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict
from psycopg.types.json import Jsonb

from ..addresses import address_problem, shown
from ..errors import StateError
from ..journal import Forget, IntendCreate, Move, Record, Step, StepRecorder, apply_step
from ..secrets import Sealer
from .base import NO_TOKEN, Holder, Resource, State, same_api_url, shared_page_id
from .lock import held_error

SCHEMA_VERSION = 2
LOCK_CLASS = 0x70726F76  # "prov": the first key of every advisory lock taken here
_DDL_LOCK = 0  # second key of the lock that serialises schema creation (targets hash to 1..2**31-1)
_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")

# Each version's statements; a database at version N gets those of N+1.. in order.
_MIGRATIONS: dict[int, list[str]] = {
    1: [
        """CREATE TABLE {s}.states (target text PRIMARY KEY, lineage text NOT NULL CHECK (lineage <> ''),
            serial bigint NOT NULL CHECK (serial >= 0), api_url text NOT NULL,
            pending_creates jsonb NOT NULL DEFAULT '{{}}' CHECK (jsonb_typeof(pending_creates) = 'object'),
            dirty boolean NOT NULL DEFAULT false, updated_at timestamptz NOT NULL DEFAULT now())""",
        """CREATE TABLE {s}.pages (target text NOT NULL REFERENCES {s}.states (target) ON DELETE CASCADE,
            address text NOT NULL, id bigint NOT NULL, slug text NOT NULL, name text, edit_token text NOT NULL,
            config jsonb NOT NULL CHECK (jsonb_typeof(config) = 'object'), tokens_digest text,
            prevent_destroy boolean NOT NULL DEFAULT false, PRIMARY KEY (target, address))""",
        """CREATE TABLE {s}.holders (target text PRIMARY KEY, host text NOT NULL, pid integer NOT NULL,
            started text NOT NULL, ci_job_url text, backend_pid integer NOT NULL, backend_start timestamptz)""",
    ],
    # v3 configurations: a UUID id and the grant, no edit token (v2 rows keep theirs, ids as text).
    2: [
        "ALTER TABLE {s}.pages ALTER COLUMN id TYPE text USING id::text",
        "ALTER TABLE {s}.pages ALTER COLUMN edit_token DROP NOT NULL",
        "ALTER TABLE {s}.pages ADD COLUMN grant_id text",
    ],
}


def _first_line(exc: BaseException, hidden: tuple[str, ...] = ()) -> str:
    """The first line of a database error, with every ``hidden`` text (the DSN, its password) masked:
    libpq quotes parts of a connection string in some of its errors."""
    text = str(exc).strip()
    for secret in hidden:
        text = text.replace(secret, "********")
    return text.splitlines()[0] if text else type(exc).__name__


def _hidden(dsn: str, params: dict[str, Any]) -> tuple[str, ...]:
    """What of a DSN must never be shown: the DSN itself and its password, as written and decoded."""
    password = str(params.get("password") or "")
    texts = {dsn, password, quote(password, safe=""), quote(password)}
    return tuple(sorted((t for t in texts if t), key=len, reverse=True))


class PostgresBackend:
    """`StateBackend` in PostgreSQL (see the module docstring for the tables and guarantees).

    ``dsn`` is a libpq connection string or URI; it never appears in messages (``location`` shows
    host, port, database and target only). ``target`` names this state among others in the same
    database; ``schema`` is where the tables live.
    """

    def __init__(self, dsn: str, sealer: Sealer, target: str = "default", *, schema: str = "provisioner"):
        if not target:
            raise StateError("a PostgreSQL state target needs a name")
        if not _NAME.fullmatch(schema):
            raise StateError(f"invalid PostgreSQL schema name {schema!r}: use lower-case letters, digits and _")
        try:
            params = conninfo_to_dict(dsn)
        except psycopg.Error:
            raise StateError("the PostgreSQL state DSN is not a valid connection string") from None
        self._dsn = dsn
        self._hidden = _hidden(dsn, params)
        self._connect_timeout = None if "connect_timeout" in params else 10
        self.target = target
        self.schema = schema
        where = f"{params.get('host') or 'localhost'}:{params.get('port') or 5432}/{params.get('dbname', '')}"
        self.location = f"postgresql://{where} target {target}" + (
            f" (schema {schema})" if schema != "provisioner" else "")
        digest = hashlib.sha256(f"{schema}\0{target}".encode()).digest()
        self.lock_key = (LOCK_CLASS, int.from_bytes(digest[:4], "big") % (2**31 - 1) + 1)
        self._sealer = sealer
        self._s = sql.Identifier(schema)

    def __repr__(self) -> str:
        return f"PostgresBackend({self.location!r})"

    # --- connections and errors --------------------------------------------------------------------

    def _connect(self, application_name: str = "provisioner") -> psycopg.Connection[Any]:
        extra: dict[str, Any] = {"application_name": application_name[:63]}
        if self._connect_timeout is not None:
            extra["connect_timeout"] = self._connect_timeout
        try:
            return psycopg.connect(self._dsn, autocommit=True, **extra)
        except psycopg.Error as exc:
            raise StateError(f"cannot connect to {self.location}: {_first_line(exc, self._hidden)}") from None

    @contextmanager
    def _errors(self, doing: str) -> Iterator[None]:
        """Translate database errors into StateError (psycopg's types never leave this module)."""
        try:
            yield
        except psycopg.Error as exc:
            raise StateError(f"{self.location}: cannot {doing}: {_first_line(exc, self._hidden)}") from None

    def _q(self, text: str) -> sql.Composed:
        return sql.SQL(text).format(s=self._s)

    # --- the schema ------------------------------------------------------------------------------

    def _schema_version(self, conn: psycopg.Connection[Any]) -> int | None:
        """The schema's version, or None if the tables are not there yet."""
        found = conn.execute("SELECT to_regclass(%s)", (f'"{self.schema}".meta',)).fetchone()
        if found is None or found[0] is None:
            return None
        row = conn.execute(self._q("SELECT version FROM {s}.meta")).fetchone()
        version = int(row[0]) if row else 0
        if version > SCHEMA_VERSION:
            raise StateError(f"{self.location} has schema version {version}, but this provisioner knows "
                             f"version {SCHEMA_VERSION}; upgrade provisioner")
        return version

    def _ensure_schema(self, conn: psycopg.Connection[Any]) -> None:
        """Create or migrate the tables; concurrent callers are serialised by a transaction lock."""
        if self._schema_version(conn) == SCHEMA_VERSION:
            return
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s, %s)", (LOCK_CLASS, _DDL_LOCK))
            conn.execute(self._q("CREATE SCHEMA IF NOT EXISTS {s}"))
            conn.execute(self._q("CREATE TABLE IF NOT EXISTS {s}.meta ("
                                 "one boolean PRIMARY KEY DEFAULT true CHECK (one), version integer NOT NULL)"))
            conn.execute(self._q("INSERT INTO {s}.meta (version) VALUES (0) ON CONFLICT DO NOTHING"))
            current = self._schema_version(conn) or 0
            for version in range(current + 1, SCHEMA_VERSION + 1):
                for statement in _MIGRATIONS[version]:
                    conn.execute(sql.SQL(statement).format(s=self._s))
                conn.execute(self._q("UPDATE {s}.meta SET version = %s"), (version,))

    # --- reading ---------------------------------------------------------------------------------

    def read(self, api_url: str) -> State:
        """The current state, every committed step included; takes no lock and writes nothing.

        No state yet (no tables, or no row for the target) reads as an empty state with a fresh
        lineage and serial 0. Refuses (StateError) state made for another API URL, a newer schema,
        and an edit token sealed with another key.
        """
        with self._errors("read the state"), self._connect() as conn:
            with conn.transaction():
                conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                if self._schema_version(conn) is None:
                    return State(lineage=str(uuid.uuid4()), serial=0, api_url=api_url)
                state = self._load(conn, api_url, lock=False)
        return state or State(lineage=str(uuid.uuid4()), serial=0, api_url=api_url)

    def _load(self, conn: psycopg.Connection[Any], api_url: str, *, lock: bool) -> State | None:
        row = conn.execute(self._q(
            "SELECT lineage, serial, api_url, pending_creates, dirty FROM {s}.states WHERE target = %s"
            + (" FOR UPDATE" if lock else "")), (self.target,)).fetchone()
        if row is None:
            return None
        lineage, serial, url, pending, dirty = row
        if dirty and not lock:
            serial += 1  # steps of an interrupted apply: the next transaction folds them into this serial
        if not same_api_url(url, api_url):
            raise StateError(f"{self.location} belongs to {url}, not {api_url}: use the API it was made for, "
                             f"or another state target for {api_url}")
        if not isinstance(pending, dict) or not all(isinstance(v, str) for v in pending.values()):
            raise StateError(f"{self.location}: pending_creates must map addresses to slugs; it was damaged")
        pages = conn.execute(self._q(
            "SELECT address, id, slug, name, edit_token, config, tokens_digest, prevent_destroy, grant_id "
            "FROM {s}.pages WHERE target = %s ORDER BY address"), (self.target,)).fetchall()
        resources = {r[0]: self._decode(*r) for r in pages}
        shared = shared_page_id(resources)
        if shared is not None:
            raise StateError(f"{self.location}: addresses {shown(shared[0])} and {shown(shared[1])} both hold page "
                             f"{shared[2]}; one page is managed at one address only: delete one of the two rows "
                             f"from {self.schema}.pages")
        return State(lineage=lineage, serial=int(serial), api_url=url, resources=resources,
                     pending_creates=dict(pending))

    def _decode(self, address: str, ident: str, slug: str, name: str | None, sealed: str | None, config: Any,
                digest: str | None, guard: bool, grant: str | None) -> Resource:
        problem = address_problem(address)
        if problem is not None:
            raise StateError(f"{self.location}: address {shown(address)} is not valid ({problem}); it was damaged")
        if not isinstance(config, dict):
            raise StateError(f"{self.location}: page {address} has a config that is not an object")
        if grant is not None:  # a v3 configuration: its id and grant, no edit token
            return Resource(address=address, id=str(ident), slug=slug, edit_token=NO_TOKEN, name=name, config=config,
                            prevent_destroy=bool(guard), grant=grant)
        if sealed is None or not str(ident).isdigit():
            raise StateError(f"{self.location}: page {address} has no edit token or a non-numeric id; it was damaged")
        token = self._sealer.unseal(sealed, what=f"the edit token of {address} in {self.location}")
        return Resource(address=address, id=int(ident), slug=slug, edit_token=token, name=name, config=config,
                        tokens_digest=digest, prevent_destroy=bool(guard))

    def holder(self) -> Holder | None:
        """Who holds this target's apply lock now (None if nobody, or the holder has not said yet)."""
        with self._errors("look up the lock holder"), self._connect() as conn:
            if self._schema_version(conn) is None:
                return None
            return self._holder(conn)

    def _holder(self, conn: psycopg.Connection[Any]) -> Holder | None:
        # Named only while its own session holds the lock: a dead holder's row is never shown.
        row = conn.execute(self._q(
            "SELECT h.host, h.pid, h.started, h.ci_job_url FROM pg_locks l "
            "JOIN {s}.holders h ON h.target = %s AND h.backend_pid = l.pid "
            "LEFT JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2 "
            "AND l.classid = %s::bigint::oid AND l.objid = %s::bigint::oid "
            "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
            "AND (a.backend_start IS NULL OR h.backend_start IS NULL OR a.backend_start = h.backend_start)"),
            (self.target, *self.lock_key)).fetchone()
        if row is None:
            return None
        return Holder(host=row[0], pid=int(row[1]), started=row[2], ci_job_url=row[3])

    # --- writing ---------------------------------------------------------------------------------

    @contextmanager
    def transaction(self, api_url: str, holder: Holder) -> Iterator[PostgresTransaction]:
        """Take the target's apply lock, fold any interrupted apply, and yield a transaction whose
        every step commits before it returns.

        On leaving the block, normally or by an exception, the serial is bumped once if the state
        differs from where it began. Raises `LockHeld` at once if another apply holds the lock.
        """
        conn = self._connect(f"provisioner apply: pid {holder.pid} on {holder.host}")
        try:
            with self._errors("take the apply lock"):
                # If the holder's machine vanishes (no FIN), the server drops it, and its lock, within ~1 min.
                conn.execute("SELECT set_config('tcp_keepalives_idle', '30', false), "
                             "set_config('tcp_keepalives_interval', '10', false), "
                             "set_config('tcp_keepalives_count', '3', false)")
                self._ensure_schema(conn)
                row = conn.execute("SELECT pg_try_advisory_lock(%s, %s)", self.lock_key).fetchone()
                if not (row and row[0]):
                    raise held_error(self.location, self._holder(conn))
            try:
                with self._errors("begin the transaction"):
                    conn.execute(self._q(
                        "INSERT INTO {s}.holders SELECT %s, %s, %s, %s, %s, pg_backend_pid(), "
                        "(SELECT backend_start FROM pg_stat_activity WHERE pid = pg_backend_pid()) "
                        "ON CONFLICT (target) DO UPDATE SET (host, pid, started, ci_job_url, backend_pid, "
                        "backend_start) = (SELECT excluded.host, excluded.pid, excluded.started, "
                        "excluded.ci_job_url, excluded.backend_pid, excluded.backend_start)"),
                        (self.target, holder.host, holder.pid, holder.started, holder.ci_job_url))
                    tx = PostgresTransaction(self, conn, self._begin(conn, api_url))
                try:
                    yield tx
                finally:
                    tx.closed = True
                    with self._errors("record the end of the apply"):
                        conn.execute(self._q(
                            "UPDATE {s}.states SET serial = serial + %s, dirty = false, updated_at = now() "
                            "WHERE target = %s"), (1 if tx.changed else 0, self.target))
            finally:
                self._release(conn)
        finally:
            conn.close()  # the lock dies with the connection in any case

    def _release(self, conn: psycopg.Connection[Any]) -> None:
        """Unlock now, so that the next apply (even in this process) finds the lock free at once."""
        try:
            conn.execute(self._q("DELETE FROM {s}.holders WHERE target = %s AND backend_pid = pg_backend_pid()"),
                         (self.target,))
            conn.execute("SELECT pg_advisory_unlock(%s, %s)", self.lock_key)
        except psycopg.Error:
            pass  # the connection is broken: closing it is what frees the lock

    def _begin(self, conn: psycopg.Connection[Any], api_url: str) -> State:
        """The state at the start of a transaction (created if missing); an interrupted apply's steps
        are already in the rows, so folding it is only the serial bump it never made."""
        with conn.transaction():
            conn.execute(self._q(
                "INSERT INTO {s}.states (target, lineage, serial, api_url) VALUES (%s, %s, 0, %s) "
                "ON CONFLICT (target) DO NOTHING"), (self.target, str(uuid.uuid4()), api_url))
            conn.execute(self._q("UPDATE {s}.states SET serial = serial + 1, dirty = false, updated_at = now() "
                                 "WHERE target = %s AND dirty"), (self.target,))
            state = self._load(conn, api_url, lock=True)
        assert state is not None
        return state

    def _write_step(self, conn: psycopg.Connection[Any], new: State, touched: tuple[str, ...]) -> None:
        """Commit the rows of ``touched`` addresses as they are in ``new``, and mark the state dirty."""
        with conn.transaction():
            for address in touched:
                r = new.resources.get(address)
                if r is None:
                    conn.execute(self._q("DELETE FROM {s}.pages WHERE target = %s AND address = %s"),
                                 (self.target, address))
                else:
                    self._upsert(conn, r)
            added = {a: new.pending_creates[a] for a in touched if a in new.pending_creates}
            conn.execute(self._q(
                "UPDATE {s}.states SET pending_creates = (pending_creates - %s::text[]) || %s, dirty = true, "
                "updated_at = now() WHERE target = %s"), (list(touched), Jsonb(added), self.target))

    def _upsert(self, conn: psycopg.Connection[Any], r: Resource) -> None:
        conn.execute(self._q(
            "INSERT INTO {s}.pages (target, address, id, slug, name, edit_token, config, tokens_digest, "
            "prevent_destroy, grant_id) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (target, address) "
            "DO UPDATE SET (id, slug, name, edit_token, config, tokens_digest, prevent_destroy, grant_id) = (SELECT "
            "excluded.id, excluded.slug, excluded.name, excluded.edit_token, excluded.config, "
            "excluded.tokens_digest, excluded.prevent_destroy, excluded.grant_id)"),
            (self.target, r.address, str(r.id), r.slug, r.name,
             self._sealer.seal(r.edit_token) if r.grant is None else None, Jsonb(r.config),
             r.tokens_digest, r.prevent_destroy, r.grant))

    def _replace_all(self, conn: psycopg.Connection[Any], state: State) -> None:
        """Make the target's rows exactly ``state`` (lineage and serial included), in one commit."""
        with conn.transaction():
            conn.execute(self._q("DELETE FROM {s}.pages WHERE target = %s"), (self.target,))
            conn.execute(self._q(
                "UPDATE {s}.states SET lineage = %s, serial = %s, api_url = %s, pending_creates = %s, "
                "dirty = false, updated_at = now() WHERE target = %s"),
                (state.lineage, state.serial, state.api_url, Jsonb(dict(state.pending_creates)), self.target))
            for r in state.resources.values():
                self._upsert(conn, r)


def _touched(step: Step) -> tuple[str, ...]:
    match step:
        case IntendCreate(address, _) | Forget(address):
            return (address,)
        case Record(resource):
            return (resource.address,)
        case Move(old, new):
            return (old, new)
    raise TypeError(f"not a step: {type(step).__name__}")


class PostgresTransaction(StepRecorder):
    """A `Transaction` on PostgreSQL: each step is checked, committed, then applied to `state`."""

    def __init__(self, backend: PostgresBackend, conn: psycopg.Connection[Any], state: State):
        self._backend = backend
        self._conn = conn
        self._base = state  # where the transaction began: the serial moves only if the state differs
        self._state = state
        self._mutex = threading.Lock()  # steps stay whole and in order if an apply uses threads
        self.closed = False

    @property
    def state(self) -> State:
        return self._state

    @property
    def changed(self) -> bool:
        """Whether the state differs from where the transaction began (or was last replaced)."""
        s, b = self._state, self._base
        return s.resources != b.resources or s.pending_creates != b.pending_creates

    def replace_all(self, state: State) -> None:
        """Overwrite this target with ``state`` exactly (for `state migrate`); not folded into a new
        serial when the transaction ends. The caller checks the target may be overwritten."""
        with self._mutex:
            self._check_open()
            with self._backend._errors("replace the state"):
                self._backend._replace_all(self._conn, state)
            self._base = self._state = state

    def ready(self) -> None:
        self._check_open()  # each step commits on the connection the lock is held on: nothing to prepare

    def _check_open(self) -> None:
        if self.closed:
            raise StateError(f"the transaction on {self._backend.location} has ended")

    def _step(self, step: Step) -> None:
        with self._mutex:
            self._check_open()
            new = apply_step(self._state, step, self._backend.location)  # refuses before anything is written
            if new == self._state:
                return
            with self._backend._errors("record a step"):
                self._backend._write_step(self._conn, new, _touched(step))
            self._state = new
