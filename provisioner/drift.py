"""Plan -> drift report: what changed live since it was last applied. Pure.

Drift is measured by `plan` already (last applied vs. live, per managed page); this keeps the pages
that have any, and those that are gone from the API.
"""

from __future__ import annotations

from dataclasses import replace

from .changes import Action, DriftReport, Plan


def drift_report(plan: Plan) -> DriftReport:
    pages = tuple(
        replace(page, changes=(), body=None)
        for page in plan.pages
        if page.action is Action.RECREATE or page.drift
    )
    return DriftReport(target=plan.target, pages=pages, refresh=plan.refresh)
