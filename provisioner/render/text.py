"""Plans and drift reports as Terraform-like text for a terminal. Pure: returns a string.

Plan layout, in order: the target line; what apply will refuse (limits exceeded, pages that
``lifecycle.prevent_destroy`` protects) and, under ``--target``, how many pages were not checked;
one block per page that is not ``noop``, in plan order;
information sections for drift that apply leaves alone (kept by ``lifecycle.ignore_changes``, or
adopted because pages/ already matches it); a loud WARNING listing every delete and recreate (and
which ``lifecycle.prevent_destroy`` blocks); then the summary line, exactly
``Plan: N to create, N to update, N to delete, N to recreate.`` and, when pages moved, ``N page(s)
moved``. A plan without changes says ``No changes. N page(s) match the configuration.`` before the
(zero) summary line. Colour (ANSI) only when ``color`` is true; the CLI decides (TTY, NO_COLOR).
"""

from __future__ import annotations

from ..changes import MARKERS, Action, DriftReport, PageChange, Plan, Resolution
from .values import (
    BLOCKED,
    ORIGIN_NOTE,
    clean,
    drift_line,
    drift_parts,
    drift_summary_line,
    field_line,
    info_drift,
    is_gone,
    page_facts,
    page_header,
    plan_summary,
    plan_summary_line,
)

_RESET = "\x1b[0m"
_STYLE = {
    "+": "\x1b[32m",  # green
    "~": "\x1b[33m",  # yellow
    "-": "\x1b[31m",  # red
    "-/+": "\x1b[31m",
    "->": "\x1b[36m",  # cyan
    "warn": "\x1b[1;31m",  # bold red
    "info": "\x1b[36m",
}


class _Painter:
    def __init__(self, color: bool) -> None:
        self.color = color

    def __call__(self, text: str, style: str) -> str:
        if not self.color or style not in _STYLE:
            return text
        return f"{_STYLE[style]}{text}{_RESET}"


def _page_block(page: PageChange, paint: _Painter) -> list[str]:
    marker = MARKERS[page.action]
    opening = f"  {paint(marker, marker)} page \"{clean(page.address)}\" {{"
    if not page.changes:
        return [f"  {page_header(page)}", opening + " }"]
    lines = [f"  {page_header(page)}", opening]
    for change in page.changes:
        sign, body = field_line(change, page.action)
        note = ORIGIN_NOTE[change.origin]
        lines.append(f"      {paint(sign, sign)} {body}" + (f"   # {note}" if note else ""))
    lines.append("    }")
    return lines


def _info_sections(pages: tuple[PageChange, ...], paint: _Painter) -> list[str]:
    lines: list[str] = []
    titles = {
        Resolution.KEEP: "Drift kept (lifecycle.ignore_changes), left as edited live:",
        Resolution.ADOPT: "Drift adopted (pages/ already matches the live value), nothing to revert:",
    }
    for resolution, title in titles.items():
        items = info_drift(pages, resolution)
        if items:
            lines += ["", paint(title, "info")]
            lines += [f"  {clean(p.address)}: {drift_line(d)}" for p, d in items]
    return lines


def _up_front(plan: Plan, paint: _Painter) -> list[str]:
    """What a reviewer must see first: what apply will refuse, and what the plan did not look at."""
    lines = [paint(f"Apply will refuse this plan: {clean(reason)}.", "warn") for reason in plan.refusals]
    if plan.blocked:
        names = ", ".join(clean(p.address) for p in plan.blocked)
        lines.append(paint(f"Apply will not destroy {names} {BLOCKED}; the rest of the plan is applied.", "warn"))
    if plan.unchecked:
        lines.append(
            f"Note: --target limits this plan to {len(plan.pages)} page(s); "
            f"{plan.unchecked} other page(s) were not checked."
        )
    return lines


def _warning(plan: Plan, paint: _Painter) -> list[str]:
    destructive = plan.destructive
    if not destructive:
        return []
    lines = ["", paint(f"WARNING: this plan destroys {len(destructive)} live page(s):", "warn")]
    for page in destructive:
        blocked = f" {paint(BLOCKED, 'warn')}" if page.blocked else ""
        lines.append(f"  - {clean(page.address)} ({page_facts(page)}): {page.action.value}{blocked}")
    if plan.blocked:
        lines.append(
            f"  {len(plan.blocked)} of them blocked by lifecycle.prevent_destroy: apply leaves them live and "
            "fails once the rest is applied."
        )
    return lines


def render_plan(plan: Plan, *, color: bool = False) -> str:
    paint = _Painter(color)
    lines = [clean(plan.target.describe()), *_up_front(plan, paint)]
    for page in plan.pages:
        if page.action is not Action.NOOP:
            lines += [""] + _page_block(page, paint)
    lines += _info_sections(plan.pages, paint)
    lines += _warning(plan, paint)
    lines += [paint(f"WARNING: {clean(w)}", "-") for w in plan.warnings]
    lines.append("")
    counts = plan_summary(plan)
    if not plan.has_changes:
        lines.append(f"No changes. {counts['noop']} page(s) match the configuration.")
    lines.append(plan_summary_line(plan))
    if counts["move"]:
        lines.append(f"{counts['move']} page(s) moved")
    return "\n".join(lines) + "\n"


_RESOLUTION_STYLE = {Resolution.REVERT: "~", Resolution.KEEP: "info", Resolution.ADOPT: "+"}


def render_drift(report: DriftReport, *, color: bool = False) -> str:
    paint = _Painter(color)
    lines = [clean(report.target.describe()), ""]
    if not report.pages:
        lines.append("No drift.")
    for page in report.pages:
        head = f"{clean(page.address)} ({page_facts(page)})"
        if is_gone(page):
            lines.append(f"{head}: {paint('deleted outside provisioner; next apply recreates it', '-')}")
            continue
        lines.append(f"{head}:")
        for item in page.drift:
            path, last, live, outcome = drift_parts(item)
            outcome = paint(outcome, _RESOLUTION_STYLE[item.resolution])
            lines.append(f"  {path}: last applied {last}, live {live} → {outcome}")
    if report.pages:
        lines.append("")
        if not report.has_drift:
            lines.append("No drift that the next apply would act on.")
    lines.append(drift_summary_line(report))
    return "\n".join(lines) + "\n"
