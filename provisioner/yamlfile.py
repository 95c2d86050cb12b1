"""YAML with source positions, read the way users mean it.

`load_yaml` parses one file with a checking, safe loader and returns a `YamlDoc`: the plain data
plus the (line, column) of every mapping key and list item, so that later errors can point at the
exact spot. Problems in the file itself (broken syntax, tabs, duplicate keys, tags) come back as one
`ConfigError` holding every problem found in that file.

Scalars follow the YAML 1.2 core schema, not PyYAML's YAML 1.1 default: only ``true``/``false`` are
booleans (``yes``, ``no``, ``on``, ``off`` stay strings), ``17:00`` stays the string ``"17:00"``
(YAML 1.1 would read it as the base-60 number 1020), ``010`` is ten, and dates stay strings. Only the
core tags are accepted (``!!str``, ``!!int``, ``!!float``, ``!!bool``, ``!!null``, ``!!map``,
``!!seq``); anchors, aliases and ``<<`` merge keys work as usual.

Hostile files are problems like any other, never a traceback: a tag with a value it cannot take
(``!!int 0x``, ``!!float abc``), an integer past Python's digit limit, nesting deeper than
`MAX_DEPTH`, aliases that expand past `yamlshape.MAX_VALUES` values or contain themselves, files larger than
`MAX_FILE_BYTES` (never read further), and text holding a
NUL, another control character (tab, newline and carriage return excepted) or a lone surrogate.
"""

from __future__ import annotations

import os
import re
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node, ScalarNode

from .errors import ConfigError, Problem
from .yamlshape import BAD_CHAR, MAX_DEPTH, STR_TAG, UNKEYED, check_shape, key_of, walk

PathKey = tuple[Any, ...]
"""A path into the data: mapping keys and list indices, e.g. ``("config", "reminders", 0)``."""

Position = tuple[int, int]
"""(line, column), both 1-based."""

MAX_FILE_BYTES = 1_048_576  # a page file is a few KiB


def format_path(path: PathKey) -> str:
    """``("config", "opening_hours", 0, "end")`` -> ``"config.opening_hours[0].end"``."""
    out = ""
    for part in path:
        if isinstance(part, int) and not isinstance(part, bool):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def parse_path(text: str) -> PathKey:
    """Inverse of `format_path` for string keys and list indices."""
    return tuple(int(m.group(2)) if m.group(2) is not None else m.group(1) for m in _PART.finditer(text))


@dataclass(frozen=True)
class YamlDoc:
    """One parsed YAML file.

    ``data`` is plain Python (dict, list, str, int, float, bool, None; None for an empty file).
    ``positions`` maps the path of every mapping key and list item to where it starts; the root
    ``()`` is the start of the document.
    """

    file: str
    data: Any
    positions: dict[PathKey, Position] = field(default_factory=dict)

    def position(self, path: PathKey | str) -> Position | None:
        """Where exactly ``path`` is written, or None if it is not in this file."""
        key = parse_path(path) if isinstance(path, str) else tuple(path)
        return self.positions.get(key)

    def locate(self, path: PathKey | str) -> Position:
        """Where ``path`` is, or else its nearest written ancestor (for a missing field: its parent)."""
        key = parse_path(path) if isinstance(path, str) else tuple(path)
        for end in range(len(key), -1, -1):
            found = self.positions.get(key[:end])
            if found is not None:
                return found
        return (1, 1)


# --- the loader ----------------------------------------------------------------------------------

_CORE_TAGS = ("null", "bool", "int", "float", "str", "seq", "map")


