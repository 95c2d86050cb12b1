"""Adoption for v2: a live page as a clean page file. Pure.

The YAML holds only what differs from the server's defaults, in the API's field order, and no secret:
access tokens become ``${NYLAS_TOKEN_<ACCOUNT>}`` references named after each account's e-mail. The
YAML writing itself (order, ``${`` escaped, quoting) is `provisioner.apis.yamlout`'s, shared with v3.
"""

from __future__ import annotations

import re
from typing import Any

from provisioner.apis.yamlout import comment as _comment
from provisioner.apis.yamlout import dump as _dump
from provisioner.apis.yamlout import literal as _literal
from provisioner.apis.yamlout import ordered as _ordered
from provisioner.errors import ProvisionerError

from .model import Config, Page, dump_config
from .spec import strip_server_defaults


def token_variable(account_email: str) -> str:
    """``alice.smith@acme.com`` -> ``NYLAS_TOKEN_ALICE_SMITH``."""
    local = account_email.split("@", 1)[0]
    return "NYLAS_TOKEN_" + (re.sub(r"[^A-Za-z0-9]+", "_", local).strip("_").upper() or "ACCOUNT")


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


def page_yaml(page: Page, address: str) -> str:
    """A clean, stable YAML page file for ``page``, with a header saying where it came from. The
    loader reads it back to the same values (with no variable interpolated but the tokens')."""
    accounts = ", ".join(_comment(info.account_email) for info in page.access_token_infos)
    header = (
        f"# Pulled from live page {page.id} as {_comment(address)}.\n"
        f"# Set each token variable to that account's access token ({accounts}).\n"
    )
    body = _dump(page_file(page))
    try:
        (header + body).encode("utf-8")
    except UnicodeEncodeError:
        raise ProvisionerError(f"live page {page.id} holds text that is not valid Unicode (a lone surrogate); "
                               "it cannot be written as YAML") from None
    return header + body
