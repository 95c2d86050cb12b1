"""Plans and drift reports rendered as text, JSON or Markdown: functions that return strings.

`render_plan` and `render_drift` dispatch on the format name; each format lives in its own module
(`text`, `jsonfmt`, `markdown`) and shares value formatting and redaction through `values`. Every
output ends with a newline and is deterministic: the same input gives the same string. Secrets are
redacted in every format (see `values`).
"""

from __future__ import annotations

from typing import Literal

from ..changes import DriftReport, Plan
from . import jsonfmt, markdown, text

Format = Literal["text", "json", "markdown"]
FORMATS: tuple[str, ...] = ("text", "json", "markdown")

__all__ = ["FORMATS", "Format", "render_drift", "render_plan"]


def _check(fmt: str) -> None:
    if fmt not in FORMATS:
        raise ValueError(f"unknown output format {fmt!r}; expected one of {', '.join(FORMATS)}")


def render_plan(plan: Plan, fmt: Format | str = "text", *, color: bool = False) -> str:
    """The plan in ``fmt``. ``color`` adds ANSI colours to text only; JSON and Markdown ignore it."""
    _check(fmt)
    if fmt == "json":
        return jsonfmt.render_plan(plan)
    if fmt == "markdown":
        return markdown.render_plan(plan)
    return text.render_plan(plan, color=color)


def render_drift(report: DriftReport, fmt: Format | str = "text", *, color: bool = False) -> str:
    """The drift report in ``fmt``. ``color`` applies to text only."""
    _check(fmt)
    if fmt == "json":
        return jsonfmt.render_drift(report)
    if fmt == "markdown":
        return markdown.render_drift(report)
    return text.render_drift(report, color=color)
