"""The example v2 tree, converted, is taken by the v3 emulator as it is: every page file's configuration
is created under its ``grant`` (the example tokens' defaults name emulator grants), read back equal
(after the server's defaults), and offers slots in the converted opening hours.

(Converging through ``provisioner plan/apply`` with ``api: nylas-v3`` is `tests/cli/test_convert.py`;
this drives the emulator's API directly, and checks the slots too.)
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from provisioner.apis.nylas_v3.spec import normalize
from provisioner.convert import convert_tree
from provisioner.settings import Settings
from provisioner.yamlfile import load_yaml
from tests.integration.v3.conftest import configs_url
from tests.unit.test_convert_cases import resolved

pytestmark = pytest.mark.anyio
EXAMPLE_PAGES = Path(__file__).resolve().parents[3] / "pages"


def converted(tmp_path: Path) -> dict[str, dict[str, Any]]:
    out = tmp_path / "pages-v3"
    result = convert_tree(Settings(pages_dir=EXAMPLE_PAGES, env={}), out, accept_loss=True, force=False)
    assert result.written and result.losses  # the examples use v2-only fields (template_title, ...)
    return {str(p.relative_to(out)): resolved(load_yaml(p, str(p)).data, {}) for p in sorted(out.rglob("*.yaml"))}


async def test_every_converted_page_is_created_and_read_back_unchanged(client: httpx.AsyncClient,
                                                                       tmp_path: Path) -> None:
    pages = converted(tmp_path)
    assert len(pages) == 4
    for name, page in pages.items():
        body = {**page["config"], "slug": page["slug"], "name": page["name"]}
        response = await client.post(configs_url(page["grant"]), json=body)
        assert response.status_code == 200, (name, response.text)
        made = response.json()["data"]
        got = await client.get(f"{configs_url(page['grant'])}/{made['id']}")
        assert normalize(got.json()["data"]) == normalize(body), name


async def test_a_converted_page_offers_its_converted_hours(client: httpx.AsyncClient, tmp_path: Path) -> None:
    page = converted(tmp_path)["support/office-hours.yaml"]  # v2: T, R 14:00-17:00 New York, 30 minutes
    body = {**page["config"], "slug": page["slug"]}
    made = (await client.post(configs_url(page["grant"]), json=body)).json()["data"]
    tuesday = int(datetime(2026, 3, 3, 19, 0, tzinfo=UTC).timestamp())  # 14:00 in New York (EST)
    response = await client.get("/v3/scheduling/availability", params={
        "start_time": tuesday - 3600, "end_time": tuesday + 5 * 3600, "configuration_id": made["id"]})
    assert response.status_code == 200, response.text
    starts = [slot["start_time"] for slot in response.json()["data"]["time_slots"]]
    assert starts and starts[0] == tuesday and starts[-1] < tuesday + 3 * 3600
