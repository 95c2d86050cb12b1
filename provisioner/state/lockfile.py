"""The file state backend: ``pages.lock``, its crash journal and its apply lock.

Three files side by side:

- ``pages.lock``: the state, JSON with sorted keys, 2-space indent and a trailing newline, so the same
  state is always the same bytes. Edit tokens are sealed (`secrets.Sealer`); the sealer reuses a
  token's sealed form as long as the token does not change, because sealing is randomised and would
  otherwise rewrite every line on every write. Written atomically (temp file, fsync, rename, fsync of the directory),
  once per transaction (and once more to fold a crashed apply's journal). Creates whose outcome is
  still unknown when an apply ends are kept under ``pending_creates`` (a key present only when there
  are some), so none is ever lost.
- ``pages.lock.journal``: the steps of the apply in progress (`provisioner.journal`). `read` replays
  it in memory; a transaction folds it into ``pages.lock`` when it ends, or when the next transaction
  begins after a crash. Its header names the lineage and serial it applies to: a journal whose steps
  are already in the lockfile (serial + 1: the crash came after the write, before the removal) is
  recognised and not applied twice.
- ``pages.lock.lock``: the `flock` that lets one apply at a time in (`state.lock`).

A symlinked lockfile is written through (the link stays, the file it points to is replaced) and its
journal and lock sit beside that real file, so every name for one state shares one lock. Reading
refuses a key written twice in one object (two entries for one address: a bad merge), two addresses
holding one page id, and addresses that are no path under ``pages/``, each with its line. A write that
fails (a full disk) is a `StateError`: the lockfile stays byte-identical and the journal keeps the steps.
"""

from __future__ import annotations

import json
import os
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..addresses import address_problem, shown
from ..errors import StateError
from ..fileio import atomic_write
from ..journal import (
    Journal,
    JournalHeader,
    JournalWriter,
    Step,
    StepRecorder,
    apply_step,
    read_journal,
    remove_journal,
    replay,
)
from ..secrets import Sealer
from .base import NO_TOKEN, STATE_VERSION, STATE_VERSION_V3, Holder, Resource, State, same_api_url, shared_page_id
from .jsonkeys import DuplicateKey, key_lines, loads_strict
from .lock import hold_lock

_TOP_KEYS = {"version", "lineage", "serial", "api_url", "pages", "pending_creates"}
_PAGE_KEYS = {"id", "slug", "name", "edit_token", "config", "tokens_digest", "prevent_destroy"}
_V3_PAGE_KEYS = {"id", "grant", "slug", "name", "config", "prevent_destroy"}  # no edit token, no tokens
_HAND_EDITED = "edited by hand or damaged; restore it from git"


class _PageCodec:
    """A `Resource` to and from its JSON form, the edit token sealed by ``sealer`` (which keeps an
    unchanged token's sealed form, so the same state is the same bytes)."""

    def __init__(self, sealer: Sealer):
        self._sealer = sealer

    def encode(self, r: Resource) -> dict[str, Any]:
        if r.grant is not None:  # a v3 configuration: its id and grant, neither a secret
            return {"id": r.id, "grant": r.grant, "slug": r.slug, "name": r.name, "config": r.config,
                    "prevent_destroy": r.prevent_destroy}
        return {"id": r.id, "slug": r.slug, "name": r.name, "edit_token": self._sealer.seal(r.edit_token),
                "config": r.config, "tokens_digest": r.tokens_digest, "prevent_destroy": r.prevent_destroy}

    def decode(self, address: str, raw: Any, where: str) -> Resource:
        at = f"{where}: page {address}"
        if not isinstance(raw, dict):
            raise StateError(f"{at} is not an object; {_HAND_EDITED}")
        if "grant" in raw:
            return self._decode_v3(address, raw, at)
        unknown = sorted(set(raw) - _PAGE_KEYS)
        if unknown:
            raise StateError(f"{at} has unknown field(s) {', '.join(unknown)}; {_HAND_EDITED}")
        ident = _field(raw, "id", int, at)
        slug = _field(raw, "slug", str, at)
        sealed = _field(raw, "edit_token", str, at)
        config = _field(raw, "config", dict, at)
        name = _field(raw, "name", str, at, optional=True)
        digest = _field(raw, "tokens_digest", str, at, optional=True)
        guard = raw.get("prevent_destroy", False)
        if not isinstance(guard, bool):
            raise StateError(f"{at}: prevent_destroy must be true or false; {_HAND_EDITED}")
        token = self._sealer.unseal(sealed, what=f"the edit token of {address} in {where}")
        return Resource(address=address, id=ident, slug=slug, edit_token=token, name=name, config=config,
                        tokens_digest=digest, prevent_destroy=guard)


    def _decode_v3(self, address: str, raw: dict[str, Any], at: str) -> Resource:
        unknown = sorted(set(raw) - _V3_PAGE_KEYS)
        if unknown:
            raise StateError(f"{at} has unknown field(s) {', '.join(unknown)}; {_HAND_EDITED}")
        guard = raw.get("prevent_destroy", False)
        if not isinstance(guard, bool):
            raise StateError(f"{at}: prevent_destroy must be true or false; {_HAND_EDITED}")
        return Resource(address=address, id=_field(raw, "id", str, at), slug=_field(raw, "slug", str, at),
                        edit_token=NO_TOKEN, name=_field(raw, "name", str, at, optional=True),
                        config=_field(raw, "config", dict, at), prevent_destroy=guard,
                        grant=_field(raw, "grant", str, at))


