"""Plans and drift reports rendered as text, JSON or Markdown: functions that return strings.

`render_plan` and `render_drift` dispatch on the format name; each format lives in its own module
(`text`, `jsonfmt`, `markdown`) and shares value formatting and redaction through `values`. Every
output ends with a newline and is deterministic: the same input gives the same string. Secrets are
redacted in every format (see `values`). `clean` is the one sanitizer of text from outside (names,
messages) before it reaches a terminal: anything else that prints such text uses it too.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from ..changes import DriftReport, Plan
from ..preview import Preview
from . import jsonfmt, markdown, text
from .preview import preview_document, render_preview
from .values import clean

Format = Literal["text", "json", "markdown"]
FORMATS: tuple[str, ...] = ("text", "json", "markdown")

__all__ = ["FORMATS", "Format", "clean", "render_drift", "render_plan", "render_preview"]


def _check(fmt: str) -> None:
    if fmt not in FORMATS:
        raise ValueError(f"unknown output format {fmt!r}; expected one of {', '.join(FORMATS)}")


def render_plan(
    plan: Plan, fmt: Format | str = "text", *, color: bool = False, previews: Sequence[Preview] = ()
) -> str:
    """The plan in ``fmt``, followed by slot ``previews`` when given (``plan --preview``). ``color``
    adds ANSI colours to text only; JSON and Markdown ignore it."""
    _check(fmt)
    if fmt == "json":
        if not previews:
            return jsonfmt.render_plan(plan)
        return jsonfmt.dump({**jsonfmt.plan_document(plan), "previews": [preview_document(p) for p in previews]})
    body = markdown.render_plan(plan) if fmt == "markdown" else text.render_plan(plan, color=color)
    return body + "".join("\n" + render_preview(p, fmt) for p in previews)


def render_drift(report: DriftReport, fmt: Format | str = "text", *, color: bool = False) -> str:
    """The drift report in ``fmt``. ``color`` applies to text only."""
    _check(fmt)
    if fmt == "json":
        return jsonfmt.render_drift(report)
    if fmt == "markdown":
        return markdown.render_drift(report)
    return text.render_drift(report, color=color)
