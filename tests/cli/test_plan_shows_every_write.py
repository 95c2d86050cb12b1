"""The plan shows every write apply makes: each request body apply sends, compared with the plan
shown just before (PRODUCT.md §2: "nothing is sent that the plan did not show").

The CLI runs against the embedded emulator; its transport (the httpx seam) is wrapped to record
every request, so the check covers whatever code path apply takes.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from provisioner.apis.nylas_v2.spec import normalize
from provisioner.diff import diff, get_path
from provisioner.emulator import Emulator

from .conftest import Project

EMBEDDED = "http://emulator.local"


@dataclass
class Call:
    method: str
    path: str
    body: Any


class _Recording(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport, calls: list[Call]) -> None:
        self.inner, self.calls = inner, calls

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        content = request.content
        self.calls.append(Call(request.method, request.url.path, json.loads(content) if content else None))
        return await self.inner.handle_async_request(request)


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Call]]:
    """Every request any emulator transport in this process answers, in order."""
    recorded: list[Call] = []
    original = Emulator.transport

    def transport(self: Emulator) -> httpx.AsyncBaseTransport:
        return _Recording(original(self), recorded)

    monkeypatch.setattr(Emulator, "transport", transport)
    yield recorded


def api(root: Path, method: str, path: str, token: str, body: Any = None) -> Any:
    """One request to the embedded emulator's database, as a test's own client."""
    emulator = Emulator(root / ".provisioner" / "emulator.db")

    async def send() -> httpx.Response:
        async with httpx.AsyncClient(transport=emulator.transport(), base_url=EMBEDDED) as client:
            return await client.request(method, path, json=body, headers={"Authorization": f"Bearer {token}"})

    try:
        response = asyncio.run(send())
    finally:
        emulator.close()
    assert response.status_code < 300, response.text
    return response.json()


def live_pages(root: Path, tokens: list[str]) -> dict[int, dict[str, Any]]:
    return {p["id"]: p for token in tokens for p in api(root, "GET", "/manage/pages", token)}


def _doc(page: dict[str, Any]) -> dict[str, Any]:
    return {"name": page.get("name"), "slug": page.get("slug"), "config": normalize(page.get("config") or {})}


def assert_writes_match_plan(plan: dict[str, Any], writes: list[Call], before: dict[int, dict[str, Any]]) -> None:
    """Each write is a page the plan changes, carrying exactly the changes the plan shows."""
    by_id = {p["page_id"]: p for p in plan["pages"] if p["page_id"] is not None}
    creates = {p["slug"]: p for p in plan["pages"] if p["action"] in ("create", "recreate")}
    for call in writes:
        if call.method == "PUT":
            page = by_id[int(call.path.rsplit("/", 1)[1])]
            assert page["action"] in ("update", "move"), (call.path, page["action"])
            shown = {c["path"]: c for c in page["changes"]}
            assert ("access_tokens" in call.body) == ("hosts" in shown), page["address"]
            if "hosts" in shown:
                assert len(call.body["access_tokens"]) == shown["hosts"]["after"]["count"]
            sent = _doc(call.body)
            changed = {leaf.path: leaf for leaf in diff(_doc(before[page["page_id"]]), sent)}
            assert set(changed) == set(shown) - {"hosts"}, page["address"]  # nothing unshown, nothing missing
            for path, leaf in changed.items():
                assert (leaf.new_present, leaf.new) == (shown[path]["after_present"], shown[path]["after"]), path
        elif call.method == "POST":
            page = creates[call.body["slug"]]
            shown = {c["path"]: c for c in page["changes"]}
            assert len(call.body["access_tokens"]) == shown["hosts"]["after"]["count"]
            for path, change in shown.items():
                if path != "hosts":
                    assert get_path(call.body, path) == (True, change["after"]), path
        elif call.method == "DELETE":
            page = by_id[int(call.path.rsplit("/", 1)[1])]
            assert page["action"] == "delete" and not page["blocked"]
        else:
            raise AssertionError(f"unexpected write {call.method} {call.path}")


def plan_then_apply(project: Project, calls: list[Call], env: dict[str, str] | None = None) -> tuple[dict, list[Call]]:
    planned = project.run("plan", "--format", "json", env=env)
    assert planned.exit_code == 0, planned.output
    calls.clear()
    applied = project.run("apply", "--auto-approve", env=env)
    assert applied.exit_code == 0, applied.output
    return json.loads(planned.output), [c for c in calls if c.method != "GET"]


DEMO_TOKENS = ["demo-token-alice", "demo-token-bob", "demo-token-carol", "demo-token-dana", "demo-token-support"]


def test_every_body_apply_sends_is_what_the_plan_showed(project: Project, calls: list[Call]):
    plan, writes = plan_then_apply(project, calls)
    assert [c.method for c in writes] == ["POST"] * 4
    assert_writes_match_plan(plan, writes, {})

    # One _defaults.yaml edit and a drifted page: updates, with and without reverted live edits.
    before = live_pages(project.root, DEMO_TOKENS)
    page_id, page = next((i, p) for i, p in before.items() if p["slug"] == "acme-sales-demo")
    api(project.root, "PUT", f"/manage/pages/{page_id}", page["edit_token"],
        {"name": page["name"], "slug": page["slug"], "config": {**page["config"], "locale": "de"}})
    defaults = project.root / "pages/sales/_defaults.yaml"
    defaults.write_text(defaults.read_text().replace("Book the call", "Book a call"))
    before = live_pages(project.root, DEMO_TOKENS)
    plan, writes = plan_then_apply(project, calls)
    assert sorted(c.method for c in writes) == ["PUT", "PUT"]
    assert_writes_match_plan(plan, writes, before)


def test_import_then_apply_shows_the_host_change_and_sends_only_that(project: Project, calls: list[Call]):
    """The case of the issue: after `import`, the first apply sent the page's tokens with no plan line."""
    assert project.run("apply", "--auto-approve").exit_code == 0
    live = live_pages(project.root, ["demo-token-support"])
    (page,) = [p for p in live.values() if p["slug"] == "acme-support-office-hours"]
    old_email = page["access_token_infos"][0]["account_email"]
    assert project.run("state", "rm", "support/office-hours").exit_code == 0
    env = {"EDIT": page["edit_token"], "NYLAS_TOKEN_SUPPORT": "demo-token-carol"}  # YAML: another host now
    imported = project.run("import", "support/office-hours", "--page-id", str(page["id"]), "--edit-token-env", "EDIT",
                           env=env)
    assert imported.exit_code == 0, imported.output

    text = project.run("plan", env=env)
    assert text.exit_code == 0, text.output
    assert f"~ hosts = 1 host(s): {old_email} -> 1 host(s) (e-mails known after apply)" in text.output
    assert "demo-token" not in text.output
    before = live_pages(project.root, ["demo-token-support"])
    plan, writes = plan_then_apply(project, calls, env)
    assert [(c.method, "access_tokens" in c.body) for c in writes] == [("PUT", True)]
    assert_writes_match_plan(plan, writes, before)
    (after,) = [p for p in live_pages(project.root, ["demo-token-carol"]).values() if p["id"] == page["id"]]
    assert after["access_token_infos"][0]["account_email"] != old_email
    assert project.run("plan", "--detailed-exitcode", env=env).exit_code == 0  # converged, tokens now known


def test_import_of_a_page_whose_tokens_are_already_its_hosts_plans_and_sends_nothing(
    project: Project, calls: list[Call]
):
    assert project.run("apply", "--auto-approve").exit_code == 0
    live = live_pages(project.root, ["demo-token-alice"])
    (page,) = [p for p in live.values() if p["slug"] == "acme-sales-discovery"]  # three hosts
    assert project.run("state", "rm", "sales/discovery").exit_code == 0
    imported = project.run("import", "sales/discovery", "--page-id", str(page["id"]), "--edit-token-env", "EDIT",
                           env={"EDIT": page["edit_token"]})
    assert imported.exit_code == 0, imported.output
    assert project.run("plan", "--detailed-exitcode").exit_code == 0
    calls.clear()
    assert project.run("apply", "--auto-approve").exit_code == 0
    assert [c for c in calls if c.method != "GET"] == []
    calls.clear()  # the tokens' digest is recorded now: later plans read each page once, no more checks
    assert project.run("plan", "--detailed-exitcode").exit_code == 0
    assert len(calls) == 4