_TYPE_NAMES = {int: "an integer", str: "a string", dict: "an object"}


def _field(raw: dict[str, Any], key: str, kind: type, at: str, *, optional: bool = False) -> Any:
    if key not in raw:
        if optional:
            return None
        raise StateError(f"{at} has no {key!r}; {_HAND_EDITED}")
    value = raw[key]
    if value is None and optional:
        return None
    if not isinstance(value, kind) or isinstance(value, bool):
        raise StateError(f"{at}: {key!r} must be {_TYPE_NAMES[kind]}; {_HAND_EDITED}")
    return value


class LockfileBackend:
    """`StateBackend` over ``pages.lock`` (see the module docstring for the files and guarantees)."""

    def __init__(self, path: Path, sealer: Sealer):
        self.location = str(path)
        # A symlinked lockfile is written through: the real file is replaced (never the link), and its
        # journal and lock sit beside the real file, so every name for one state shares one lock.
        self.path = Path(os.path.realpath(path)) if Path(path).is_symlink() else Path(path)
        self.journal_path = self.path.with_name(self.path.name + ".journal")
        self.lock_path = self.path.with_name(self.path.name + ".lock")
        self._codec = _PageCodec(sealer)

    # --- reading ---------------------------------------------------------------------------------

    def read(self, api_url: str) -> State:
        """The state with any leftover journal replayed in memory; writes nothing.

        A missing lockfile is an empty state with a fresh lineage and serial 0. Refuses (StateError)
        a lockfile or journal made for another API URL, an unknown version, a corrupt or hand-edited
        file, an edit token sealed with another key, and a journal that belongs to another state.
        """
        try:
            state, journal, _ = self._load(api_url)
        except _Mismatch:
            # An apply may have folded its journal and begun another between our two file reads.
            state, journal, _ = self._load(api_url)
        replayed = replay(state, journal.steps if journal else [], self.location)
        if (replayed.resources, replayed.pending_creates) != (state.resources, state.pending_creates):
            # An interrupted apply's steps: the next transaction folds them into exactly this serial.
            replayed = replace(replayed, serial=state.serial + 1)
        return replayed

    def render(self, state: State) -> bytes:
        """The exact bytes of the lockfile for ``state``."""
        return "".join(self.render_chunks(state)).encode()

    def render_chunks(self, state: State) -> Iterator[str]:
        """The lockfile for ``state`` as text chunks (for writing without holding it whole)."""
        v3 = any(r.grant is not None for r in state.resources.values())
        doc: dict[str, Any] = {
            "version": STATE_VERSION_V3 if v3 else STATE_VERSION,
            "lineage": state.lineage,
            "serial": state.serial,
            "api_url": state.api_url,
            "pages": {address: self._codec.encode(r) for address, r in state.resources.items()},
        }
        if state.pending_creates:  # creates whose outcome is unknown: kept until resolved
            doc["pending_creates"] = dict(state.pending_creates)
        yield from json.JSONEncoder(sort_keys=True, indent=2, ensure_ascii=False).iterencode(doc)
        yield "\n"

    def _read_lockfile(self, api_url: str) -> State | None:
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StateError(f"cannot read {self.location}: {exc.strerror}") from None
        return self._parse(data, api_url)

    def _parse(self, data: bytes, api_url: str) -> State:
        where = self.location
        try:
            text = data.decode("utf-8")
            doc = loads_strict(text)
        except DuplicateKey as exc:
            raise StateError(_duplicate_message(where, text, exc.key)) from None
        except UnicodeDecodeError:
            raise StateError(f"{where} is not UTF-8 text; it is corrupt: restore it from git") from None
        except json.JSONDecodeError as exc:
            raise StateError(
                f"{where} is not valid JSON ({exc.msg}: line {exc.lineno} column {exc.colno}): it is truncated or "
                f"corrupt; restore it from git"
            ) from None
        if not isinstance(doc, dict):
            raise StateError(f"{where} is not a provisioner lockfile (expected a JSON object)")
        version = doc.get("version")
        if version is None:
            raise StateError(f"{where} has no format version; it is not a provisioner lockfile, or was "
                             f"{_HAND_EDITED}")
        if version not in (STATE_VERSION, STATE_VERSION_V3) or isinstance(version, bool):
            newer = isinstance(version, int) and not isinstance(version, bool) and version > STATE_VERSION_V3
            hint = "upgrade provisioner" if newer else _HAND_EDITED
            raise StateError(f"{where} has format version {version!r}, but this provisioner reads versions "
                             f"{STATE_VERSION} (v2) and {STATE_VERSION_V3} (v3); {hint}")
        unknown = sorted(set(doc) - _TOP_KEYS)
        if unknown:
            raise StateError(f"{where} has unknown field(s) {', '.join(unknown)}; {_HAND_EDITED}")
        lineage = _field(doc, "lineage", str, where)
        serial = _field(doc, "serial", int, where)
        url = _field(doc, "api_url", str, where)
        pages = _field(doc, "pages", dict, where)
        pending = doc.get("pending_creates", {})
        if serial < 0 or not lineage:
            raise StateError(f"{where} has an invalid lineage or serial; {_HAND_EDITED}")
        if not isinstance(pending, dict) or not all(isinstance(v, str) for v in pending.values()):
            raise StateError(f"{where}: 'pending_creates' must map addresses to slugs; {_HAND_EDITED}")
        if not same_api_url(url, api_url):
            raise StateError(f"{where} belongs to {url}, not {api_url}: pass --api-url {url}, or use "
                             f"another --lockfile for {api_url}")
        for section, addresses in (("pages", pages), ("pending_creates", pending)):
            for address in addresses:
                problem = address_problem(address)
                if problem is not None:
                    raise StateError(f"{where}: address {shown(address)} {_line_of(text, (section, address))}is not "
                                     f"valid ({problem}); {_HAND_EDITED}")
        resources = {address: self._codec.decode(address, raw, where) for address, raw in pages.items()}
        _refuse_shared_ids(where, text, resources)
        return State(lineage=lineage, serial=serial, api_url=url, resources=resources,
                     pending_creates=dict(pending))

    def _load(self, api_url: str) -> tuple[State, Journal | None, bool]:
        """(lockfile state, journal steps still to apply or None, whether a journal file exists)."""
        state = self._read_lockfile(api_url)
        journal = read_journal(self.journal_path, self._codec.decode)
        exists = journal is not None or self.journal_path.exists()
        if journal is None:
            fresh = State(lineage=str(uuid.uuid4()), serial=0, api_url=api_url)
            return state or fresh, None, exists
        head, jname = journal.header, self.journal_path
        if not same_api_url(head.api_url, api_url):
            raise StateError(f"{jname} belongs to {head.api_url}, not {api_url}")
        if state is None:
            if head.serial != 0:
                raise StateError(
                    f"{jname} continues serial {head.serial} of a state, but {self.location} is missing: "
                    f"restore {self.location} from git, or move the journal aside to start afresh"
                )
            return State(lineage=head.lineage, serial=0, api_url=api_url), journal, exists
        if head.lineage == state.lineage and head.serial == state.serial:
            return state, journal, exists
        if head.lineage == state.lineage and head.serial + 1 == state.serial:
            return state, None, exists  # already folded: the crash came before the journal was removed
        raise _Mismatch(
            f"{jname} was written for lineage {head.lineage} serial {head.serial}, but {self.location} is "
            f"lineage {state.lineage} serial {state.serial}: {self.location} was replaced while an apply "
            f"was interrupted. Move the journal aside (it lists that apply's steps) to continue"
        )

    # --- writing ---------------------------------------------------------------------------------

    @contextmanager
    def transaction(self, api_url: str, holder: Holder) -> Iterator[_FileTransaction]:
        """Lock, recover any interrupted apply, and yield a transaction journaling every step.

        On leaving the block, normally or by an exception, the steps are folded into the lockfile
        once (serial + 1, only if the state changed) and the journal is removed. Raises `LockHeld`
        at once if another apply holds the lock.
        """
        with hold_lock(self.lock_path, holder, self.location):
            state, journal, exists = self._load(api_url)
            if exists:  # an interrupted apply: fold its steps in before anything else
                state = self._fold(state, replay(state, journal.steps if journal else [], self.location))
            header = JournalHeader(state.lineage, state.serial, state.api_url)
            writer = JournalWriter(self.journal_path, header, self._codec.encode)
            tx = _FileTransaction(state, writer, self.location)
            try:
                yield tx
            finally:
                tx.closed = True
                writer.close()
                if writer.started:
                    self._fold(state, tx.state)

    def _fold(self, base: State, new: State) -> State:
        """Write ``new`` over ``base`` (serial + 1) if it differs, then remove the journal."""
        if new.resources != base.resources or new.pending_creates != base.pending_creates:
            new = replace(new, lineage=base.lineage, serial=base.serial + 1)
            try:
                atomic_write(self.path, self.render_chunks(new))
            except OSError as exc:  # disk full, read-only, quota...: the old lockfile and the journal stay
                kept = f"; every step is kept in {self.journal_path}" if self.journal_path.exists() else ""
                raise StateError(f"cannot write {self.location}: {exc.strerror or exc}. It is unchanged{kept}, and "
                                 f"the next run picks up from there once the problem is fixed") from None
        else:
            new = base
        remove_journal(self.journal_path)
        return new


