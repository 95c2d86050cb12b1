"""The loss report of `provisioner convert` as text: one block per page, one entry per v2 field.

Entries are in the conversion's fixed order (page address, then v2 path), so the same tree always
gives the same report. Values are shown as JSON, shortened; text from the files goes through `clean`.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from .values import clean

if TYPE_CHECKING:
    from ..convert import Conversion

_MAX_VALUE = 80
MARKS = {"dropped": "-", "lossy": "~"}


def _value(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return clean(text if len(text) <= _MAX_VALUE else text[: _MAX_VALUE - 3] + "...")


def render_losses(result: Conversion) -> str:
    """The report: a header, each page with its losses (``-`` dropped, ``~`` lossy), a summary line."""
    lines = [f"Converting {len(result.pages)} page(s) from {clean(str(result.pages_dir))}/ "
             f"to nylas-v3 page files in {clean(str(result.out))}/.", ""]
    for page in result.pages:
        if not page.losses:
            lines.append(f"{clean(page.address)}: no loss")
            continue
        lines.append(f"{clean(page.address)}:")
        for loss in page.losses:
            lines.append(f"  {MARKS[loss.kind]} {clean(loss.path)} = {_value(loss.value)}")
            where = f" -> {clean(loss.v3_path)}" if loss.v3_path else ""
            lines.append(f"      {loss.kind}{where}: {clean(loss.note)}")
    dropped = sum(1 for loss in result.losses if loss.kind == "dropped")
    lossy = len(result.losses) - dropped
    touched = sum(1 for page in result.pages if page.losses)
    lines += ["", f"Losses: {dropped} dropped, {lossy} lossy, in {touched} of {len(result.pages)} page(s)."]
    if result.written:
        lines.append(f"Wrote {len(result.pages)} page file(s) to {clean(str(result.out))}/; "
                     f"{clean(str(result.pages_dir))}/ is unchanged.")
    return "\n".join(lines) + "\n"
