"""Plans and drift reports as JSON: the contract for machines. Pure: returns a string.

Output is one JSON object, keys sorted, 2-space indent, ASCII, trailing newline; the same input
always gives the same bytes. ``format_version`` changes only when a field is removed or changes
meaning (new fields may be added within a version).

Plan (``kind: "plan"``)::

    {
      "format_version": 1,
      "kind": "plan",
      "target": {"api_url": str, "api": str, "name": str|null, "emulator": bool, "description": str},
      "lineage": str,                 # the state this plan was made against
      "serial": int,
      "has_changes": bool,            # false when every page is noop
      "summary": {"create": int, "update": int, "delete": int, "recreate": int, "move": int, "noop": int},
      "warnings": [str],              # what needs a person; "policy: FILE:LINE:COL: ..." for a policy
                                      # warning, "fairness: ADDRESS: ..." for a round-robin change
      "refusals": [str],              # limits exceeded: apply refuses the whole plan (see safety)
      "unchecked": int,               # pages --target left out: not refreshed, not planned
      "refresh": REFRESH|null,        # how the live pages were read (not what the plan does: the
                                      # rest of the document is the same whichever way)
      "pages": [                      # every page in plan order, noop pages included
        {
          "address": str,             # "sales/demo"
          "action": "create"|"update"|"delete"|"recreate"|"move"|"noop",
          "slug": str,
          "page_id": int|null,        # null for a page not created yet
          "moved_from": str|null,     # the old address of a moved page
          "prevent_destroy": bool,
          "blocked": bool,            # deletes a live page that prevent_destroy protects: apply skips
                                      # it (and fails), the rest is applied
          "reverts_drift": bool,      # apply puts back values edited outside provisioner
          "changes": [                # leaf fields apply changes; before = live, after = desired
            {"path": str, "before": any, "after": any, "before_present": bool,
             "after_present": bool, "origin": "yaml"|"drift"|"yaml+drift", "sensitive": bool}
          ],                          # path "hosts": before/after {"count": int, "emails": [str]|null}
                                      # (null: known after apply); apply sends the access tokens
                                      # exactly when this change is listed
          "drift": [DRIFT_ITEM]       # live edits since the last apply, with what apply does
        }
      ]
    }

Drift report (``kind: "drift"``)::

    {
      "format_version": 1,
      "kind": "drift",
      "target": {...as above...},
      "has_drift": bool,              # drift the next apply acts on (revert) or a page gone live
      "summary": {"drifted": int, "revert": int, "keep": int, "adopt": int, "gone": int},
      "refresh": REFRESH|null,        # as in a plan
      "pages": [{"address": str, "action": str, "slug": str, "page_id": int|null,
                 "gone": bool,        # deleted outside provisioner; the next apply recreates it
                 "drift": [DRIFT_ITEM]}]
    }

    DRIFT_ITEM = {"path": str, "last_applied": any, "live": any, "last_present": bool,
                  "live_present": bool, "resolution": "revert"|"keep"|"adopt"}

    REFRESH = {"mode": "auto"|"list"|"page",   # as asked (--refresh)
               "requests": int,                # HTTP attempts the refresh sent, retries included
               "listed_groups": int,           # accounts (v2) or grants (v3) refreshed by listing
               "read_alone": int}              # pages read by their own request

A value that is not present is ``null`` with its ``*_present`` flag false (a present JSON null has
the flag true). Secret values are the string ``"(sensitive)"``, never the secret.
"""

from __future__ import annotations

import json
from typing import Any

from ..changes import DriftItem, DriftReport, FieldChange, PageChange, Plan, RefreshStats, Target
from .values import change_sensitive, drift_sensitive, drift_summary, is_gone, jsonable, plan_summary

FORMAT_VERSION = 1


def dump(doc: dict[str, Any]) -> str:
    """The one JSON layout of every document provisioner prints: sorted keys, 2-space indent, newline."""
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"


def _target(target: Target) -> dict[str, Any]:
    return {
        "api_url": target.api_url,
        "api": target.api,
        "name": target.name,
        "emulator": target.emulator,
        "description": target.describe(),
    }


def _refresh(stats: RefreshStats | None) -> dict[str, Any] | None:
    if stats is None:
        return None
    return {"mode": stats.mode, "requests": stats.requests, "listed_groups": stats.listed_groups,
            "read_alone": stats.read_alone}


def _change(change: FieldChange) -> dict[str, Any]:
    secret = change_sensitive(change)
    return {
        "path": change.path,
        "before": jsonable(change.before, present=change.before_present, sensitive=secret),
        "after": jsonable(change.after, present=change.after_present, sensitive=secret),
        "before_present": change.before_present,
        "after_present": change.after_present,
        "origin": change.origin.value,
        "sensitive": secret,
    }


def _drift(item: DriftItem) -> dict[str, Any]:
    secret = drift_sensitive(item)
    return {
        "path": item.path,
        "last_applied": jsonable(item.last_applied, present=item.last_present, sensitive=secret),
        "live": jsonable(item.live, present=item.live_present, sensitive=secret),
        "last_present": item.last_present,
        "live_present": item.live_present,
        "resolution": item.resolution.value,
    }


def _page(page: PageChange) -> dict[str, Any]:
    return {
        "address": page.address,
        "action": page.action.value,
        "slug": page.slug,
        "page_id": page.page_id,
        "moved_from": page.moved_from,
        "prevent_destroy": page.prevent_destroy,
        "blocked": page.blocked,
        "reverts_drift": page.reverts_drift,
        "changes": [_change(c) for c in page.changes],
        "drift": [_drift(d) for d in page.drift],
    }


def plan_document(plan: Plan) -> dict[str, Any]:
    """The plan as the JSON-ready dict described in the module docstring."""
    return {
        "format_version": FORMAT_VERSION,
        "kind": "plan",
        "target": _target(plan.target),
        "lineage": plan.lineage,
        "serial": plan.serial,
        "has_changes": plan.has_changes,
        "summary": plan_summary(plan),
        "warnings": list(plan.warnings),
        "refusals": list(plan.refusals),
        "unchecked": plan.unchecked,
        "refresh": _refresh(plan.refresh),
        "pages": [_page(p) for p in plan.pages],
    }


def drift_document(report: DriftReport) -> dict[str, Any]:
    """The drift report as the JSON-ready dict described in the module docstring."""
    return {
        "format_version": FORMAT_VERSION,
        "kind": "drift",
        "target": _target(report.target),
        "has_drift": report.has_drift,
        "summary": drift_summary(report),
        "refresh": _refresh(report.refresh),
        "pages": [
            {
                "address": p.address,
                "action": p.action.value,
                "slug": p.slug,
                "page_id": p.page_id,
                "gone": is_gone(p),
                "drift": [_drift(d) for d in p.drift],
            }
            for p in report.pages
        ],
    }


def render_plan(plan: Plan) -> str:
    return dump(plan_document(plan))


def render_drift(report: DriftReport) -> str:
    return dump(drift_document(report))
