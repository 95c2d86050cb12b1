"""The crash journal: an append-only JSON-lines record of an apply's steps, durable step by step.

An apply appends one line per step and the state backend folds the whole journal into the lockfile
once, when the apply ends. A crash or kill at any moment therefore loses at most the step being
written, and the next `read` replays the journal so the interrupted apply's progress is visible.

File format (UTF-8, one JSON object per line, keys sorted)::

    {"api_url": U, "journal": 1, "lineage": L, "serial": N}   header: the state the steps apply to
    {"address": A, "op": "intend_create", "slug": S}
    {"address": A, "op": "record", "page": {...}}             page as in the lockfile, token sealed
    {"address": A, "op": "forget"}
    {"new": B, "old": A, "op": "move"}

Each line is written whole, then fsync'd, before `JournalWriter.append` returns. A step whose line
did not reach the disk whole never returned to its caller, so replay ignores a last line that is
unterminated (torn) or unparseable; a bad line anywhere before it is corruption and is refused.
This module knows nothing of sealing: pages are encoded and decoded by callables from the backend.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .addresses import address_problem
from .errors import StateError
from .fileio import fsync_dir

if TYPE_CHECKING:  # imported for types only: `state.lockfile` imports this module
    from .state.base import Resource, State

JOURNAL_VERSION = 1

EncodePage = Callable[["Resource"], dict[str, Any]]
DecodePage = Callable[[str, Any, str], "Resource"]  # (address, raw page, where for messages) -> Resource


# --- steps ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IntendCreate:
    address: str
    slug: str


@dataclass(frozen=True)
class Record:
    resource: Resource


@dataclass(frozen=True)
class Forget:
    address: str


@dataclass(frozen=True)
class Move:
    old: str
    new: str


Step = IntendCreate | Record | Forget | Move


def apply_step(state: State, step: Step, location: str = "the state") -> State:
    """``state`` after ``step``. Pure. Refuses (StateError) forgetting an address that is neither
    managed nor pending, and moving an unknown address or onto one already in use."""
    resources, pending = dict(state.resources), dict(state.pending_creates)
    match step:
        case IntendCreate(address, slug):
            pending[address] = slug
        case Record(resource):
            resources[resource.address] = resource
            pending.pop(resource.address, None)
        case Forget(address):
            if address not in resources and address not in pending:
                raise StateError(f"cannot forget {address}: it is not in {location}")
            resources.pop(address, None)
            pending.pop(address, None)
        case Move(old, new):
            if old not in resources:
                raise StateError(f"cannot move {old}: it is not in {location}")
            if new in resources:
                raise StateError(f"cannot move {old} to {new}: {new} is already in {location}")
            pending.pop(new, None)  # a create intended there is superseded by the page moving in
            resources[new] = replace(resources.pop(old), address=new)
    return replace(state, resources=resources, pending_creates=pending)


def replay(state: State, steps: list[Step], location: str = "the state") -> State:
    for step in steps:
        state = apply_step(state, step, location)
    return state


# --- the file ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class JournalHeader:
    """Which state the journal's steps apply to: the lockfile's lineage and serial when the apply began."""

    lineage: str
    serial: int
    api_url: str


@dataclass(frozen=True)
class Journal:
    header: JournalHeader
    steps: list[Step]


def remove_journal(path: Path) -> None:
    """Delete the journal (if any), durably. A journal that stays (the error says so) is harmless:
    its header shows that the lockfile already holds its steps."""
    try:
        path.unlink()
        fsync_dir(path.parent)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise StateError(f"cannot remove {path}: {exc.strerror or exc}; the state itself was written") from None


def _line(obj: dict[str, Any]) -> bytes:
    return (json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n").encode()


class JournalWriter:
    """Appends steps to a new journal file. The file (with its header) is created on the first step,
    so a transaction that records nothing leaves nothing behind."""

    def __init__(self, path: Path, header: JournalHeader, encode_page: EncodePage):
        self.path = path
        self._header = header
        self._encode_page = encode_page
        self._fd: int | None = None
        self._broken = False
        self._created = False

    @property
    def started(self) -> bool:
        """Whether the file was created (it then needs folding, even after `close`)."""
        return self._created

    def open(self) -> None:
        """Create the file (with its header) now, if not yet: StateError when it cannot be."""
        if self._broken:
            raise StateError(f"{self.path} could not be written earlier; this apply cannot record more steps")
        if self._fd is None:
            self._create()

    def append(self, step: Step) -> None:
        """Write ``step`` as one line and fsync it; durable when this returns."""
        data = _line(self._encode(step))
        self.open()
        self._write(data)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def _encode(self, step: Step) -> dict[str, Any]:
        match step:
            case IntendCreate(address, slug):
                return {"op": "intend_create", "address": address, "slug": slug}
            case Record(resource):
                return {"op": "record", "address": resource.address, "page": self._encode_page(resource)}
            case Forget(address):
                return {"op": "forget", "address": address}
            case Move(old, new):
                return {"op": "move", "old": old, "new": new}
        raise TypeError(f"not a journal step: {type(step).__name__}")

    def _create(self) -> None:
        try:
            self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o666)
        except FileExistsError:
            raise StateError(f"{self.path} already exists: another apply's journal was not folded") from None
        except OSError as exc:
            raise StateError(f"cannot create {self.path}: {exc.strerror}") from None
        self._created = True
        h = self._header
        self._write(_line({"journal": JOURNAL_VERSION, "lineage": h.lineage, "serial": h.serial,
                           "api_url": h.api_url}))
        try:
            fsync_dir(self.path.parent)
        except OSError as exc:
            self._broken = True
            raise StateError(f"cannot write {self.path}: {exc.strerror or exc}") from None

    def _write(self, data: bytes) -> None:
        assert self._fd is not None
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(self._fd, view):]
            os.fsync(self._fd)
        except OSError as exc:
            # A partial line may now end the file; it is ignored on replay, but nothing may follow it.
            self._broken = True
            raise StateError(f"cannot write {self.path}: {exc.strerror}") from None


def read_journal(path: Path, decode_page: DecodePage) -> Journal | None:
    """The journal at ``path``, or None if there is none or not even its header reached the disk.

    A torn or unparseable last line is ignored (that step never completed); any earlier bad line
    raises StateError naming the file and line.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StateError(f"cannot read {path}: {exc.strerror}") from None
    lines = data.split(b"\n")[:-1]  # the element after the last newline is empty, or a torn write
    parsed: list[Any] = []
    for number, raw in enumerate(lines, start=1):
        try:
            parsed.append(json.loads(raw.decode("utf-8")))
        except (UnicodeDecodeError, json.JSONDecodeError):
            if number == len(lines):
                break  # garbled tail of a write cut short by a crash
            raise StateError(
                f"{path} line {number} is corrupt; the journal cannot be replayed. Move it aside "
                f"and run `provisioner plan` to see what the interrupted apply left behind"
            ) from None
    if not parsed:
        return None
    header = _header(path, parsed[0])
    steps = [_step(path, number, obj, decode_page) for number, obj in enumerate(parsed[1:], start=2)]
    return Journal(header, steps)


