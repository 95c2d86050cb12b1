"""Saved plans (`plan --out FILE`, `apply FILE`).

A saved plan holds no secret. `apply FILE` does not trust it blindly: it makes the plan again from
the same pages, state and live API, and applies only when the new plan's checksum is the saved one
and the state is at the same lineage and serial. Anything that changed since (YAML, lockfile, a
touched live page) makes it refuse, with nothing changed.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .changes import Plan
from .errors import PlanRefused, ProvisionerError
from .fileio import atomic_write

FORMAT = "provisioner-plan"
FORMAT_VERSION = 1


def checksum(plan: Plan) -> str:
    """Digest of everything apply would do, and of the live pages it touches as they were read."""
    work: list[Any] = [plan.target.api_url, plan.serial]  # lineage is checked apart (see verify)
    for page in plan.pages:
        if not page.needs_apply:
            continue
        work.append(
            [
                page.address, page.action.value, page.slug, page.page_id, page.moved_from,
                page.live_fingerprint, page.body, page.tokens_digest,
                [[c.path, c.before, c.after, c.before_present, c.after_present] for c in page.changes],
            ]
        )
    return hashlib.sha256(json.dumps(work, sort_keys=True, default=str).encode()).hexdigest()


@dataclass(frozen=True)
class SavedPlan:
    api_url: str
    lineage: str
    serial: int
    checksum: str
    targets: tuple[str, ...]


def save(path: Path, plan: Plan, rendered_json: str, targets: tuple[str, ...]) -> None:
    """Write the plan (its JSON rendering for people and machines, plus what apply checks)."""
    doc = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "api_url": plan.target.api_url,
        "lineage": plan.lineage,
        "serial": plan.serial,
        "checksum": checksum(plan),
        "targets": list(targets),
        "plan": json.loads(rendered_json),
    }
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
        )
    except (KeyError, TypeError, ValueError):
        raise ProvisionerError(f"{path}: plan file is incomplete or was edited by hand") from None


def verify(saved: SavedPlan, fresh: Plan) -> None:
    """Refuse (PlanRefused) unless ``fresh`` is exactly the plan that was saved."""
    if saved.api_url != fresh.target.api_url:
        raise PlanRefused(f"the saved plan is for {saved.api_url}, not {fresh.target.api_url}")
    # With no state yet (serial 0), each read makes up a fresh lineage: only the serial can match.
    same_lineage = saved.lineage == fresh.lineage or saved.serial == fresh.serial == 0
    if not same_lineage or saved.serial != fresh.serial:
        raise PlanRefused(
            "the state changed since the plan was made "
            f"(serial {saved.serial} -> {fresh.serial}); run plan again"
        )
    if saved.checksum != checksum(fresh):
        raise PlanRefused(
            "the page files or the live pages it touches changed since the plan was made; nothing was applied. "
            "Run plan again."
        )
