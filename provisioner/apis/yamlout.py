"""Writing page files: YAML that provisioner's loader reads back to exactly the values written.

Shared by every API's adoption (`pull`, import of a whole account or grant):
`provisioner.apis.nylas_v2.adopt` and `provisioner.apis.nylas_v3.adopt`.

- `ordered(value, model)`: mappings in a pydantic model's field order (unknown keys sorted), so a
  pulled file reads like a hand-written one and is stable from one pull to the next;
- `literal(value)`: every ``${`` (mapping keys included) written ``$${``, so that nothing in a live
  page is ever interpolated by the loader (the escape of `provisioner.secrets.escape`);
- `dump(doc)`: YAML through `Dumper`, which quotes every string that either PyYAML's YAML 1.1 rules
  or the loader's YAML 1.2 core-schema rules (`CORE_RESOLVERS`, the same as
  `provisioner.yamlfile.LOADER_RESOLVERS`; a test pins them equal) would read as something else
  (``1e3``, ``0o17``, ``.inf``, ``~``, ``yes``, ``17:00``), writes times quoted, multi-line text as
  a block, other control characters escaped, and short scalar lists in flow style;
- `comment(text)`: text safe inside a one-line YAML comment.

This module imports nothing of the engine (API packages may not): only PyYAML and pydantic.
"""

from __future__ import annotations

import re
from inspect import isclass
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

import yaml
from pydantic import BaseModel

ESCAPED = "$${"
"""How ``${`` is written so that the loader's interpolation gives it back (`provisioner.secrets`)."""

CORE_RESOLVERS: tuple[tuple[str, re.Pattern[str], list[str]], ...] = (
    ("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")),
    ("tag:yaml.org,2002:int", re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"), list("-+0123456789")),
    (
        "tag:yaml.org,2002:float",
        re.compile(
            r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
        ),
        list("-+0123456789."),
    ),
    ("tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""]),
    ("tag:yaml.org,2002:merge", re.compile(r"^(?:<<)$"), ["<"]),
)
"""How the loader reads a plain scalar: the YAML 1.2 core schema (and ``<<`` merge keys)."""


def unwrap(annotation: Any) -> Any:
    """The type under ``Annotated[...]`` and ``X | None``."""
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, UnionType):
            args = [a for a in get_args(annotation) if a is not type(None)]
            if len(args) != 1:
                return annotation
            annotation = args[0]
        else:
            return annotation


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model inside ``X | None``, ``list[X]`` or ``dict[str, X]``, if any."""
    inner = unwrap(annotation)
    if get_origin(inner) in (list, dict):
        inner = unwrap(get_args(inner)[-1])
    return inner if isclass(inner) and issubclass(inner, BaseModel) else None


def ordered(value: Any, model: type[BaseModel] | None) -> Any:
    """``value`` with mapping keys in the model's field order (unknown keys, e.g. account ids, sorted)."""
    if isinstance(value, list):
        return [ordered(v, model) for v in value]
    if not isinstance(value, dict):
        return value
    if model is None:
        return {k: ordered(v, None) for k, v in sorted(value.items())}
    fields = {name: f.annotation for name, f in model.model_fields.items()}
    out = {}
    for name in [n for n in fields if n in value] + sorted(k for k in value if k not in fields):
        out[name] = ordered(value[name], _model_in(fields.get(name)))
    return out


def literal(value: Any) -> Any:
    """``value`` with every ``${`` in its text (mapping keys included) escaped as ``$${``: the loader
    interpolates page files, and nothing in a live page may ever be read as a variable."""
    if isinstance(value, str):
        return value.replace("${", ESCAPED)
    if isinstance(value, list):
        return [literal(v) for v in value]
    if isinstance(value, dict):
        return {literal(k): literal(v) for k, v in value.items()}
    return value


class Dumper(yaml.SafeDumper):
    """Quotes every string that either YAML 1.1 or the loader's YAML 1.2 rules would read as something
    else, and indents lists under their key as the example pages do."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


for _tag, _regexp, _first in CORE_RESOLVERS:
    Dumper.add_implicit_resolver(_tag, _regexp, _first)


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    # Multi-line text as a block; times quoted alike ("09:00" and "17:00"), as users should write them;
    # any other control or line-break character (NEL, U+2028...) escaped in double quotes, which
    # read back exactly in every context (single-quoted ones fold inside a flow list).
    if any(not c.isprintable() and c != "\n" for c in value):
        style: str | None = '"'
    else:
        style = "|" if "\n" in value else '"' if re.fullmatch(r"\d\d:\d\d", value) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


def _list(dumper: yaml.SafeDumper, value: list[Any]) -> yaml.Node:
    flow = bool(value) and all(isinstance(v, str | int | float | bool) and "${" not in str(v) for v in value)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=flow)


Dumper.add_representer(str, _str)
Dumper.add_representer(list, _list)


def dump(doc: Any) -> str:
    """``doc`` as YAML text through `Dumper` (keys in the order given, Unicode as is)."""
    text: str = yaml.dump(doc, Dumper=Dumper, sort_keys=False, allow_unicode=True, width=100)
    return text


def comment(text: str) -> str:
    """``text`` safe inside a one-line YAML comment: no line break or other control character."""
    return "".join(c if c.isprintable() else "?" for c in text)


def has_surrogate(value: Any) -> bool:
    """True when a string in ``value`` (mapping keys included) holds a lone surrogate: not Unicode,
    so no YAML file can hold it (the dumper would escape it, and the loader refuse it)."""
    if isinstance(value, str):
        return any("\ud800" <= c <= "\udfff" for c in value)
    if isinstance(value, list):
        return any(has_surrogate(v) for v in value)
    if isinstance(value, dict):
        return any(has_surrogate(k) or has_surrogate(v) for k, v in value.items())
    return False
