"""The page file: what a user writes under ``pages/``, and the desired page it becomes.

Each API has its page file's schema (`Api.page_model`, also what ``provisioner schema`` prints).
`DesiredPage` is one loaded, interpolated and validated page, addressed by its path under ``pages/``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from provisioner.apis import V2, Lifecycle, get_api
from provisioner.apis.base import PAGE_SLUG as _PAGE_SLUG


def page_slug_problem(slug: str) -> str | None:
    """Why a live page's ``slug`` cannot be written in a page file (adoption skips such a page), if so."""
    if _PAGE_SLUG.match(slug):
        return None
    return f"its slug {slug!r} cannot be written in a page file (lowercase letters, digits and hyphens only)"


__all__ = ["DesiredPage", "Lifecycle", "page_schema", "page_slug_problem"]


def page_schema(api: str = V2) -> dict[str, Any]:
    """The JSON Schema of a page file (``provisioner schema``), for editors' YAML language servers."""
    chosen = get_api(api)
    schema = chosen.page_model.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    if api == V2:
        schema["description"] = "A Nylas Scheduling Page as code, under pages/ (provisioner)."
        tokens = schema["properties"]["access_tokens"]
        tokens["items"] = {"type": "string", "pattern": r"^\$\{[A-Za-z_][A-Za-z0-9_]*(:-[^}]*)?\}$"}
    else:
        schema["description"] = f"A Nylas {api} Scheduler configuration as code, under pages/ (provisioner)."
    return schema


@dataclass(frozen=True)
class DesiredPage:
    """A validated page from ``pages/``, ready to plan."""

    address: str  # path under pages/ without suffix, e.g. "sales/demo"
    file: Path
    slug: str
    name: str | None
    access_tokens: tuple[SecretStr, ...]
    config: dict[str, Any]  # wire JSON of the config, left-out fields absent
    prevent_destroy: bool = False
    ignore_changes: tuple[str, ...] = field(default_factory=tuple)
    targets: tuple[str, ...] = field(default_factory=tuple)  # empty: every target
    renamed_from: str | None = None  # a generated page whose roster key was renamed: its old address
    policy_exceptions: tuple[tuple[str, str], ...] = ()  # (rule, reason) from lifecycle.policy_exceptions
    # Where each value was written, (file, line, column) by path: policy violations point there.
    origins: Mapping[tuple[Any, ...], tuple[str, int | None, int | None]] | None = field(
        default=None, compare=False, repr=False)
    # A generated page: the roster line each substituted value came from, by dotted path (`roster`).
    value_sources: Mapping[str, tuple[str, int | None, int | None]] | None = field(
        default=None, compare=False, repr=False)
    grant: str | None = None  # v3: the grant the configuration lives under (v2: None, owners are the tokens)

    @property
    def owner(self) -> tuple[SecretStr, ...] | str:
        """Whose page it is, as the API client takes it (`provisioner.apis.Owner`)."""
        return self.grant if self.grant is not None else self.access_tokens
