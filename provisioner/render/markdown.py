"""Plans and drift reports as Markdown for pull-request comments. Pure: returns a string.

Layout: a heading naming the target; the summary line in bold; a ``[!CAUTION]`` callout for what
apply will refuse (limits, pages ``prevent_destroy`` protects); a note when ``--target`` left pages
unchecked; a ``[!WARNING]`` callout when the plan destroys live pages (or pages are gone live); a
summary table (page | action | reverts live edits | changed fields), where "reverts live edits"
says which updates put back values an end user edited outside provisioner; then one collapsible
``<details>`` per changed page holding a ```` ```diff ```` block (``-`` old, ``+`` new). Callouts
use GitHub's alert syntax, which GitLab shows as a plain quote; every block is separated by a blank
line so that neither site folds it into the HTML of a ``<details>``.

Size contract: the whole output is always shorter than `LIMIT` characters (GitHub rejects comments
over 65,536). When the full rendering would not fit, the table is kept (its rows cut too if needed,
with a "N more" row), details are kept in order while they fit, and the output closes with a quote
``> Output truncated: N page(s) not shown; see the JSON plan artifact.``
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence

from ..changes import Action, DriftReport, Origin, PageChange, Plan, Resolution
from .values import (
    BLOCKED,
    ORIGIN_NOTE,
    change_parts,
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

LIMIT = 65_000
_NOTE_RESERVE = 300  # room kept for the "more rows" row and the truncation note
_MAX_LISTED = 20  # addresses named in a warning callout
_MAX_FIELDS = 5  # field paths named in a table cell
_MAX_CELL = 300

_ACTION_LABEL = {
    Action.CREATE: "+ create",
    Action.UPDATE: "~ update",
    Action.DELETE: "- delete",
    Action.RECREATE: "-/+ recreate (deleted outside provisioner)",
    Action.MOVE: "-> move",
    Action.NOOP: "no changes",
}


def _code(text: str, *, in_table: bool = False) -> str:
    """``text`` as an inline code span that its own backticks (or a table's pipes) cannot break."""
    text = clean(text)
    ticks = "`" * (max((len(r) for r in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    span = f"{ticks}{pad}{text}{pad}{ticks}"
    return span.replace("|", "\\|") if in_table else span


def _fence(lines: Sequence[str], lang: str = "diff") -> str:
    body = "\n".join(lines)
    ticks = "`" * max(3, max((len(r) for r in re.findall(r"`+", body)), default=0) + 1)
    return f"{ticks}{lang}\n{body}\n{ticks}"


def _details(summary_html: str, lines: Sequence[str]) -> str:
    return f"<details><summary>{summary_html}</summary>\n\n{_fence(lines)}\n\n</details>\n"


def _names(pages: Sequence[PageChange], describe: Callable[[PageChange], str]) -> str:
    shown = [describe(p) for p in pages[:_MAX_LISTED]]
    more = len(pages) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more else "")


def _cell(paths: Sequence[str]) -> str:
    shown = ", ".join(_code(p, in_table=True) for p in paths[:_MAX_FIELDS])
    more = len(paths) - _MAX_FIELDS
    cell = (shown + (f" +{more} more" if more > 0 else "")) or "(none)"
    return cell if len(cell) <= _MAX_CELL else f"{len(paths)} field(s)"


def _assemble(
    head: str, table: tuple[str, list[str]] | None, details: list[str], extra: list[str], artifact: str
) -> str:
    """``head`` + table + per-page ``details`` + ``extra`` blocks, cut to stay under `LIMIT`.

    ``table`` is ``(header, rows)``; rows, then details, then extras are kept in order while they
    fit. ``artifact`` names where the full output is (in the truncation note).
    """
    table_head, rows = table if table else ("", [])
    full = head + table_head + "".join(rows) + ("\n" if table else "") + "".join(details + extra)
    if len(full) < LIMIT:
        return full
    budget = LIMIT - _NOTE_RESERVE - len(head) - len(table_head) - 1

    def take(blocks: list[str]) -> list[str]:
        nonlocal budget
        kept: list[str] = []
        for block in blocks:
            if len(block) > budget:
                break
            kept.append(block)
            budget -= len(block)
        return kept

    kept_rows = take(rows)
    body = table_head + "".join(kept_rows)
    if len(kept_rows) < len(rows):
        cells = table_head.split("\n", 1)[0].count("|") - 1
        body += "| … " + "| " * (cells - 2) + f"| {len(rows) - len(kept_rows)} more page(s) |\n"
    if table:
        body += "\n"
    kept_details = take(details)
    if len(kept_details) == len(details):
        kept_details += take(extra)
    hidden = len(details) - min(len(kept_details), len(details))
    # A blank line first: right after ``</details>`` the note would otherwise stay inside the HTML block
    # and show as raw text on GitHub and GitLab.
    note = f"> Output truncated: {hidden} page(s) not shown; see the {artifact}.\n"
    kept = head + body + "".join(kept_details)
    return kept + ("" if kept.endswith("\n\n") else "\n") + note


# ---- plan ---------------------------------------------------------------------------------------


def _plan_head(plan: Plan) -> str:
    target = clean(plan.target.describe().removeprefix("Target: "))
    out = [f"### provisioner plan: {target}", "", f"**{plan_summary_line(plan)}**"]
    moves = plan_summary(plan)["move"]
    if moves:
        out += ["", f"{moves} page(s) moved"]
    for reason in plan.refusals:
        out += ["", "> [!CAUTION]", f"> **Apply will refuse this plan:** {clean(reason)}."]
    if plan.blocked:
        names = _names(plan.blocked, lambda p: _code(p.address))
        out += ["", "> [!CAUTION]", f"> **Apply will not destroy** {names} {BLOCKED}; the rest is applied."]
    if plan.unchecked:
        out += ["", f"_`--target` limits this plan to {len(plan.pages)} page(s); "
                    f"{plan.unchecked} other page(s) were not checked._"]
    for warning in plan.warnings:
        out += ["", "> [!WARNING]", f"> {clean(warning)}"]
    destructive = plan.destructive
    if destructive:

        def describe(p: PageChange) -> str:
            blocked = ", **blocked by lifecycle.prevent_destroy**" if p.blocked else ""
            return f"{_code(p.address)} ({p.action.value}{blocked})"

        out += [
            "",
            "> [!WARNING]",
            f"> This plan destroys {len(destructive)} live page(s): {_names(destructive, describe)}.",
        ]
    return "\n".join(out) + "\n\n"


def _plan_row(page: PageChange) -> str:
    label = _ACTION_LABEL[page.action]
    if page.action is Action.MOVE:
        label += f" from {_code(page.moved_from or '?', in_table=True)}"
    if page.blocked:
        label += f" **{BLOCKED}**"
    reverted = [c for c in page.changes if c.origin is not Origin.YAML]
    reverts = f"**yes**: {len(reverted)} field(s)" if reverted else "no"
    address = _code(page.address, in_table=True)
    return f"| {address} | {label} | {reverts} | {_cell([c.path for c in page.changes])} |\n"


def _plan_details(page: PageChange) -> str:
    lines = [page_header(page)]
    for change in page.changes:
        sign, body = field_line(change, page.action)
        note = ORIGIN_NOTE[change.origin]
        suffix = f"   # {note}" if note else ""
        if sign == "~":  # a diff block colours only "-" and "+": show old and new as a pair
            path, before, after = change_parts(change)
            lines += [f"- {path}: {before}", f"+ {path}: {after}{suffix}"]
        else:
            lines.append(f"{sign} {body}{suffix}")
    summary = (
        f"<code>{html.escape(clean(page.address))}</code>: {page.action.value}, "
        f"{len(page.changes)} field(s)"
    )
    return _details(summary, lines)


def _plan_info(plan: Plan) -> list[str]:
    """Drift that apply leaves alone, as one collapsed block (information only)."""
    items = info_drift(plan.pages, Resolution.KEEP) + info_drift(plan.pages, Resolution.ADOPT)
    if not items:
        return []
    lines = [f"# {clean(p.address)}: {drift_line(d)}" for p, d in items]
    title = f"Drift left as is (ignore_changes, or pages/ already matches): {len(items)} field(s)"
    return [_details(title, lines)]


_PLAN_ARTIFACT = "JSON plan artifact"


def render_plan(plan: Plan) -> str:
    head = _plan_head(plan)
    if not plan.has_changes:
        noop = plan_summary(plan)["noop"]
        head += f"No changes. {noop} page(s) match the configuration.\n\n"
        return _assemble(head, None, [], _plan_info(plan), _PLAN_ARTIFACT)
    changed = [p for p in plan.pages if p.action is not Action.NOOP]
    table = (
        "| page | action | reverts live edits | changed fields |\n| --- | --- | --- | --- |\n",
        [_plan_row(p) for p in changed],
    )
    details = [_plan_details(p) for p in changed]
    return _assemble(head, table, details, _plan_info(plan), _PLAN_ARTIFACT)


# ---- drift --------------------------------------------------------------------------------------


def _drift_head(report: DriftReport) -> str:
    target = clean(report.target.describe().removeprefix("Target: "))
    out = [f"### provisioner drift: {target}", "", f"**{drift_summary_line(report)}**"]
    gone = [p for p in report.pages if is_gone(p)]
    if gone:
        out += [
            "",
            "> [!WARNING]",
            f"> {len(gone)} page(s) deleted outside provisioner; the next apply recreates them: "
            f"{_names(gone, lambda p: _code(p.address))}.",
        ]
    return "\n".join(out) + "\n\n"


def _drift_row(page: PageChange) -> str:
    if is_gone(page):
        what = "gone: deleted outside provisioner"
    else:
        counts = {r: sum(1 for d in page.drift if d.resolution is r) for r in Resolution}
        what = ", ".join(f"{n} {r.value}" for r, n in counts.items() if n) or "none"
    return f"| {_code(page.address, in_table=True)} | {what} | {_cell([d.path for d in page.drift])} |\n"


def _drift_details(page: PageChange) -> str:
    lines = [f"# {clean(page.address)} ({page_facts(page)})"]
    for item in page.drift:
        path, last, live, outcome = drift_parts(item)
        lines += [f"- {path}: {last}   # last applied", f"+ {path}: {live}   # live -> {outcome}"]
    return _details(f"<code>{html.escape(clean(page.address))}</code>: {len(page.drift)} field(s)", lines)


def render_drift(report: DriftReport) -> str:
    head = _drift_head(report)
    if not report.pages:
        return head + "No drift.\n"
    table = ("| page | drift | fields |\n| --- | --- | --- |\n", [_drift_row(p) for p in report.pages])
    details = [_drift_details(p) for p in report.pages if not is_gone(p) and p.drift]
    return _assemble(head, table, details, [], "JSON drift report")
