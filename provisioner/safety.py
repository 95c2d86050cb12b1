"""The limits a plan must stay within, checked alike by `plan` (which says up front that apply will
refuse) and `apply` (which refuses before anything is sent). Pure: a plan and limits in, reasons out.

Like octoDNS's safety thresholds:

- ``max_deletes`` (default 5): at most this many live pages deleted in one run;
- ``max_changes_percent`` (default 30): at most this share of the managed pages in the plan updated
  in one run, so that one ``_defaults.yaml`` edit cannot silently rewrite 300 pages. Like octoDNS's
  ``MIN_EXISTING_RECORDS``, it applies only when the plan covers at least ``min_pages_for_percent``
  (default 10) managed pages: on a small tree any single edit is a large share.

Both are flags of `plan` and `apply` and keys of a target in ``provisioner.yaml``. A page that
``lifecycle.prevent_destroy`` protects is not a limit: it is skipped alone (see `PageChange.blocked`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # `Limits` is part of the settings of every command, `validate` too: no plan types then
    from .changes import Plan

MAX_DELETES = 5
MAX_CHANGES_PERCENT = 30.0
MIN_PAGES_FOR_PERCENT = 10


@dataclass(frozen=True)
class Limits:
    max_deletes: int = MAX_DELETES
    max_changes_percent: float = MAX_CHANGES_PERCENT
    min_pages_for_percent: int = MIN_PAGES_FOR_PERCENT


def _rewrites(plan: Plan) -> int:
    """Managed pages whose live content apply rewrites: updates and moves that write to the API (a
    change of ``lifecycle`` alone is recorded in the state only)."""
    from .changes import Action

    return sum(1 for p in plan.pages if p.action in (Action.UPDATE, Action.MOVE) and p.body is not None)


def refusals(plan: Plan, limits: Limits) -> tuple[str, ...]:
    """Why apply refuses ``plan`` as a whole (empty when it is within ``limits``), each with its fix."""
    from .changes import Action

    out = []
    deletes = sum(1 for p in plan.pages if p.destructive and not p.blocked)
    if deletes > limits.max_deletes:
        out.append(
            f"it deletes {deletes} live pages, more than --max-deletes {limits.max_deletes}; "
            "raise --max-deletes (or max_deletes of the target in provisioner.yaml) if this is intended"
        )
    managed = sum(1 for p in plan.pages if p.page_id is not None and p.action is not Action.RECREATE)
    rewrites = _rewrites(plan)
    if managed >= limits.min_pages_for_percent and rewrites * 100 > limits.max_changes_percent * managed:
        share = rewrites * 100 / managed
        out.append(
            f"it updates {rewrites} of {managed} managed pages ({share:.0f}%), more than --max-changes-percent "
            f"{limits.max_changes_percent:g}; raise --max-changes-percent (or max_changes_percent of the target "
            "in provisioner.yaml) if this is intended"
        )
    return tuple(out)
