"""Preview (slots a change adds and removes) -> text, JSON or Markdown."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from ..preview import Preview
from .jsonfmt import FORMAT_VERSION, dump
from .values import clean

ASSUMPTION = "hosts' calendars assumed free, no bookings"


def _header(p: Preview) -> str:
    return f"Slots of {p.address} from {p.start.isoformat()} for {p.days} day(s), {p.timezone} ({ASSUMPTION})"


def _totals(p: Preview) -> str:
    if p.live_total is None:
        return f"YAML: {p.desired_total} slot(s); the page is not live yet."
    delta = p.desired_total - p.live_total
    return f"YAML: {p.desired_total} slot(s); live: {p.live_total} ({delta:+d})."


def _lines(p: Preview) -> list[str]:
    if p.live_total is None:
        return [f"  {run.describe(p.timezone)}" for run in p.desired]
    if not p.changed:
        return ["  No change to the bookable slots."]
    return [f"  + {run.describe(p.timezone, '+')}" for run in p.added] + [
        f"  - {run.describe(p.timezone, '-')}" for run in p.removed
    ]


def _share(p: Preview) -> list[str]:
    """Round-robin pages: the expected share of bookings per host, YAML beside live."""
    if not p.desired_share:
        return []
    total = sum(n for _, n in p.desired_share) or 1
    live = dict(p.live_share)
    live_total = sum(live.values()) or 1
    lines = ["  Expected share of bookings per host (every offered start booked in turn):"]
    for name, count in p.desired_share:
        text = f"    {name}: YAML {count} ({100 * count // total}%)"
        if p.live_share:
            text += f", live {live.get(name, 0)} ({100 * live.get(name, 0) // live_total}%)"
        lines.append(text)
    return lines


def preview_document(preview: Preview) -> dict[str, Any]:
    return {"format_version": FORMAT_VERSION, "kind": "preview", **asdict(preview), "start": preview.start.isoformat()}


def render_preview(preview: Preview, fmt: str = "text") -> str:
    if fmt == "json":
        return dump(preview_document(preview))
    if fmt == "markdown":
        body = "\n".join(clean(line.replace("  ", "", 1)) for line in [*_lines(preview), *_share(preview)])
        return (f"#### Bookable slots: `{clean(preview.address)}`\n\n{_totals(preview)} _{ASSUMPTION}; "
                f"from {preview.start.isoformat()} for {preview.days} day(s)._\n\n```diff\n{body}\n```\n")
    if fmt != "text":
        raise ValueError(f"unknown format {fmt!r}")
    lines = [_header(preview), _totals(preview), *_lines(preview), *_share(preview)]
    return "\n".join(clean(line) for line in lines) + "\n"
