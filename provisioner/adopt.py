"""Adoption: a live page as a clean page file (`pull`), and addresses for a whole account. Pure.

The API package says what the page file holds (`Api.pull_document`: only what differs from the
server's defaults, and no secret: v2 access tokens become ``${NYLAS_TOKEN_<ACCOUNT>}`` references
named after each account's e-mail, a v3 grant is its id); this module orders it in the page model's
field order, escapes ``${`` and writes the YAML.
"""

from __future__ import annotations

import re
from typing import Any, get_args, get_origin

import yaml
from pydantic import BaseModel

from provisioner.apis import V2, Api, LivePage, get_api

from .errors import ProvisionerError
from .schema_paths import fields_of, unwrap
from .secrets import escape
from .yamlfile import LOADER_RESOLVERS as _LOADER_RESOLVERS


def _ordered(value: Any, model: type[BaseModel] | None) -> Any:
    """``value`` with mapping keys in the model's field order (unknown keys, e.g. account ids, sorted)."""
    if isinstance(value, list):
        return [_ordered(v, model) for v in value]
    if not isinstance(value, dict):
        return value
    if model is None:
        return {k: _ordered(v, None) for k, v in sorted(value.items())}
    fields = fields_of(model) or {}
    out = {}
    for name in [n for n in fields if n in value] + sorted(k for k in value if k not in fields):
        out[name] = _ordered(value[name], _model_in(fields.get(name)))
    return out


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model inside ``X | None``, ``list[X]`` or ``dict[str, X]``, if any."""
    inner = unwrap(annotation)
    if get_origin(inner) in (list, dict):
        inner = unwrap(get_args(inner)[-1])
    return inner if isinstance(inner, type) and issubclass(inner, BaseModel) else None


def _literal(value: Any) -> Any:
    """``value`` with every ``${`` in its text (mapping keys included) escaped as ``$${``: the loader
    interpolates page files, and nothing in a live page may ever be read as a variable."""
    if isinstance(value, str):
        return escape(value)
    if isinstance(value, list):
        return [_literal(v) for v in value]
    if isinstance(value, dict):
        return {_literal(k): _literal(v) for k, v in value.items()}
    return value


def page_file(page: LivePage, api: Api | None = None) -> dict[str, Any]:
    """The page-file document of a live page."""
    chosen = api or get_api(V2)
    doc = chosen.pull_document(page).document
    if "name" in doc:
        doc["name"] = _literal(doc["name"])
    if "config" in doc:
        doc["config"] = _literal(_ordered(doc["config"], chosen.config_model))
    return doc


class _Dumper(yaml.SafeDumper):
    """Quotes every string that either YAML 1.1 or the loader's YAML 1.2 rules (`yamlfile`) would read
    as something else (``1e3``, ``0o17``, ``.inf``, ``~``, ``yes``, ``17:00``), and indents lists
    under their key as the example pages do."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


for _first, _rules in _LOADER_RESOLVERS.items():
    for _tag, _regexp in _rules:
        _Dumper.add_implicit_resolver(_tag, _regexp, [_first])


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


_Dumper.add_representer(str, _str)
_Dumper.add_representer(list, _list)


def page_yaml(page: LivePage, address: str, api: Api | None = None) -> str:
    """A clean, stable YAML page file for ``page``, with a header saying where it came from. The
    loader reads it back to the same values (with no variable interpolated but the tokens')."""
    chosen = api or get_api(V2)
    header = (
        f"# Pulled from live {chosen.page_word} {page.id} as {_comment(address)}.\n"
        f"# {_comment(chosen.pull_document(page).note)}\n"
    )
    body = yaml.dump(page_file(page, chosen), Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
    try:
        (header + body).encode("utf-8")
    except UnicodeEncodeError:
        raise ProvisionerError(f"live page {page.id} holds text that is not valid Unicode (a lone surrogate); "
                               "it cannot be written as YAML") from None
    return header + body


def _comment(text: str) -> str:
    """``text`` safe inside a one-line YAML comment: no line break or other control character."""
    return "".join(c if c.isprintable() else "?" for c in text)


def account_address(folder: str, page: LivePage) -> str:
    """Where `import --account-token-env` puts a page of the account: ``FOLDER/SLUG``."""
    return f"{folder.strip('/')}/{page.slug}" if folder.strip("/") else page.slug
