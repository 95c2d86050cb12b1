"""Plan cases as data: each ``tests/cases/plan/NN-name.yaml`` holds desired pages, state, live pages
and the expected plan (actions, change paths, hosts, blocked pages, refusals). Pure: no I/O but the file.

Case keys: ``desired`` (address -> slug, name?, tokens: count, config, prevent_destroy?,
ignore_changes?), ``state`` (address -> id, slug, name?, config, tokens_digest?, prevent_destroy?),
``live`` (address -> slug, name?, config, hosts: [e-mail]; or null when gone), ``digests`` (address ->
keyed digest of the tokens in pages/), ``verified`` (imported pages whose tokens are their hosts),
``limits`` (`safety.Limits` fields) and ``expect`` (``pages``: address -> action, changes, sends_tokens,
blocked, hosts: [[before e-mails], after count]; ``blocked``: addresses; ``refusals``: substrings).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import SecretStr

from provisioner.apis import LivePage
from provisioner.apis.nylas_v2.api import live as as_live
from provisioner.apis.nylas_v2.model import Page
from provisioner.apis.nylas_v2.spec import fill_server_defaults, normalize
from provisioner.changes import HOSTS, Plan, Target
from provisioner.pagefile import DesiredPage
from provisioner.plan import make_plan
from provisioner.safety import Limits, refusals
from provisioner.state.base import Resource, State

CASES = sorted((Path(__file__).resolve().parents[1] / "cases" / "plan").glob("*.yaml"))


def _desired(address: str, d: dict[str, Any]) -> DesiredPage:
    return DesiredPage(
        address=address, file=Path(f"pages/{address}.yaml"), slug=d["slug"], name=d.get("name"),
        access_tokens=tuple(SecretStr(f"tok-{i}") for i in range(d.get("tokens", 1))), config=d["config"],
        prevent_destroy=d.get("prevent_destroy", False), ignore_changes=tuple(d.get("ignore_changes", ())),
    )


def _resource(address: str, r: dict[str, Any]) -> Resource:
    return Resource(address, r["id"], r["slug"], SecretStr("e" * 32), r.get("name"), normalize(r["config"]),
                    r.get("tokens_digest"), r.get("prevent_destroy", False))


def _live(resource: Resource, p: dict[str, Any] | None) -> LivePage | None:
    if p is None:
        return None
    return as_live(Page.model_validate({
        "id": resource.id, "edit_token": "e" * 32, "name": p.get("name"), "slug": p["slug"],
        "config": fill_server_defaults(p["config"]), "app_client_id": "c", "app_organization_id": 1,
        "created_at": "2026-01-01", "modified_at": "2026-01-01",
        "access_token_infos": [{"account_email": e, "account_name": e} for e in p.get("hosts", [])],
    }))


def run_case(case: dict[str, Any]) -> Plan:
    desired = {a: _desired(a, d) for a, d in (case.get("desired") or {}).items()}
    resources = {a: _resource(a, r) for a, r in (case.get("state") or {}).items()}
    live = {a: _live(resources[a], p) for a, p in (case.get("live") or {}).items()}
    plan = make_plan(Target("http://api.test"), desired, State("lin", 1, "http://api.test", resources), live,
                     case.get("digests"), frozenset(case.get("verified", ())))
    return Plan(plan.target, plan.lineage, plan.serial, plan.pages, plan.warnings,
                refusals(plan, Limits(**case.get("limits", {}))))


def test_there_are_cases():
    assert len(CASES) >= 7


@pytest.mark.parametrize("path", CASES, ids=[c.stem for c in CASES])
def test_plan_case(path: Path):
    case = yaml.safe_load(path.read_text())
    assert case.get("description"), "each case says what it shows"
    plan = run_case(case)
    expect = case["expect"]
    pages = {p.address: p for p in plan.pages}
    for address, want in (expect.get("pages") or {}).items():
        got = pages[address]
        assert got.action.value == want["action"], address
        if "changes" in want:
            assert sorted(c.path for c in got.changes) == sorted(want["changes"]), address
        if "sends_tokens" in want:
            assert got.sends_tokens is want["sends_tokens"], address
        if "blocked" in want:
            assert got.blocked is want["blocked"], address
        if "hosts" in want:
            (line,) = [c for c in got.changes if c.path == HOSTS]
            emails, count = want["hosts"]
            assert list(line.before.emails) == emails and line.after.count == count, address
    if "blocked" in expect:
        assert [p.address for p in plan.blocked] == expect["blocked"]
    if "refusals" in expect:
        assert len(plan.refusals) == len(expect["refusals"]), plan.refusals
        for got, want in zip(plan.refusals, expect["refusals"], strict=True):
            assert want in got
