"""Value formatting, counts and the lines shared by the text, JSON and Markdown renderers. Pure.

Contracts:
- A value shown to a person is one line: strings JSON-quoted, everything else compact JSON, a value
  that is not there ``(absent)``, a sensitive one ``(sensitive)``.
- Redaction is defensive and happens here, once: a change flagged ``sensitive``, a path or key that
  names a secret (``token``, ``secret``, ``password``, ...), and any `pydantic.SecretStr` inside a
  value all render as ``(sensitive)``, in every format.
- Text that comes from outside (addresses, paths, slugs, values, messages) goes through `clean`,
  the one sanitizer: control characters are shown escaped, so nothing can smuggle terminal escape
  sequences into a plan or a message.
- Hosts (`changes.Hosts`) are not secret: their number and account e-mails are shown; the access
  tokens never reach a plan at all.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from pydantic import SecretBytes, SecretStr

from ..changes import Action, DriftItem, DriftReport, FieldChange, Hosts, Origin, PageChange, Plan, Resolution

SENSITIVE = "(sensitive)"
ABSENT = "(absent)"

# A key or path segment that names a secret. Matched per segment, so "config.event.title" is safe.
_SECRET_NAME = re.compile(r"token|secret|password|passwd|api[_-]?key|credential|authorization", re.I)
_INDEX = re.compile(r"\[\d+\]")
# C0 and C1 controls (ESC, CSI, ...), and the Unicode line separators and bidi controls that can
# reorder or hide text on a terminal.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def is_sensitive_path(path: str) -> bool:
    """True when any segment of a dotted path names a secret (``access_tokens[0]``, ``x.api_key``)."""
    return any(_SECRET_NAME.search(segment) for segment in _INDEX.sub("", path).split("."))


def change_sensitive(change: FieldChange) -> bool:
    return change.sensitive or is_sensitive_path(change.path)


def drift_sensitive(item: DriftItem) -> bool:
    return is_sensitive_path(item.path)


def redact(value: Any) -> Any:
    """A JSON-ready copy of ``value`` with secrets replaced by ``(sensitive)``.

    Secret types and values under secret-named keys are replaced; other non-JSON types become their
    ``str`` (which for pydantic's secret types is masked anyway).
    """
    if isinstance(value, SecretStr | SecretBytes):
        return SENSITIVE
    if isinstance(value, Hosts):
        return {"count": value.count, "emails": list(value.emails) if value.emails is not None else None}
    if isinstance(value, dict):
        return {
            str(k): SENSITIVE if _SECRET_NAME.search(str(k)) else redact(v) for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def jsonable(value: Any, *, present: bool = True, sensitive: bool = False) -> Any:
    """The value as it appears in the JSON format: ``None`` when absent, ``"(sensitive)"`` if secret."""
    if not present:
        return None
    if sensitive:
        return SENSITIVE
    return redact(value)


def show(value: Any, *, present: bool = True, sensitive: bool = False) -> str:
    """The value on one line for people (text and Markdown)."""
    if not present:
        return ABSENT
    if sensitive:
        return SENSITIVE
    if isinstance(value, Hosts):
        return show_hosts(value)
    return clean(json.dumps(redact(value), ensure_ascii=False, sort_keys=True, separators=(", ", ": ")))


def show_hosts(hosts: Hosts) -> str:
    """``2 host(s): a@example.com, b@example.com``, or ``3 host(s) (e-mails known after apply)``."""
    if hosts.emails is None:
        return f"{hosts.count} host(s) (e-mails known after apply)"
    return clean(f"{hosts.count} host(s): " + (", ".join(hosts.emails) or "none"))


def clean(text: str) -> str:
    """``text`` with control characters escaped (``\\x1b`` stays visible, never acts): the one
    sanitizer of everything printed that came from outside."""
    return _CONTROL.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


# ---- counts -------------------------------------------------------------------------------------


def plan_summary(plan: Plan) -> dict[str, int]:
    """``{create, update, delete, recreate, move, noop}`` page counts; a move that also changes fields
    counts as an update too."""
    counts = {action.value: plan.count(action) for action in Action}
    counts["update"] += sum(1 for p in plan.pages if p.action is Action.MOVE and p.changes)
    return counts


def plan_summary_line(plan: Plan) -> str:
    """Exactly ``Plan: N to create, N to update, N to delete, N to recreate.`` (PRODUCT.md §7)."""
    c = plan_summary(plan)
    return (
        f"Plan: {c['create']} to create, {c['update']} to update, "
        f"{c['delete']} to delete, {c['recreate']} to recreate."
    )


def is_gone(page: PageChange) -> bool:
    """In a drift report, a page in the lockfile that the live API no longer has."""
    return page.action is Action.RECREATE


def drift_summary(report: DriftReport) -> dict[str, int]:
    """``{drifted, revert, keep, adopt, gone}``: pages with drift items, items by resolution, pages gone."""
    live = [p for p in report.pages if not is_gone(p)]
    items = [d for p in live for d in p.drift]
    return {
        "drifted": sum(1 for p in live if p.drift),
        "revert": sum(1 for d in items if d.resolution is Resolution.REVERT),
        "keep": sum(1 for d in items if d.resolution is Resolution.KEEP),
        "adopt": sum(1 for d in items if d.resolution is Resolution.ADOPT),
        "gone": sum(1 for p in report.pages if is_gone(p)),
    }


def drift_summary_line(report: DriftReport) -> str:
    """Exactly ``Drift: N page(s) drifted (M field(s) to revert, K kept), G gone.``"""
    c = drift_summary(report)
    return (
        f"Drift: {c['drifted']} page(s) drifted ({c['revert']} field(s) to revert, "
        f"{c['keep']} kept), {c['gone']} gone."
    )


RESOLUTION_TEXT = {
    Resolution.REVERT: "revert",
    Resolution.KEEP: "kept (ignore_changes)",
    Resolution.ADOPT: "adopted",
}


def drift_parts(item: DriftItem) -> tuple[str, str, str, str]:
    """``(path, last applied, live, outcome)`` as display strings, redacted."""
    secret = drift_sensitive(item)
    last = show(item.last_applied, present=item.last_present, sensitive=secret)
    live = show(item.live, present=item.live_present, sensitive=secret)
    return clean(item.path), last, live, RESOLUTION_TEXT[item.resolution]


def drift_line(item: DriftItem) -> str:
    """``path: last applied X, live Y → revert|kept (ignore_changes)|adopted``."""
    path, last, live, outcome = drift_parts(item)
    return f"{path}: last applied {last}, live {live} → {outcome}"


def change_parts(change: FieldChange) -> tuple[str, str, str]:
    """``(path, before, after)`` of a field change as display strings, redacted."""
    secret = change_sensitive(change)
    before = show(change.before, present=change.before_present, sensitive=secret)
    after = show(change.after, present=change.after_present, sensitive=secret)
    return clean(change.path), before, after


def info_drift(pages: Iterable[PageChange], resolution: Resolution) -> list[tuple[PageChange, DriftItem]]:
    """Drift items of one resolution across pages, in page order: the plan's information sections."""
    return [(p, d) for p in pages for d in p.drift if d.resolution is resolution]


def page_facts(page: PageChange) -> str:
    """``page 123, slug sales-demo`` (the id only when known)."""
    facts = [f"page {page.page_id}"] if page.page_id is not None else []
    facts.append(f"slug {clean(page.slug)}")
    return ", ".join(facts)


ORIGIN_NOTE = {
    Origin.YAML: "",
    Origin.DRIFT: "drift: edited outside provisioner, will be reverted",
    Origin.BOTH: "drift: edited outside provisioner and changed in YAML; YAML wins",
}


# ---- lines shared by text and Markdown -----------------------------------------------------------

BLOCKED = "(blocked by lifecycle.prevent_destroy)"


def field_line(change: FieldChange, action: Action) -> tuple[str, str]:
    """``(marker, text)`` for one field change of a page with ``action``; text and Markdown."""
    path, before, after = change_parts(change)
    if action in (Action.CREATE, Action.RECREATE) or (not change.before_present and action is Action.DELETE):
        return "+", f"{path} = {after}"
    if action is Action.DELETE:
        return "-", f"{path} = {before}"
    if not change.before_present:
        return "+", f"{path} = {after}"
    if not change.after_present:
        return "-", f"{path} = {before}  (absent after)"
    return "~", f"{path} = {before} -> {after}"


def page_header(page: PageChange) -> str:
    """The ``# address will be ...`` comment above a page block; text and Markdown."""
    address, facts = clean(page.address), page_facts(page)
    blocked = f" {BLOCKED}" if page.blocked else ""
    match page.action:
        case Action.CREATE:
            return f"# {address} will be created ({facts})"
        case Action.UPDATE:
            return f"# {address} will be updated in place ({facts})"
        case Action.DELETE if page.live_fingerprint is None:
            return f"# {address} is already gone from the API and will be forgotten ({facts})"
        case Action.DELETE:
            return f"# {address} will be DESTROYED ({facts}){blocked}"
        case Action.RECREATE:
            return f"# {address} was deleted outside provisioner and will be created again ({facts})"
        case Action.MOVE:
            then = " and updated in place" if page.changes else ""
            return f"# {address} moved from {clean(page.moved_from or '?')}, same page{then} ({facts})"
        case _:
            return f"# {address} has no changes ({facts})"
