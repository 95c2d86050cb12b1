"""Saved plans (`plan --out FILE`, `apply FILE`).

A saved plan holds no secret. `apply FILE` does not trust it blindly: it makes the plan again from
the same pages, state and live API, and applies only when the new plan's checksum is the saved one
and the state is at the same lineage and serial. Anything that changed since (YAML, lockfile, a
touched live page) makes it refuse, with nothing changed, naming each page that moved and on which
side: its page file, its lockfile record, or its live page (per-page digests kept in the file).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .changes import PageChange, Plan
from .errors import PlanRefused, ProvisionerError
from .fileio import atomic_write
from .plan import state_fingerprint
from .render.values import clean

FORMAT = "provisioner-plan"
FORMAT_VERSION = 1


def _work(page: PageChange) -> list[Any]:
    return [
        page.address, page.action.value, page.slug, page.page_id, page.moved_from,
        page.live_fingerprint, page.body, page.tokens_digest,
        [[c.path, c.before, c.after, c.before_present, c.after_present] for c in page.changes],
    ]


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


def checksum(plan: Plan) -> str:
    """Digest of everything apply would do, and of the live pages it touches as they were read."""
    work: list[Any] = [plan.target.state_key, plan.serial]  # lineage is checked apart (see verify)
    work += [_work(page) for page in plan.pages if page.needs_apply]
    return _digest(work)


def page_digests(plan: Plan) -> dict[str, dict[str, str | None]]:
    """Per address: the digests of its planned work, its lockfile record and its live page."""
    return {
        p.address: {"work": _digest(_work(p))[:16], "state": state_fingerprint(p.state_record),
                    "live": p.live_fingerprint}
        for p in plan.pages
    }


def _moved(saved: Mapping[str, Mapping[str, str | None]], fresh: Plan) -> list[str]:
    """``address (what moved)`` for each page that differs between the saved and the fresh plan."""
    now = page_digests(fresh)
    out = []
    for address in sorted(set(saved) | set(now)):
        before, after = saved.get(address), now.get(address)
        if before == after:
            continue
        if before is None or after is None:
            out.append(f"{address} ({'now in' if before is None else 'no longer in'} the plan)")
            continue
        sides = [
            side for key, side in (
                ("state", "its lockfile record changed"),
                ("live", "its live page changed outside provisioner"),
            ) if before.get(key) != after.get(key)
        ]
        out.append(f"{address} ({'; '.join(sides) or 'its page file changed'})")
    return out


@dataclass(frozen=True)
class SavedPlan:
    api_url: str
    lineage: str
    serial: int
    checksum: str
    targets: tuple[str, ...]
    pages: Mapping[str, Mapping[str, str | None]] = field(default_factory=dict)  # see `page_digests`


def save(path: Path, plan: Plan, rendered_json: str, targets: tuple[str, ...]) -> None:
    """Write the plan (its JSON rendering for people and machines, plus what apply checks)."""
    doc = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "api_url": plan.target.state_key,
        "lineage": plan.lineage,
        "serial": plan.serial,
        "checksum": checksum(plan),
        "targets": list(targets),
        "pages": page_digests(plan),
        "plan": json.loads(rendered_json),
    }
    if path.exists() and not path.is_file():  # a device (/dev/zero, /dev/stdout), a folder: never read, never replaced
        raise ProvisionerError(f"{path} is not a regular file; the plan is saved only to one. Choose another file")
    if path.exists() or path.is_symlink():  # replace an older plan, never anything else
        try:
            previous = json.loads(path.read_bytes())
        except (OSError, ValueError):
            previous = None
        if not isinstance(previous, dict) or previous.get("format") != FORMAT:
            raise ProvisionerError(f"{path} exists and is not a saved plan; it was left as it is. Choose another file")
    try:
        atomic_write(path, json.dumps(doc, indent=2, sort_keys=True) + "\n")
    except OSError as exc:
        raise ProvisionerError(f"cannot save the plan to {path}: {exc.strerror or exc}") from None


def load(path: Path) -> SavedPlan:
    if path.is_char_device() or path.is_block_device():  # /dev/zero would be read without end
        raise ProvisionerError(f"{path}: not a plan file (a device, not a regular file)")
    try:
        doc = json.loads(path.read_text())
    except FileNotFoundError:
        raise ProvisionerError(f"{path}: no such plan file") from None
    except (OSError, ValueError) as exc:
        raise ProvisionerError(f"{path}: not a readable plan file ({exc.__class__.__name__})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ProvisionerError(f"{path}: not a provisioner plan file")
    if doc.get("format_version") != FORMAT_VERSION:
        raise ProvisionerError(f"{path}: plan format_version {doc.get('format_version')!r} is not supported")
    try:
        return SavedPlan(
            api_url=str(doc["api_url"]),
            lineage=str(doc["lineage"]),
            serial=int(doc["serial"]),
            checksum=str(doc["checksum"]),
            targets=tuple(str(t) for t in doc.get("targets", [])),
            pages={str(a): {str(k): v for k, v in d.items()} for a, d in doc.get("pages", {}).items()},
        )
    except (KeyError, TypeError, ValueError, AttributeError):
        raise ProvisionerError(f"{path}: plan file is incomplete or was edited by hand") from None


def verify(saved: SavedPlan, fresh: Plan) -> None:
    """Refuse (PlanRefused) unless ``fresh`` is exactly the plan that was saved, naming what moved."""
    if saved.api_url != fresh.target.state_key:
        raise PlanRefused(f"the saved plan is for {saved.api_url}, not {fresh.target.state_key}")
    # With no state yet (serial 0), each read makes up a fresh lineage: only the serial can match.
    same_lineage = saved.lineage == fresh.lineage or saved.serial == fresh.serial == 0
    if not same_lineage:
        raise PlanRefused(
            "the saved plan was made against another state (lineage); nothing was applied, run plan again"
        )
    if saved.serial == fresh.serial and saved.checksum == checksum(fresh):
        return
    moved = _moved(saved.pages, fresh)
    parts = []
    if saved.serial != fresh.serial:
        parts.append(f"the lockfile was written since (serial {saved.serial} -> {fresh.serial})")
    if moved:
        parts.append("changed since the plan was made: " + ", ".join(clean(m) for m in moved))
    elif saved.checksum != checksum(fresh):
        parts.append("the page files or the live pages it touches changed since the plan was made")
    raise PlanRefused("; ".join(parts) + "; nothing was applied, run plan again")
