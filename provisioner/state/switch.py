"""State never switches silently: a default lockfile that is new while another one holds state.

Adding ``provisioner.yaml`` (or a target to it) moves the default lockfile from ``pages.lock`` to
``pages.NAME.lock``. Planned against that new, empty state, every page would be a create and the
pages ``pages.lock`` manages would be forgotten. So when the state location was not chosen
explicitly (``--lockfile``, or ``state:`` in the target) and it does not exist yet while a sibling
lockfile holds pages, the command is refused with the ways out.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import StateError
from ..project import PROJECT_FILE
from .base import same_api_url


def _same(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False


def _managed_in(path: Path, api_url: str) -> int | None:
    """How many pages the lockfile at ``path`` holds for ``api_url`` (0 for another API; None when it
    cannot be read as a lockfile: counted as state, to be safe)."""
    try:
        doc = json.loads(path.read_bytes())
        if not same_api_url(str(doc.get("api_url", api_url)), api_url):
            return 0  # the state of another API: a new state here is no switch
        return len(doc.get("pages") or {}) + len(doc.get("pending_creates") or {})
    except (OSError, ValueError, AttributeError, TypeError):
        return None


def refuse_silent_switch(lockfile: Path, target: str | None, api_url: str, claimed: tuple[Path, ...] = ()) -> None:
    """Raise `StateError` if ``lockfile`` (a default location) is new and a sibling lockfile holds state
    for the same ``api_url`` that no other target ``claimed`` as its own."""
    journal = lockfile.with_name(lockfile.name + ".journal")
    if lockfile.exists() or lockfile.is_symlink() or journal.exists():
        return
    others = []
    for other in sorted(lockfile.parent.glob("pages*.lock")):
        if other.name.endswith(".lock.lock"):  # the apply lock of a lockfile, not state
            continue
        if other.name != lockfile.name and other.is_file() and not any(_same(other, c) for c in claimed):
            count = _managed_in(other, api_url)
            if count != 0:
                others.append((other, count))
    if not others:
        return
    other, count = others[0]
    held = f"the state of {count} page(s)" if count is not None else "state"
    where = f"targets.{target}" if target else "a target"
    raise StateError(
        f"{lockfile} does not exist yet, but {other} holds {held}: planned against a new, empty state, every "
        f"page would be created again and the pages {other} manages forgotten. To keep using it, set "
        f"`state: {other}` under {where} in {PROJECT_FILE} (or pass --lockfile {other}); to move it, run "
        f"`provisioner state migrate --lockfile {other} --to {lockfile}`; to start a new state on purpose, set "
        f"`state: {lockfile}` there"
    )
