"""The page file: what a user writes under ``pages/``, and the desired page it becomes.

`PageFile` is the YAML schema (also what ``provisioner schema`` prints). `DesiredPage` is one loaded,
interpolated and validated page, addressed by its path under ``pages/``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from .model import Config, Secret, Slug


class Lifecycle(BaseModel):
    """provisioner's own keys; never sent to the API."""

    model_config = ConfigDict(extra="forbid")

    prevent_destroy: bool = Field(False, description="Refuse any plan that deletes or recreates this page.")
    ignore_changes: list[str] = Field(
        default_factory=list,
        description="Dotted paths owned by end users in the Schedule Editor, e.g. config.appearance.",
    )


class PageFile(BaseModel):
    """One file under pages/: a Scheduling Page as code."""

    model_config = ConfigDict(extra="forbid", title="provisioner page")

    slug: Slug = Field(description="Unique across pages/: lowercase letters, digits, hyphens.")
    name: str | None = Field(None, description="Page name.")
    access_tokens: list[Secret] = Field(
        min_length=1,
        description="One or more ${ENV_VAR} references; two or more make a round-robin page.",
    )
    targets: list[str] | None = Field(
        None, description="Only on these targets of provisioner.yaml (default: every target)."
    )
    lifecycle: Lifecycle = Field(default_factory=Lifecycle)
    config: Config = Field(default_factory=Config, description="Exactly the API's page config object.")


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
