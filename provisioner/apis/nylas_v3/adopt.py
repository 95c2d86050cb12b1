"""Adoption for v3: a live configuration as a clean v3 page file. Pure.

A v3 page file is ``slug``, ``name``, ``grant`` (the grant the configuration lives under: an id, not a
secret), ``lifecycle``, ``targets`` and ``config`` (exactly the v3 configuration object, without the
``slug`` and ``name`` lifted above it). A pulled file holds only what differs from the server's
defaults (`spec.strip_server_defaults`), in the spec's field order (`model.Configuration`), with every
``${`` escaped so that nothing live is ever interpolated, and every string quoted that the loader would
read as something else (`provisioner.apis.yamlout`, shared with v2). No secret is written: the API
key is not part of a configuration.
"""

from __future__ import annotations

from typing import Any

from provisioner.apis import yamlout
from provisioner.apis.nylas_v3 import model, spec
from provisioner.apis.nylas_v3.client import LiveConfiguration
from provisioner.errors import ProvisionerError


def page_document(live: LiveConfiguration, grant: str) -> dict[str, Any]:
    """The page-file document of a live configuration under ``grant`` (keys in page-file order)."""
    doc: dict[str, Any] = {}
    if live.slug is not None:
        doc["slug"] = yamlout.literal(live.slug)
    if live.name is not None:
        doc["name"] = yamlout.literal(live.name)
    doc["grant"] = yamlout.literal(grant)
    config = spec.strip_server_defaults(live.config)
    if config:
        doc["config"] = yamlout.literal(yamlout.ordered(config, model.Configuration))
    return doc


def page_yaml(live: LiveConfiguration, address: str, grant: str) -> str:
    """A clean, stable YAML page file for ``live``, with a header saying where it came from. The
    loader reads it back to the same values (nothing in it is interpolated)."""
    header = (
        f"# Pulled from live configuration {yamlout.comment(live.id)} as {yamlout.comment(address)}.\n"
        f"# It lives under grant {yamlout.comment(grant)}; the target's API key variable reaches it.\n"
    )
    doc = page_document(live, grant)
    if yamlout.has_surrogate(doc) or yamlout.has_surrogate(live.id):
        raise ProvisionerError(f"live configuration {yamlout.comment(live.id)} holds text that is not valid "
                               "Unicode (a lone surrogate); it cannot be written as YAML")
    return header + yamlout.dump(doc)