def _header(path: Path, obj: Any) -> JournalHeader:
    if not isinstance(obj, dict) or obj.get("journal") != JOURNAL_VERSION:
        raise StateError(f"{path} has no valid header (format version {JOURNAL_VERSION}); move it aside")
    lineage, serial, api_url = obj.get("lineage"), obj.get("serial"), obj.get("api_url")
    if not (isinstance(lineage, str) and isinstance(api_url, str)
            and isinstance(serial, int) and not isinstance(serial, bool)):
        raise StateError(f"{path} has a malformed header; move it aside")
    return JournalHeader(lineage=lineage, serial=serial, api_url=api_url)


def _step(path: Path, number: int, obj: Any, decode_page: DecodePage) -> Step:
    where = f"{path} line {number}"
    op = obj.get("op") if isinstance(obj, dict) else None

    def text(key: str) -> str:
        value = obj.get(key)
        if not isinstance(value, str) or not value:
            raise StateError(f"{where}: {key!r} must be a non-empty string")
        problem = address_problem(value) if key != "slug" else None
        if problem is not None:
            raise StateError(f"{where}: {key!r} is not a valid address ({problem})")
        return value

    if op == "intend_create":
        return IntendCreate(text("address"), text("slug"))
    if op == "record":
        address = text("address")
        return Record(decode_page(address, obj.get("page"), where))
    if op == "forget":
        return Forget(text("address"))
    if op == "move":
        return Move(text("old"), text("new"))
    raise StateError(f"{where}: unknown step {op!r}; was it written by a newer provisioner?")


class StepRecorder:
    """The `Transaction` step methods of every backend, each one `Step` handed to ``_step``."""

    def _step(self, step: Step) -> None:
        raise NotImplementedError

    def intend_create(self, address: str, slug: str) -> None:
        self._step(IntendCreate(address, slug))

    def record(self, resource: Resource) -> None:
        self._step(Record(resource))

    def forget(self, address: str) -> None:
        self._step(Forget(address))

    def move(self, old: str, new: str) -> None:
        self._step(Move(old, new))
