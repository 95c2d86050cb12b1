"""How the loader words a problem: pydantic errors as `Problem`s at their source position, a value's
kind instead of the value (it might be a secret), close-match hints, and text made printable."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping
from typing import Any

from provisioner.apis import V2, Api, get_api

from .errors import Problem
from .schema_paths import annotation_at, fields_of
from .yamlfile import PathKey, format_path, lookup

Origin = tuple[str, int | None, int | None]
"""Where a value was written: (file, line, column)."""


def did_you_mean(word: str, choices: list[str]) -> str | None:
    match = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f"did you mean {match[0]!r}?" if match else None


def printable(text: str) -> str:
    """``text`` with every character a terminal would not show as itself escaped (a byte order
    mark, a right-to-left override in a key: the reader must see what is really there)."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


EXPECTED = {
    "model_type": "a mapping (key: value lines)", "model_attributes_type": "a mapping (key: value lines)",
    "dict_type": "a mapping (key: value lines)", "list_type": "a list", "string_type": "text",
    "int_type": "a whole number", "int_parsing": "a whole number", "int_from_float": "a whole number",
    "float_type": "a number", "float_parsing": "a number", "bool_type": "true or false",
    "bool_parsing": "true or false",
}


def kind(value: Any) -> str:
    """What sort of value this is, without showing it (it might be a secret)."""
    if value is None:
        return "empty (null)"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    return "a list" if isinstance(value, list) else "a mapping"


def translate(where: Callable[[PathKey], Origin], data: dict[Any, Any], error: Mapping[str, Any],
              api: Api | None = None) -> Problem:
    """One pydantic error (from ``errors(include_input=False)``) as a `Problem` at its source position
    (``where`` gives the file, line and column a path was written at)."""
    loc, code, msg = tuple(error["loc"]), error["type"], str(error["msg"])
    file, line, column = where(loc)
    hint = None
    if code == "extra_forbidden":
        chosen = api or get_api(V2)
        fields = fields_of(annotation_at(loc[:-1], chosen.page_model)) or {}
        message = f"unknown field {loc[-1]!r}"
        hint = did_you_mean(str(loc[-1]), list(fields))
        if not loc[:-1] and loc[-1] in chosen.config_model.model_fields:
            hint = f"{loc[-1]!r} belongs under config:"
    elif code == "invalid_key" or loc[-1:] == ("[key]",):
        loc = loc[:-1] if code != "invalid_key" else loc
        loc, message, hint = (*loc[:-1], str(loc[-1])), f"key {loc[-1]!r} must be text", "quote it"
    elif code == "missing":
        message = "is required"
    elif code in EXPECTED:
        _, value = lookup(data, loc)
        message = f"must be {EXPECTED[code]}, not {kind(value)}"
        if code == "string_type" and isinstance(value, int | float):
            hint = "quote it to make it text"
    elif code == "literal_error":
        expected = str(error.get("ctx", {}).get("expected", ""))
        message = f"must be one of {expected}"
        _, value = lookup(data, loc)
        if isinstance(value, str) and len(value) <= 40:
            message += f", not {value!r}"
            hint = did_you_mean(value, re.findall(r"'([^']*)'", expected))
    elif code == "too_short":
        message = f"must have at least {error.get('ctx', {}).get('min_length', 1)} item(s)"
    elif code == "too_long":
        message = f"must have at most {error.get('ctx', {}).get('max_length')} item(s)"
    elif code == "string_too_long":
        message = f"must be at most {error.get('ctx', {}).get('max_length')} characters long"
    else:
        message = msg.removeprefix("Value error, ").replace("Input should be", "must be")
    return Problem(file, line, column, format_path(loc), message, hint)
