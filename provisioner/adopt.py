"""Adoption: a live page as a clean page file (`pull`), and addresses for a whole account or grant. Pure.

What a pulled file holds is the API package's (`provisioner.apis.Api.pull_yaml`: only what differs
from the server's defaults, in the API's field order, and no secret); the YAML writing itself is
`provisioner.apis.yamlout`'s, shared by both packages.
"""

from __future__ import annotations

from provisioner.apis import V2, Api, LivePage, get_api


def page_yaml(page: LivePage, address: str, api: Api | None = None) -> str:
    """A clean, stable YAML page file for ``page`` (v2 unless ``api`` says), with a header saying
    where it came from. The loader reads it back to the same values."""
    return (api or get_api(V2)).pull_yaml(page, address)


def account_address(folder: str, page: LivePage) -> str:
    """Where `import --account-token-env` (v3: `import --grant`) puts a page: ``FOLDER/SLUG``."""
    return f"{folder.strip('/')}/{page.slug}" if folder.strip("/") else page.slug