class _Rules:
    """The rules of both loaders: YAML 1.2 core-schema scalars, core tags only, duplicate-key checks."""

    yaml_implicit_resolvers: dict[Any, Any] = {}
    yaml_constructors: dict[Any, Any] = {
        f"tag:yaml.org,2002:{t}": yaml.SafeLoader.yaml_constructors[f"tag:yaml.org,2002:{t}"]
        for t in _CORE_TAGS
    }

    def __init__(self, stream: str, file: str):
        self.file = file
        self.problems: list[Problem] = []
        self._checked: set[int] = set()
        self._depth = 0
        super().__init__(stream)  # type: ignore[call-arg]  # a mixin: the loader class takes it

    def compose_node(self, parent: Node | None, index: Any) -> Node:
        # The pure-Python composer recurses once per level: stop it well before Python's limit.
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise yaml.MarkedYAMLError(problem=f"nested more than {MAX_DEPTH} levels deep",
                                           problem_mark=self.peek_event().start_mark)  # type: ignore[attr-defined]
            return super().compose_node(parent, index)  # type: ignore[misc]
        finally:
            self._depth -= 1

    # The scalar constructors that can fail on a value (`!!int 0x`, `!!float abc`, `!!bool maybe`, an
    # integer past Python's digit limit) raise a `ConstructorError` at the node, never Python's own.

    def construct_checked_float(self, node: ScalarNode) -> float:
        try:
            return float(yaml.SafeLoader.construct_yaml_float(self, node))
        except ValueError as e:
            raise ConstructorError(None, None, _bad_value(node, e), node.start_mark) from None

    def construct_checked_bool(self, node: ScalarNode) -> bool:
        try:
            return bool(yaml.SafeLoader.construct_yaml_bool(self, node))
        except KeyError as e:
            raise ConstructorError(None, None, _bad_value(node, e), node.start_mark) from None

    def construct_yaml_int(self, node: ScalarNode) -> int:
        try:
            return self._construct_int(node)
        except ValueError as e:
            raise ConstructorError(None, None, _bad_value(node, e), node.start_mark) from None

    def _construct_int(self, node: ScalarNode) -> int:
        text = str(self.construct_scalar(node)).replace("_", "")  # type: ignore[attr-defined]
        sign = -1 if text.startswith("-") else 1
        text = text.lstrip("+-")
        base = {"0o": 8, "0x": 16, "0b": 2}.get(text[:2], 10)
        digits = text[2:] if base != 10 else text
        if base == 10 and not text.isdigit():  # explicit `!!int` on something that is not one
            raise ConstructorError(None, None, f"{text!r} is not an integer", node.start_mark)
        value = sign * int(digits, base)
        if value.bit_length() > 64:  # no field takes it, and printing it may fail (Python's digit limit)
            raise ConstructorError(None, None, "an integer out of range (more than 64 bits)", node.start_mark)
        return value

    def construct_undefined(self, node: Node) -> Any:
        tag = node.tag.replace("tag:yaml.org,2002:", "!!")
        raise ConstructorError(None, None, f"tag {tag!r} is not allowed", node.start_mark)

    def flatten_mapping(self, node: MappingNode) -> None:
        # Check each mapping once, before `<<` merges rewrite its pairs (merged keys may be overridden).
        if id(node) not in self._checked:
            self._checked.add(id(node))
            self._check_duplicates(node)
        super().flatten_mapping(node)  # type: ignore[misc]

    def _check_duplicates(self, node: MappingNode) -> None:
        seen: dict[Any, Node] = {}
        for key_node, _ in node.value:
            key = UNKEYED if key_node.tag == "tag:yaml.org,2002:merge" else key_of(self, key_node)
            if key is UNKEYED:
                continue
            first = seen.setdefault(key, key_node)
            if first is not key_node:
                self.problems.append(
                    Problem(
                        file=self.file,
                        line=key_node.start_mark.line + 1,
                        column=key_node.start_mark.column + 1,
                        field=str(key),
                        message=f"duplicate key {key!r}; first written on line {first.start_mark.line + 1}",
                        hint="remove one of them; YAML would silently keep only the last",
                    )
                )


class _Loader(_Rules, yaml.SafeLoader):
    """Pure Python: slower, but its error messages are the precise ones."""


