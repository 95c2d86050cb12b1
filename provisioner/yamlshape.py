"""The node tree of a YAML file, before anything is built from it: checked, and where things are written.

`check_shape` refuses what would make building the data costly or unsafe (nesting deeper than
`MAX_DEPTH`, aliases that contain themselves or expand past `MAX_VALUES` values, characters no page may
hold) and, in the same pass, notes where each mapping key and list item is written; `walk` notes them
after construction (for files whose ``<<`` merge keys move keys). Used by `provisioner.yamlfile` only.
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

PathKey = tuple[Any, ...]  # as `provisioner.yamlfile.PathKey`
Position = tuple[int, int]  # as `provisioner.yamlfile.Position`

MAX_VALUES = 100_000  # aliases can make a tree exponentially large ("billion laughs"): refuse it
MAX_DEPTH = 32  # a page is about 6 levels deep; deeper input only exhausts recursion
BAD_CHAR = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")

STR_TAG = "tag:yaml.org,2002:str"
UNKEYED = object()  # `key_of` for a key that is no path part: not a scalar, not constructible, unhashable


def key_of(loader: Any, key_node: Node) -> Any:
    """The key a mapping key node stands for, or `UNKEYED`."""
    if not isinstance(key_node, ScalarNode):
        return UNKEYED
    if key_node.tag == STR_TAG:  # a plain key (nearly all of them): what construct_yaml_str returns
        return key_node.value
    try:
        key = loader.construct_object(key_node)
        hash(key)
    except (ConstructorError, TypeError):
        return UNKEYED
    return key


def check_shape(loader: Any, root: Node, chars: bool = True) -> dict[PathKey, Position] | None:
    """Refuse, before anything recurses over it: nesting deeper than `MAX_DEPTH`, aliases that
    contain themselves or expand past `MAX_VALUES` values, and characters no page may hold.

    The same pass notes where each mapping key and list item is written (what `walk` gives), unless
    the file uses ``<<`` merge keys: constructing it moves merged keys into their mappings, so its
    positions are taken afterwards (None). ``chars`` false: no scalar can hold such a character (see
    `yamlfile._parse`), so none is searched."""
    positions: dict[PathKey, Position] = {}
    # (node, depth, leaving, path of the node or None when it has none, where that path is written)
    stack: list[tuple[Node, int, bool, PathKey | None, Position | None]] = [(root, 1, False, (), None)]
    on_path: set[int] = set()
    seen = 0
    merges = False
    while stack:
        node, depth, leaving, path, position = stack.pop()
        if leaving:
            on_path.discard(id(node))
            continue
        if id(node) in on_path:
            raise yaml.MarkedYAMLError(problem="an alias refers to a value that contains it",
                                       problem_mark=node.start_mark)
        seen += 1
        if seen > MAX_VALUES:
            raise yaml.YAMLError(f"more than {MAX_VALUES} values; aliases expand too much")
        if depth > MAX_DEPTH:
            raise yaml.MarkedYAMLError(problem=f"nested more than {MAX_DEPTH} levels deep",
                                       problem_mark=node.start_mark)
        if position is not None and path is not None:
            positions[path] = position
        if isinstance(node, ScalarNode):
            bad = BAD_CHAR.search(node.value) if chars else None
            if bad:
                raise yaml.MarkedYAMLError(
                    problem=f"text holds the character U+{ord(bad.group()):04X}, which no page may hold",
                    problem_mark=node.start_mark)
            continue
        on_path.add(id(node))
        stack.append((node, depth, True, None, None))
        below = depth + 1
        if isinstance(node, MappingNode):
            for key_node, value_node in reversed(node.value):
                if key_node.tag == "tag:yaml.org,2002:merge":
                    merges = True
                key = key_of(loader, key_node) if path is not None else UNKEYED
                if path is None or key is UNKEYED or key is None:
                    stack.append((value_node, below, False, None, None))
                else:
                    mark = key_node.start_mark
                    stack.append((value_node, below, False, (*path, key), (mark.line + 1, mark.column + 1)))
                stack.append((key_node, below, False, None, None))
        else:
            for index in range(len(node.value) - 1, -1, -1):
                item = node.value[index]
                if path is None:
                    stack.append((item, below, False, None, None))
                else:
                    mark = item.start_mark
                    stack.append((item, below, False, (*path, index), (mark.line + 1, mark.column + 1)))
    return None if merges else positions


def walk(loader: Any, node: Node, path: PathKey, out: dict[PathKey, Position], stack: set[int]) -> None:
    if len(out) >= MAX_VALUES:
        raise yaml.YAMLError(f"more than {MAX_VALUES} values; aliases expand too much")
    if id(node) in stack:
        raise yaml.MarkedYAMLError(problem="an alias refers to a value that contains it",
                                   problem_mark=node.start_mark)
    stack.add(id(node))
    if isinstance(node, MappingNode):
        for key_node, value_node in node.value:
            key = key_of(loader, key_node)
            if key is UNKEYED or key is None:
                continue
            out[(*path, key)] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            walk(loader, value_node, (*path, key), out, stack)
    elif isinstance(node, SequenceNode):
        for index, item in enumerate(node.value):
            out[(*path, index)] = (item.start_mark.line + 1, item.start_mark.column + 1)
            walk(loader, item, (*path, index), out, stack)
    stack.discard(id(node))
