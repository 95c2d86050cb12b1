"""JSON that refuses a key written twice in one object, and finds the lines where keys are written.

`json.loads` keeps the last of two equal keys silently: in a lockfile, two entries for one address
(a bad merge, a hand edit) would lose a page without a word. `loads_strict` refuses that, and
`key_lines` (a scan run only to name lines in an error) says where each key of each object is.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from typing import Any

_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\]:]', re.DOTALL)


class DuplicateKey(ValueError):
    """A JSON object with a key written twice; ``key`` is that key."""

    def __init__(self, key: str):
        super().__init__(key)
        self.key = key


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise DuplicateKey(key)
            seen.add(key)
    return out


def loads_strict(text: str) -> Any:
    """`json.loads`, raising `DuplicateKey` for an object with a key written twice."""
    return json.loads(text, object_pairs_hook=_pairs)


def key_lines(text: str) -> dict[tuple[str, ...], list[int]]:
    """For every object key, by its path of keys from the top (array items add no part): the 1-based
    lines where it is written, in order. Two lines for one path in one object is a duplicate; paths
    inside arrays may repeat across items. ``text`` should be valid JSON (garbage gives partial answers)."""
    found: dict[tuple[str, ...], list[int]] = defaultdict(list)
    stack: list[tuple[str, ...]] = []  # the path of each open object or array
    path: tuple[str, ...] = ()
    pending: tuple[str, int] | None = None  # the last string, which a ':' makes a key
    line, counted = 1, 0
    for match in _TOKEN.finditer(text):
        token = match.group()
        if token == ":" and pending is not None:
            key, line = pending
            path = (*stack[-1], key) if stack else (key,)
            found[path].append(line)
        elif token in "{[":
            stack.append(path if stack else ())
        elif token in "}]":
            if stack:
                stack.pop()
            path = stack[-1] if stack else ()
        pending = None
        if token.startswith('"'):
            try:
                line, counted = line + text.count("\n", counted, match.start()), match.start()
                pending = (json.loads(token), line)
            except ValueError:
                pending = None
    return dict(found)
