"""The page file: what a user writes under ``pages/``, and the desired page it becomes.

`PageFile` is the YAML schema (also what ``provisioner schema`` prints). `DesiredPage` is one loaded,
interpolated and validated page, addressed by its path under ``pages/``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr, field_validator

from provisioner.apis.nylas_v2.model import Config, Name, Secret, Slug

# The API also takes '_' [choice]; page files keep to PRODUCT.md's lowercase letters, digits, hyphens.
_PAGE_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")


def _page_slug(slug: str) -> str:
    if not _PAGE_SLUG.match(slug):  # after `Slug`'s own check, only an '_' can fail this
        raise ValueError(f"must use lowercase letters, digits and hyphens only, got {slug!r}")
    return slug


def page_slug_problem(slug: str) -> str | None:
    """Why a live page's ``slug`` cannot be written in a page file (adoption skips such a page), if so."""
    if _PAGE_SLUG.match(slug):
        return None
    return f"its slug {slug!r} cannot be written in a page file (lowercase letters, digits and hyphens only)"


PageSlug = Annotated[Slug, AfterValidator(_page_slug), Field(json_schema_extra={"pattern": _PAGE_SLUG.pattern})]


class PolicyExcuse(BaseModel):
    """A reviewable exception to one policy rule (`policy`) for this page."""

    model_config = ConfigDict(extra="forbid")

    rule: str = Field(description="The rule's id under policies.rules in provisioner.yaml.")
    reason: str = Field(min_length=1, description="Why this page may break it; a reviewer reads it.")


class Lifecycle(BaseModel):
    """provisioner's own keys; never sent to the API."""

    model_config = ConfigDict(extra="forbid")

    prevent_destroy: bool = Field(
        False, description="Never delete this page while it is live (the rest of a plan still applies)."
    )
    ignore_changes: list[str] = Field(
        default_factory=list,
        description="Dotted paths owned by end users in the Schedule Editor, e.g. config.appearance.",
    )
    policy_exceptions: list[PolicyExcuse] = Field(
        default_factory=list, description="Policy rules this page may break, each with its reason."
    )


class PageFile(BaseModel):
    """One file under pages/: a Scheduling Page as code."""

    model_config = ConfigDict(extra="forbid", title="provisioner page")

    slug: PageSlug = Field(description="Unique across pages/: lowercase letters, digits, hyphens.")
    name: Name | None = Field(None, description="Page name.")
    access_tokens: list[Secret] = Field(
        min_length=1,
        description="One or more ${ENV_VAR} references; two or more make a round-robin page.",
    )
    targets: list[str] | None = Field(
        None, description="Only on these targets of provisioner.yaml (default: every target)."
    )
    lifecycle: Lifecycle = Field(default_factory=Lifecycle)
    config: Config = Field(default_factory=Config, description="Exactly the API's page config object.")

    @field_validator("lifecycle", mode="before")
    @classmethod
    def _empty_lifecycle(cls, value: Any) -> Any:
        """``lifecycle:`` with nothing under it (YAML null) means no lifecycle keys, not an error."""
        return {} if value is None else value


def page_schema() -> dict[str, Any]:
    """The JSON Schema of a page file (``provisioner schema``), for editors' YAML language servers."""
    schema = PageFile.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["description"] = "A Nylas Scheduling Page as code, under pages/ (provisioner)."
    tokens = schema["properties"]["access_tokens"]
    tokens["items"] = {"type": "string", "pattern": r"^\$\{[A-Za-z_][A-Za-z0-9_]*(:-[^}]*)?\}$"}
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
