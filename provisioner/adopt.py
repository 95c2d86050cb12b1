"""Adoption: a live page as a clean page file (`pull`), and addresses for a whole account. Pure.

The YAML holds only what differs from the server's defaults, in the API's field order, and no secret:
access tokens become ``${NYLAS_TOKEN_<ACCOUNT>}`` references named after each account's e-mail.
"""

from __future__ import annotations

import re
from typing import Any, get_args, get_origin

import yaml
from pydantic import BaseModel

from provisioner.apis.nylas_v2.model import Config, Page, dump_config
from provisioner.apis.nylas_v2.spec import strip_server_defaults

from .errors import ProvisionerError
from .schema_paths import fields_of, unwrap
from .secrets import escape
from .yamlfile import LOADER_RESOLVERS as _LOADER_RESOLVERS


def token_variable(account_email: str) -> str:
    """``alice.smith@acme.com`` -> ``NYLAS_TOKEN_ALICE_SMITH``."""
    local = account_email.split("@", 1)[0]
    return "NYLAS_TOKEN_" + (re.sub(r"[^A-Za-z0-9]+", "_", local).strip("_").upper() or "ACCOUNT")


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


def page_file(page: Page) -> dict[str, Any]:
    """The page-file document of a live page."""
    doc: dict[str, Any] = {"slug": page.slug}
    if page.name is not None:
        doc["name"] = _literal(page.name)
    doc["access_tokens"] = [f"${{{token_variable(info.account_email)}}}" for info in page.access_token_infos]
    config = strip_server_defaults(dump_config(page.config))
    if config:
        doc["config"] = _literal(_ordered(config, Config))
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


def page_yaml(page: Page, address: str) -> str:
    """A clean, stable YAML page file for ``page``, with a header saying where it came from. The
    loader reads it back to the same values (with no variable interpolated but the tokens')."""
    accounts = ", ".join(_comment(info.account_email) for info in page.access_token_infos)
    header = (
        f"# Pulled from live page {page.id} as {_comment(address)}.\n"
        f"# Set each token variable to that account's access token ({accounts}).\n"
    )
    body = yaml.dump(page_file(page), Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
    try:
        (header + body).encode("utf-8")
    except UnicodeEncodeError:
        raise ProvisionerError(f"live page {page.id} holds text that is not valid Unicode (a lone surrogate); "
                               "it cannot be written as YAML") from None
    return header + body


def _comment(text: str) -> str:
    """``text`` safe inside a one-line YAML comment: no line break or other control character."""
    return "".join(c if c.isprintable() else "?" for c in text)


def account_address(folder: str, page: Page) -> str:
    """Where `import --account-token-env` puts a page of the account: ``FOLDER/SLUG``."""
    return f"{folder.strip('/')}/{page.slug}" if folder.strip("/") else page.slug
