"""How an emulated API words a pydantic validation failure: every invalid field by its path, and
never an input value (a request body can hold tokens)."""

from __future__ import annotations

from pydantic import ValidationError


def _loc(parts: tuple[int | str, ...]) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "body"


def validation_message(exc: ValidationError, prefix: str = "") -> str:
    """One message naming every invalid field by its path; input values are never included."""
    problems = []
    for err in exc.errors(include_input=False, include_url=False, include_context=False):
        where = _loc(tuple(err["loc"]))
        what = "unknown field" if err["type"] == "extra_forbidden" else err["msg"]
        problems.append(f"{prefix}{where}: {what}")
    return "Invalid request: " + "; ".join(problems)