class _FastLoader(_Rules, getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """libyaml's parser under the same rules (about twice as fast; the pure one where PyYAML lacks it)."""


# Registered per class: PyYAML's add_* give each class its own copy of _Rules' (empty) tables.
for _cls in (_Loader, _FastLoader):
    _cls.add_constructor("tag:yaml.org,2002:int", _Rules.construct_yaml_int)
    _cls.add_constructor("tag:yaml.org,2002:float", _Rules.construct_checked_float)
    _cls.add_constructor("tag:yaml.org,2002:bool", _Rules.construct_checked_bool)
    _cls.add_constructor(None, _Rules.construct_undefined)
    _cls.add_implicit_resolver(
        "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
    )
    _cls.add_implicit_resolver(
        "tag:yaml.org,2002:int", re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"), list("-+0123456789")
    )
    _cls.add_implicit_resolver(
        "tag:yaml.org,2002:float",
        re.compile(
            r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
        ),
        list("-+0123456789."),
    )
    _cls.add_implicit_resolver(
        "tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""]
    )
    _cls.add_implicit_resolver("tag:yaml.org,2002:merge", re.compile(r"^(?:<<)$"), ["<"])


def _bad_value(node: Node, error: Exception) -> str:
    tag = node.tag.replace("tag:yaml.org,2002:", "!!")
    if "digits" in str(error):
        return "a number with thousands of digits; write a smaller one"
    value = node.value if isinstance(node.value, str) else ""
    shown = repr(value) if len(value) <= 40 else f"{value[:30]!r}... ({len(value)} characters)"
    return f"{shown} is not a valid {tag} value"


LOADER_RESOLVERS: dict[Any, Any] = _Loader.yaml_implicit_resolvers
"""How the loader reads a plain scalar (first character -> [(tag, pattern)]): writers of page files
(`adopt`) quote any text these would read as something else."""


def _problem_from(error: yaml.YAMLError, file: str, text: str) -> Problem:
    if isinstance(error, yaml.reader.ReaderError):  # a character YAML refuses (NUL, ...): no mark
        line = text.count("\n", 0, error.position) + 1
        column = error.position - (text.rfind("\n", 0, error.position) + 1) + 1
        code = error.character if isinstance(error.character, int) else ord(error.character)
        return Problem(file, line, column, "", f"invalid YAML: the character U+{code:04X} is not allowed",
                       "remove it; page files are plain text")
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    what = getattr(error, "problem", None) or str(error)
    context = getattr(error, "context", None)
    context_mark = getattr(error, "context_mark", None)
    if context and what.startswith("but "):
        message = f"invalid YAML: {context}, {what}"
    else:
        if context and context_mark and context_mark is not mark:
            context += f" started on line {context_mark.line + 1}"
        message = f"invalid YAML: {what}" + (f" ({context})" if context else "")
    both = f"{what} {context or ''}"
    hint = None
    if "'\\t'" in both:
        hint = "indent with spaces; YAML does not allow tabs"
    elif "tag " in both and "is not allowed" in both:
        hint = "remove the tag; page files hold plain data only"
    elif "is not a valid !!" in both:
        hint = "remove the tag, or write a value of its type"
    elif "levels deep" in both:
        hint = "a page is a few levels deep; check the brackets and the indentation"
    elif "single document" in both:
        hint = "one page per file: remove the extra '---'"
    elif "got '{'" in both:
        hint = 'quote ${VAR} references inside [ ] or { }: "${VAR}"'
    elif "mapping values are not allowed" in both:
        hint = "quote a value that contains ': '"
    return Problem(
        file=file,
        line=mark.line + 1 if mark else None,
        column=mark.column + 1 if mark else None,
        field="",
        message=message,
        hint=hint,
    )


def load_yaml(path: Path, display: str | None = None) -> YamlDoc:
    """Parse one YAML file; ``display`` is the file name used in problems (default: ``str(path)``).

    Raises `ConfigError` with every problem in the file: unreadable, not UTF-8, broken YAML
    (with line and column), duplicate keys (naming both lines), disallowed tags, several documents.
    """
    file = display if display is not None else str(path)
    try:
        with path.open("rb") as fh:
            size = os.fstat(fh.fileno()).st_size  # 0 for a pipe: then read up to the limit
            raw = fh.read(min(size, MAX_FILE_BYTES) + 1 if size else MAX_FILE_BYTES + 1)
    except OSError as e:
        raise ConfigError([Problem(file, None, None, "", f"cannot read: {e.strerror}")]) from None
    if len(raw) > MAX_FILE_BYTES:
        raise ConfigError([Problem(file, None, None, "", f"larger than {MAX_FILE_BYTES // 1024} KiB",
                                   "a page file is a few KiB; split it, or check what was written to it")])
    try:
        text = raw.decode("utf-8-sig")  # a UTF-8 byte order mark is no content
    except UnicodeDecodeError as e:
        line = raw.count(b"\n", 0, e.start) + 1
        column = e.start - (raw.rfind(b"\n", 0, e.start) + 1) + 1
        raise ConfigError([Problem(file, line, column, "", f"not UTF-8 text (byte 0x{raw[e.start]:02x})",
                                   "save the file as UTF-8")]) from None
    return loads_yaml(text, file)


def loads_yaml(text: str, file: str = "<string>") -> YamlDoc:
    """`load_yaml` for text already in memory: libyaml first; a file it refuses is parsed again by
    the pure-Python loader, whose messages name the problem precisely."""
    try:
        return _parse(_FastLoader, text, file)
    except ConfigError:
        return _parse(_Loader, text, file)


def _parse(kind: type[_Loader] | type[_FastLoader], text: str, file: str) -> YamlDoc:
    try:
        loader = kind(text, file)
    except yaml.YAMLError as e:  # the pure reader checks every character up front
        raise ConfigError([_problem_from(e, file, text)]) from None
    try:
        node = loader.get_single_node()
        data = None
        positions: dict[PathKey, Position] = {}
        if node is not None:
            # A scalar's text is the file's, folded lines and escapes aside: only an escape (a backslash)
            # can make a character the file does not hold.
            chars = "\\" in text or BAD_CHAR.search(text) is not None
            surveyed = check_shape(loader, node, chars)
            data = build(loader, node) if surveyed is not None else loader.construct_document(node)
            positions[()] = (node.start_mark.line + 1, node.start_mark.column + 1)
            if surveyed is not None:
                positions.update(surveyed)
            else:
                walk(loader, node, (), positions, set())
    except yaml.YAMLError as e:
        raise ConfigError([*loader.problems, _problem_from(e, file, text)]) from None
    finally:
        loader.dispose()
    if loader.problems:
        raise ConfigError(loader.problems)
    return YamlDoc(file=file, data=data, positions=positions)


def build(loader: Any, root: Node) -> Any:
    """The data of a checked node tree without merge keys, as PyYAML's constructor builds it (the same
    values, the same problems in the same order, the same first error) at about a third of its cost; a
    tree it does not build (a key that is no scalar, a tag on a mapping or a list) is built by that
    constructor.

    PyYAML builds breadth first: a mapping or list met as a value is created empty and filled after
    everything before it in the queue, and an alias is the same object as its anchor. So here.
    """
    made: dict[int, Any] = {}
    queue: deque[tuple[Node, Any]] = deque()

    def scalar(node: ScalarNode) -> Any:
        if node.tag in (_MAP, _SEQ):  # `!!seq x`: PyYAML's error is raised only once the document is built
            raise _Unusual
        return node.value if node.tag == _STR else loader.construct_object(node)

    def value(node: Node) -> Any:
        if isinstance(node, ScalarNode):
            return scalar(node)
        if id(node) in made:
            return made[id(node)]
        if node.tag != (_MAP if isinstance(node, MappingNode) else _SEQ):
            raise _Unusual
        container: Any = {} if isinstance(node, MappingNode) else []
        made[id(node)] = container
        queue.append((node, container))
        return container

    try:
        if loader.state_generators:  # a key tagged !!seq or !!map (`check_shape`): PyYAML fails on it first
            raise _Unusual
        data = value(root)
        while queue:
            node, container = queue.popleft()
            if isinstance(container, list):
                container.extend(value(item) for item in node.value)
                continue
            if any(key_node.tag == _VALUE for key_node, _ in node.value):
                raise _Unusual  # `!!value` keys: PyYAML's own quirks
            loader.flatten_mapping(node)  # duplicate keys, as the constructor checks them
            for key_node, value_node in node.value:
                if not isinstance(key_node, ScalarNode):
                    raise _Unusual
                if key_node.tag in (_MAP, _SEQ):  # the duplicate check built it empty: PyYAML's error
                    raise ConstructorError("while constructing a mapping", node.start_mark, "found unhashable key",
                                           key_node.start_mark)
                key = scalar(key_node)  # before the value, as PyYAML's constructor
                container[key] = value(value_node)
        return data
    except _Unusual:
        return loader.construct_document(root)


class _Unusual(Exception):
    """A node tree `build` leaves to PyYAML's constructor."""


_STR, _MAP, _SEQ, _VALUE = (STR_TAG, *(f"tag:yaml.org,2002:{t}" for t in ("map", "seq", "value")))


def iter_paths(data: Any, path: PathKey = ()) -> Iterator[tuple[PathKey, Any]]:
    """Every (path, value) in plain data, parents before children."""
    yield path, data
    if isinstance(data, dict):
        for key, value in data.items():
            yield from iter_paths(value, (*path, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from iter_paths(value, (*path, index))


def lookup(data: Any, path: PathKey) -> tuple[bool, Any]:
    """``(found, value)`` at ``path`` in plain data (mapping keys and list indices)."""
    for part in path:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return False, None
    return True, data
