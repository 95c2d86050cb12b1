"""Walking the page-file schema (pydantic models) by path: for checks, hints and ordering."""

from __future__ import annotations

import difflib
from inspect import isclass
from typing import Any, get_args, get_origin

from pydantic import BaseModel

from provisioner.apis import V2, get_api
from provisioner.apis.yamlout import unwrap

from .yamlfile import PathKey


def fields_of(annotation: Any) -> dict[str, Any] | None:
    """Field name -> annotation when ``annotation`` is a model, else None."""
    inner = unwrap(annotation)
    if isclass(inner) and issubclass(inner, BaseModel):
        return {name: f.annotation for name, f in inner.model_fields.items()}
    return None


def annotation_at(path: PathKey, root: Any = None) -> Any:
    """The annotation at a path of data under ``root`` (the v2 page file by default), or None when the
    path leaves the schema."""
    annotation: Any = root if root is not None else get_api(V2).page_model
    for part in path:
        fields = fields_of(annotation)
        inner = unwrap(annotation)
        if fields is not None:
            annotation = fields.get(part) if isinstance(part, str) else None
        elif get_origin(inner) is list and isinstance(part, int):
            annotation = get_args(inner)[0]
        elif get_origin(inner) is dict:
            annotation = get_args(inner)[1]
        else:
            return None
        if annotation is None:
            return None
    return annotation


# What `lax_scalar_problems` needs to know of an annotation, worked out once per annotation (a page file
# has a few dozen; the loader asks for every value of every page). Keyed by id, the annotation kept alive
# with its entry (an ``Annotated[...]`` is not always hashable).
_BOOL, _NUMBER, _MODEL, _ITEMS, _OTHER = range(5)
_SHAPES: dict[int, tuple[Any, int, Any]] = {}


def _shape(annotation: Any) -> tuple[int, Any]:
    """(kind, detail): bool; int or float; a model (detail: its fields); a list or dict (detail: the
    item annotation); anything else."""
    known = _SHAPES.get(id(annotation))
    if known is not None and known[0] is annotation:
        return known[1], known[2]
    inner, fields = unwrap(annotation), fields_of(annotation)
    if inner is bool:
        kind, detail = _BOOL, None
    elif inner in (int, float):
        kind, detail = _NUMBER, None
    elif fields is not None:
        kind, detail = _MODEL, fields
    elif get_origin(inner) in (list, dict):
        kind, detail = _ITEMS, get_args(inner)[-1]
    else:
        kind, detail = _OTHER, None
    _SHAPES[id(annotation)] = (annotation, kind, detail)
    return kind, detail


def lax_scalar_problems(value: Any, annotation: Any, path: PathKey = ()) -> list[tuple[PathKey, str, str | None]]:
    """``(path, message, hint)`` for what pydantic's lax mode would accept but YAML users do not mean:
    ``yes``/``no``/``on`` as booleans, and ``true`` as the number 1. ``access_tokens`` is not looked
    into (its values are secrets, checked in `load` without quoting them)."""
    kind, detail = _shape(annotation)
    if kind == _BOOL:
        if isinstance(value, str) and value not in ("true", "false"):
            return [(path, f"must be true or false, not the text {value[:20]!r}", "write true or false")]
    elif kind == _NUMBER:
        if isinstance(value, bool):
            return [(path, "must be a number, not true/false", None)]
    elif kind == _MODEL:
        if isinstance(value, dict):
            return [found for key, item in value.items() if key in detail and key != "access_tokens"
                    for found in lax_scalar_problems(item, detail[key], (*path, key))]
    elif kind == _ITEMS and isinstance(value, list | dict):
        items = value.items() if isinstance(value, dict) else enumerate(value)
        return [found for key, item in items for found in lax_scalar_problems(item, detail, (*path, key))]
    return []


def ignore_path_problem(path: str, config_model: Any = None) -> tuple[str, str | None] | None:
    """Why ``path`` is not a valid ``lifecycle.ignore_changes`` entry, as (message, hint); None if valid.

    Valid: ``name``, or ``config.`` followed by fields of the config model; any key is fine under a
    mapping such as ``calendar_ids``; list items cannot be addressed.
    """
    parts = path.split(".")
    if path == "name":
        return None
    if parts[0] != "config" or len(parts) < 2:
        return (f"cannot ignore {path!r}: only name and config.* paths", "for example config.appearance")
    annotation: Any = config_model if config_model is not None else get_api(V2).config_model
    for i, part in enumerate(parts[1:], start=1):
        inner, fields, done = unwrap(annotation), fields_of(annotation), ".".join(parts[:i])
        if fields is not None:
            if part not in fields:
                match = difflib.get_close_matches(part, list(fields), n=1, cutoff=0.6)
                hint = f"did you mean {'.'.join([*parts[:i], match[0]])!r}?" if match else None
                return f"unknown path {path!r}: {done} has no field {part!r}", hint
            annotation = fields[part]
        elif get_origin(inner) is dict and part:
            annotation = get_args(inner)[1]
        elif get_origin(inner) is list:
            return f"cannot ignore {path!r}: list items have no path", f"ignore the whole list: {done}"
        else:
            return f"unknown path {path!r}: {done} has no fields", f"ignore {done} itself"
    return None
