"""The scalar types of the v3 configuration model: bounded strings, anchored (``re.fullmatch``),
linear-time patterns, IANA zones, days, dates, and additional-field patterns that cannot backtrack
exponentially. Their bounds and patterns are named choices in `choices`.
"""

from __future__ import annotations

import functools
import re
import re._parser as _parser  # the stdlib's own pattern parser: to refuse patterns that backtrack exponentially
from datetime import date
from typing import Annotated, Any
from zoneinfo import available_timezones

from pydantic import AfterValidator, Field

from provisioner.apis.nylas_v3 import choices as c


def _fullmatch(pattern: str, what: str) -> Any:
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if compiled.fullmatch(value) is None:
            raise ValueError(f"must be {what}")
        return value

    return AfterValidator(check)


@functools.cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def _check_zone(value: str) -> str:
    if value not in _zones():
        raise ValueError("must be an IANA time zone (for example 'Europe/Paris')")
    return value


_REPEATS = {_parser.MAX_REPEAT, _parser.MIN_REPEAT, getattr(_parser, "POSSESSIVE_REPEAT", _parser.MAX_REPEAT)}


def _items(node: Any) -> Any:
    """Every (op, argument) pair of a parsed pattern, at any depth."""
    if isinstance(node, tuple) and len(node) == 2 and isinstance(node[0], type(_parser.BRANCH)):
        yield node
        node = node[1]
    if isinstance(node, _parser.SubPattern | list | tuple):
        for child in node:
            yield from _items(child)


def _risky(node: Any) -> str | None:
    """Why a parsed pattern may take more than linear time in `re`, or None: a repeated part holding
    another repeat or an alternation (``(a+)+``, ``(a|aa)*``), or a backreference."""
    for op, arg in _items(node):
        if op in (_parser.GROUPREF, _parser.GROUPREF_EXISTS):
            return "must not use backreferences"
        if op in _REPEATS and arg[1] > 1:
            inner = [o for o, _ in _items(arg[2])]
            if any(o in _REPEATS and a[1] > a[0] for o, a in _items(arg[2])) or _parser.BRANCH in inner:
                return "must not repeat a part that repeats or alternates (such a pattern can take exponential time)"
    return None


def _check_pattern(value: str) -> str:
    """An additional field's ``pattern``: a valid regular expression that cannot backtrack
    exponentially in `re` (`choices.PATTERN_SAFE_ONLY`)."""
    try:
        parsed = _parser.parse(value)
        re.compile(value)
    except (re.error, RecursionError, OverflowError) as exc:
        raise ValueError(f"is not a valid regular expression ({getattr(exc, 'msg', type(exc).__name__)})") from None
    reason = _risky(parsed)
    if reason:
        raise ValueError(reason)
    return value


Short = Annotated[str, Field(max_length=c.SHORT_TEXT_MAX)]
LongText = Annotated[str, Field(max_length=c.LONG_TEXT_MAX)]
Url = Annotated[str, Field(max_length=c.URL_MAX)]
Email = Annotated[str, Field(min_length=3, max_length=c.SHORT_TEXT_MAX),
                  _fullmatch(c.EMAIL_PATTERN, "an e-mail address")]
HHMM = Annotated[str, Field(min_length=5, max_length=5), _fullmatch(c.HHMM_PATTERN, "a time HH:MM (00:00-23:59)")]
Date = Annotated[str, Field(min_length=10, max_length=10), _fullmatch(c.DATE_PATTERN, "a date YYYY-MM-DD")]
Zone = Annotated[str, Field(min_length=1, max_length=64), AfterValidator(_check_zone)]
Day = Annotated[int, Field(ge=0, le=6, description="0 = Sunday ... 6 = Saturday")]
Key = Annotated[str, Field(min_length=1, max_length=c.KEY_MAX), _fullmatch(c.KEY_PATTERN, "a key of letters, "
                                                                            "digits, '_', '.' or '-'")]
Slug = Annotated[str, Field(min_length=1, max_length=64),
                 _fullmatch(c.SLUG_PATTERN, "lowercase letters, digits and inner hyphens")]
Pattern = Annotated[str, Field(max_length=c.PATTERN_MAX), AfterValidator(_check_pattern)]
Id = Annotated[str, Field(min_length=1, max_length=c.SHORT_TEXT_MAX)]
Minutes = Annotated[int, Field(ge=0, le=c.NOTICE_MAX_MINUTES)]


def _check_date(value: str) -> str:
    try:
        date.fromisoformat(value)
    except ValueError:
        raise ValueError("must be a real calendar date YYYY-MM-DD") from None
    return value


RealDate = Annotated[Date, AfterValidator(_check_date)]
