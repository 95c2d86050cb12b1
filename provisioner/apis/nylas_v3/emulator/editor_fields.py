"""What Nylas's configuration editor (``<nylas-scheduler-editor>``) puts in the configurations it
saves beyond the spec, taken as the real API takes them (`choices.EDITOR_EXTRAS_DROPPED`,
`choices.EMPTY_CONFERENCING_IS_NONE`); read from the PUT bodies the editor of ``@nylas/web-elements``
2.5.18 sends. Pure: the body is never modified, a new one is returned.
"""

from __future__ import annotations

import copy
from typing import Any

from provisioner.apis.nylas_v3 import choices


def _drop(body: dict[str, Any], path: tuple[str, ...]) -> None:
    node: Any = body
    for key in path[:-1]:
        node = node.get(key) if isinstance(node, dict) else None
    if isinstance(node, dict):
        node.pop(path[-1], None)


def without_editor_extras(body: dict[str, Any]) -> dict[str, Any]:
    """`body` without the editor's fields that no configuration stores."""
    out = copy.deepcopy(body)
    for path in choices.EDITOR_EXTRAS_DROPPED:
        _drop(out, path)
    event_booking = out.get("event_booking")
    if isinstance(event_booking, dict) and event_booking.get("conferencing") == {}:
        del event_booking["conferencing"]
    return out
