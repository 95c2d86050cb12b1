"""``provisioner state migrate``: move state between backends (lockfile <-> PostgreSQL), losslessly.

The copy keeps the lineage, the serial, every page and every pending create, and each edit token's
sealed form (the bytes at rest), so file -> PostgreSQL -> file gives back the same lockfile, byte for
byte. Both sides are locked while the state moves; a target that already holds state is refused.
The source is left as it was: switching the configuration over is the user's step.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import StateError
from ..fileio import atomic_write
from ..secrets import Sealer
from .base import Holder, State, StateBackend
from .lock import hold_lock
from .lockfile import LockfileBackend

if TYPE_CHECKING:
    from .postgres import PostgresBackend

_DSN_SCHEMES = ("postgresql://", "postgres://")


_CONNINFO = re.compile(r"\s*[A-Za-z_]+\s*=")  # libpq's key=value form: "host=db password=..."


def is_dsn(spec: str) -> bool:
    """A PostgreSQL DSN, as a URI or in libpq's key=value form (never taken for a file name: it
    would be created, and printed, with the password in it)."""
    return spec.startswith(_DSN_SCHEMES) or _CONNINFO.match(spec) is not None


def open_backend(spec: str, sealer: Sealer, target: str = "default") -> StateBackend:
    """The backend for ``spec``: a ``postgresql://`` or ``postgres://`` DSN is PostgreSQL (state
    ``target`` in it), anything else a lockfile path. Backends opened with the same sealer share
    its sealed forms (`Sealer`), so a state moved between them keeps its bytes."""
    if is_dsn(spec):
        from .postgres import PostgresBackend  # psycopg is loaded only by those who use PostgreSQL

        return PostgresBackend(spec, sealer, target)
    return LockfileBackend(Path(spec), sealer)


def is_empty(state: State) -> bool:
    """No state was ever written: nothing managed, nothing pending, serial 0."""
    return state.serial == 0 and not state.resources and not state.pending_creates


def migrate(source: StateBackend, target: StateBackend, api_url: str, holder: Holder) -> State:
    """Copy the state of ``source`` into ``target`` exactly, and return it.

    Holds the source's apply lock throughout (folding an interrupted apply first, as any apply
    would), then the target's. Refuses (StateError) a source without state, a target that already
    holds state, state made for another API, and a copy that does not read back identical.
    Raises `LockHeld` if either side is being applied to.
    """
    if source.location == target.location:
        raise StateError(f"cannot migrate {source.location} onto itself")
    with source.transaction(api_url, holder) as tx:
        state = tx.state
        if is_empty(state):
            raise StateError(f"{source.location} has no state yet: there is nothing to migrate")
        if isinstance(target, LockfileBackend):
            _into_lockfile(target, state, api_url, holder)
        else:
            _into_postgres(target, state, api_url, holder)  # type: ignore[arg-type]  # the only other backend
    return state


def _verify(target: StateBackend, state: State, api_url: str) -> None:
    """Read the copy back (while its lock is still held) and compare it with what was sent."""
    if target.read(api_url) != state:
        raise StateError(f"the state written to {target.location} does not read back identical to its source; "
                         f"keep using the source and report this")


def _refuse_overwrite(location: str, what: str) -> StateError:
    return StateError(f"{location} already holds state ({what}); migrate never overwrites state: "
                      f"choose an empty target, or remove that state first")


def _into_lockfile(target: LockfileBackend, state: State, api_url: str, holder: Holder) -> None:
    with hold_lock(target.lock_path, holder, target.location):
        if target.path.exists() or target.journal_path.exists():
            existing = target.path if target.path.exists() else target.journal_path
            raise _refuse_overwrite(target.location, f"{existing.name} exists")
        try:
            atomic_write(target.path, target.render(state))
        except OSError as exc:
            raise StateError(f"cannot write {target.location}: {exc.strerror}") from None
        _verify(target, state, api_url)


def _into_postgres(target: PostgresBackend, state: State, api_url: str, holder: Holder) -> None:
    with target.transaction(api_url, holder) as tx:
        current = tx.state
        if not is_empty(current):
            raise _refuse_overwrite(target.location, f"serial {current.serial}, {len(current.resources)} page(s)")
        tx.replace_all(state)
        _verify(target, state, api_url)
