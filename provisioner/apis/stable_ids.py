"""Stable ids for emulated accounts, grants and calendars: derived from a hash, so the same token
or grant gets the same id in every emulator database."""

from __future__ import annotations

import string

_BASE36 = string.digits + string.ascii_lowercase


def base36(data: bytes, length: int) -> str:
    """``length`` base-36 characters (digits, lowercase letters) of ``data`` read as a number."""
    number = int.from_bytes(data, "big")
    out = []
    for _ in range(length):
        number, digit = divmod(number, 36)
        out.append(_BASE36[digit])
    return "".join(out)
