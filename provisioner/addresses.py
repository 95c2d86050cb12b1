"""ADDRESS: a page's path under ``pages/`` without its suffix (``sales/demo``), checked in one place.

Every command that takes an address (``import``, ``pull``, ``state mv|rm|show``, ``preview``,
``--target``), the loader for the addresses it derives from file names, and the state backends for
the addresses they read all use `address_problem` / `parse_address`, so that an address is always a
path under ``pages/`` and nothing else: no ``..`` or ``.`` part, not absolute, no empty part, no
hidden part (the loader ignores those files), no control or format characters (which a terminal
would act on), no backslash, no ``.yaml`` suffix and not a ``_defaults`` file.
"""

from __future__ import annotations

import unicodedata

from .errors import ProvisionerError

MAX_PART = 200  # a file name is at most 255 bytes on most file systems; leave room for the suffix
MAX_ADDRESS = 1000
_SUFFIXES = (".yaml", ".yml")
_BAD_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}  # controls, format (bidi), surrogates, unassigned


class AddressError(ProvisionerError):
    """A command was given an address that is not a path under pages/."""


def shown(text: str) -> str:
    """``text`` safe to print: quoted with escapes when it holds anything a terminal would act on."""
    return text if text.isprintable() else repr(text)


def address_problem(text: object) -> str | None:
    """Why ``text`` is not a valid ADDRESS, or None when it is one."""
    if not isinstance(text, str) or not text:
        return "an address cannot be empty"
    if len(text) > MAX_ADDRESS:
        return f"an address has at most {MAX_ADDRESS} characters"
    bad = next((c for c in text if unicodedata.category(c) in _BAD_CATEGORIES or not c.isprintable()), None)
    if bad is not None:
        return f"an address cannot contain the character {bad!r} (control, format or not valid text)"
    if "\\" in text:
        return "an address uses '/' between folders, never '\\'"
    if text.startswith("/"):
        return "an address is a path under pages/, not an absolute path"
    parts = text.split("/")
    for part in parts:
        if part == "":
            return "an address cannot have an empty part ('//' or a '/' at either end)"
        if part in (".", ".."):
            return f"an address cannot contain {part!r}: it must stay under pages/"
        if part.startswith("."):
            return f"an address cannot have a hidden part ({part!r}): pages/ ignores such files"
        if len(part) > MAX_PART:
            return f"each part of an address has at most {MAX_PART} characters"
    if parts[-1].endswith(_SUFFIXES):
        return "an address has no .yaml suffix: write the path under pages/ without it"
    if parts[-1] == "_defaults":
        return "_defaults is no page address: that file is merged under the pages of its folder"
    return None


def parse_address(text: str, what: str = "ADDRESS") -> str:
    """``text`` as an ADDRESS; raises `AddressError` (naming ``what``, e.g. ``--target``) if it is not one."""
    problem = address_problem(text)
    if problem is not None:
        hint = ""
        if isinstance(text, str) and text.endswith(_SUFFIXES) and problem.startswith("an address has no"):
            hint = f"; did you mean {shown(text.rsplit('.', 1)[0])}?"
        given = shown(text) if isinstance(text, str) and text else repr(text)
        raise AddressError(f"{what} {given}: {problem}{hint}")
    return text


def parse_folder(text: str, what: str = "FOLDER") -> str:
    """A folder under pages/ for pages adopted at ``FOLDER/SLUG``; ``""`` (or ``/``) is pages/ itself."""
    folder = text.removesuffix("/")
    return parse_address(folder, what) if folder else ""