def _line_of(text: str, path: tuple[str, ...]) -> str:
    lines = key_lines(text).get(path)
    return f"(line {lines[0]}) " if lines else ""


def _duplicate_message(where: str, text: str, key: str) -> str:
    found = sorted(((p, n) for p, n in key_lines(text).items() if p[-1] == key and len(n) > 1), key=lambda x: len(x[0]))
    if not found:
        return f"{where} writes the key {shown(key)} twice in one object; {_HAND_EDITED}"
    path, lines = found[0]
    what = f"address {shown(key)}" if path[:1] in (("pages",), ("pending_creates",)) and len(path) == 2 else (
        f"the key {'.'.join(shown(p) for p in path)}")
    return (f"{where} line {lines[1]}: {what} is written twice (first on line {lines[0]}); JSON would silently keep "
            f"only the last. Keep one of them (a bad merge?); {_HAND_EDITED}")


def _refuse_shared_ids(where: str, text: str, resources: dict[str, Resource]) -> None:
    """One live page at two addresses would be updated twice and deleted by one of them."""
    shared = shared_page_id(resources)
    if shared is not None:
        first, second, ident = shared
        at = key_lines(text).get(("pages", second), [0])[0]
        raise StateError(
            f"{where} line {at}: addresses {shown(first)} and {shown(second)} both hold page {ident}; one page "
            f"is managed at one address only. Keep the entry whose page file exists (a bad merge or a hand "
            f"edit); {_HAND_EDITED}")


class _Mismatch(StateError):
    """The journal belongs to another state (or a concurrent apply moved on between two reads)."""


class _FileTransaction(StepRecorder):
    """A `Transaction`: each step is checked, journaled (durably) and applied to `state`."""

    def __init__(self, state: State, journal: JournalWriter, location: str):
        self._state = state
        self._journal = journal
        self._location = location
        self._mutex = threading.Lock()  # steps stay whole and in order if an apply uses threads
        self.closed = False

    @property
    def state(self) -> State:
        return self._state

    def ready(self) -> None:
        with self._mutex:
            if self.closed:
                raise StateError(f"the transaction on {self._location} has ended")
            self._journal.open()

    def _step(self, step: Step) -> None:
        with self._mutex:
            if self.closed:
                raise StateError(f"the transaction on {self._location} has ended")
            new = apply_step(self._state, step, self._location)  # refuses before anything is written
            self._journal.append(step)
            self._state = new
