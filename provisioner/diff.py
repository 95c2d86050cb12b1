"""Leaf-level differences between two JSON documents. Pure.

deepdiff does the comparison; its result types never leave this module: callers get `Leaf` values
with dotted paths (``config.booking.opening_hours[0].end``) in a fixed order.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Any

_PART = re.compile(r"\[('(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|\d+)\]")


@dataclass(frozen=True, slots=True)
class Leaf:
    """One difference: the value at ``path`` in ``old`` and in ``new`` (``*_present`` False = absent)."""

    path: str
    old: Any
    new: Any
    old_present: bool = True
    new_present: bool = True


def _dotted(deep_path: str) -> str:
    """``root['config']['days'][0]`` -> ``config.days[0]``."""
    out = ""
    for token in _PART.findall(deep_path[len("root"):]):
        if token[0] in "'\"":
            out += ("." if out else "") + token[1:-1]
        else:
            out += f"[{token}]"
    return out


def diff(old: dict[str, Any], new: dict[str, Any]) -> list[Leaf]:
    """Every leaf that differs between two JSON-like documents, sorted by path.

    Lists compare position by position (order matters to the API); a dict or list that appears or
    disappears whole is one leaf. ``1`` and ``1.0`` are equal.
    """
    if old == new:
        return []
    from deepdiff import DeepDiff  # ~50 ms to import: a plan with nothing to change never needs it

    result = DeepDiff(old, new, verbose_level=2, ignore_numeric_type_changes=True)
    leaves: list[Leaf] = []
    for kind, items in result.items():
        for deep_path, detail in items.items():
            path = _dotted(deep_path)
            if kind in ("values_changed", "type_changes"):
                leaves.append(Leaf(path, detail["old_value"], detail["new_value"]))
            elif kind in ("dictionary_item_added", "iterable_item_added"):
                leaves.append(Leaf(path, None, detail, old_present=False))
            elif kind in ("dictionary_item_removed", "iterable_item_removed"):
                leaves.append(Leaf(path, detail, None, new_present=False))
            else:  # pragma: no cover - kinds deepdiff reports only for options we do not use
                raise AssertionError(f"unexpected deepdiff result kind {kind!r}")
    return sorted(_whole_scalar_lists(leaves, old, new), key=lambda leaf: _sort_key(leaf.path))


_INDEX_AT_END = re.compile(r"^(.*)\[(\d+)\]$")


def _whole_scalar_lists(leaves: list[Leaf], old: Any, new: Any) -> list[Leaf]:
    """Changes inside a list of plain values (``days: [M, T, W]``) as one change of the whole list:
    element-wise changes of such lists read badly and deepdiff may align them by similarity."""
    out: list[Leaf] = []
    done: set[str] = set()
    for leaf in leaves:
        match = _INDEX_AT_END.match(leaf.path)
        if match:
            parent = match.group(1)
            (had, before), (has, after) = get_path(old, parent), get_path(new, parent)
            lists = [v for v in (before, after) if isinstance(v, list)]
            if lists and all(not isinstance(x, dict | list) for v in lists for x in v):
                if parent not in done:
                    done.add(parent)
                    out.append(Leaf(parent, before, after, had, has))
                continue
        out.append(leaf)
    return out


def _sort_key(path: str) -> list[tuple[int, Any]]:
    # Numeric list indices sort as numbers, so [2] comes before [10].
    return [(1, int(p)) if p.isdigit() else (0, p) for p in re.split(r"[.\[\]]+", path) if p]


def leaves(doc: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """Every leaf of a document as ``(dotted path, value)``, in document order; empty containers and
    lists of plain values (``days: [M, T]``) count as one leaf."""
    if isinstance(doc, dict) and doc:
        items = [(f"{prefix}.{k}" if prefix else str(k), v) for k, v in doc.items()]
    elif isinstance(doc, list) and any(isinstance(v, dict | list) for v in doc):
        items = [(f"{prefix}[{i}]", v) for i, v in enumerate(doc)]
    else:
        return [(prefix, doc)]
    return [leaf for path, value in items for leaf in leaves(value, path)]


def get_path(doc: Any, path: str) -> tuple[bool, Any]:
    """``(found, value)`` at a path such as ``config.booking.opening_hours[0].end``."""
    node = doc
    for part in re.findall(r"[^.\[\]]+", path):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return False, None
    return True, node


def set_path(doc: dict[str, Any], path: str, found: bool, value: Any) -> None:
    """Set (or, when ``found`` is false, remove) the value at a dotted path of mappings, in place."""
    parts = path.split(".")
    node = doc
    for part in parts[:-1]:
        nxt = node.get(part)
        if not isinstance(nxt, dict):
            if not found:
                return
            nxt = node[part] = {}
        node = nxt
    if found:
        node[parts[-1]] = copy.deepcopy(value)
    else:
        node.pop(parts[-1], None)


def under(path: str, prefixes: tuple[str, ...]) -> bool:
    """True when ``path`` is one of ``prefixes`` or lies below one (``a.b`` is under ``a``)."""
    return any(path == p or path.startswith(p + ".") or path.startswith(p + "[") for p in prefixes)
