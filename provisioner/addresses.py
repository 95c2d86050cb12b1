"""ADDRESS: a page's path under ``pages/`` without its suffix (``sales/demo``), checked in one place.

Every command that takes an address (``import``, ``pull``, ``state mv|rm|show``, ``preview``,
``--target``), the loader for the addresses it derives from file names, and the state backends for
the addresses they read all use `address_problem` / `parse_address`, so that an address is always a
path under ``pages/`` and nothing else: no ``..`` or ``.`` part, not absolute, no empty part, no
hidden part (the loader ignores those files), no control or format characters (which a terminal
would act on), no backslash, no ``.yaml`` suffix and not a ``_defaults`` file.

A page generated from a roster (`roster`) has the address of its template with the entry's key in
brackets: ``sales/demo[alice]`` (template ``pages/sales/_demo.template.yaml``, entry ``alice``). Brackets
appear nowhere else: a folder or a page file name holding ``[`` or ``]`` is refused, so a generated
address can never be a file's.
"""

from __future__ import annotations

import re
import unicodedata

from .errors import ProvisionerError

MAX_PART = 200  # a file name is at most 255 bytes on most file systems; leave room for the suffix
MAX_ADDRESS = 1000
_SUFFIXES = (".yaml", ".yml")
KEY_PATTERN = r"[a-z0-9][a-z0-9_-]*"
"""A roster entry's key: what goes between the brackets of a generated page's address."""
_GENERATED = re.compile(rf"^([^\[\]]+)\[({KEY_PATTERN})\]$")
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
    plain = text.isascii() and text.isprintable()  # no ASCII character is format, surrogate or unassigned
    bad = None if plain else next(
        (c for c in text if unicodedata.category(c) in _BAD_CATEGORIES or not c.isprintable()), None)
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
    if any("[" in part or "]" in part for part in parts[:-1]):
        return "brackets belong only at the end of a generated page's address, e.g. sales/demo[alice]"
    if ("[" in parts[-1] or "]" in parts[-1]) and not _GENERATED.match(parts[-1]):
        return ("a generated page's address is TEMPLATE[KEY], the key in lowercase letters, digits, '_' and '-' "
                "(e.g. sales/demo[alice])")
    if parts[-1].endswith(_SUFFIXES):
        return "an address has no .yaml suffix: write the path under pages/ without it"
    if parts[-1] == "_defaults":
        return "_defaults is no page address: that file is merged under the pages of its folder"
    return None


def generated(template_address: str, key: str) -> str:
    """The address of the page generated for roster entry ``key`` from the template at ``template_address``."""
    return f"{template_address}[{key}]"


def split_generated(address: str) -> tuple[str, str] | None:
    """``sales/demo[alice]`` -> ``("sales/demo", "alice")``; None for the address of a page file."""
    folder, _, last = address.rpartition("/")
    match = _GENERATED.match(last)
    if match is None:
        return None
    return (f"{folder}/{match.group(1)}" if folder else match.group(1)), match.group(2)


def parse_file_address(text: str, what: str = "ADDRESS") -> str:
    """`parse_address` for a command that writes a page file (``import``, ``pull``): a generated page
    has none (its template and roster entry are its source), so its address is refused with a hint."""
    address = parse_address(text, what)
    parts = split_generated(address)
    if parts is not None:
        raise AddressError(f"{what} {shown(address)}: a page generated from a roster has no page file of its own; "
                           f"edit its roster entry or the template of {shown(parts[0])} instead")
    return address


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
