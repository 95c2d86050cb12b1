"""``--refresh auto|list|page`` on plan, apply and drift (issue 15): a usage error names the choices;
``--format json`` says how the refresh went; a saved plan applies whichever way either side read."""

from __future__ import annotations

import json

import pytest

from provisioner.changes import REFRESH_MODES
from provisioner.cli_options import REFRESH

from .conftest import Project


@pytest.mark.parametrize("command", ["plan", "apply", "drift"])
def test_an_unknown_refresh_mode_is_a_usage_error_naming_the_choices(project: Project, command: str):
    result = project.run(command, "--refresh", "bogus")
    assert result.exit_code == 1
    assert "Invalid value for '--refresh': 'bogus' is not one of 'auto', 'list', 'page'." in result.output
    assert not (project.root / "pages.lock").exists()


def test_the_option_offers_exactly_the_engine_modes():
    option = REFRESH(lambda: None).__click_params__[0]  # type: ignore[attr-defined]
    assert tuple(option.type.choices) == REFRESH_MODES and option.default == "auto"


def test_json_says_how_the_live_pages_were_read(project: Project):
    assert project.run("apply", "--auto-approve").exit_code == 0
    plans = {}
    for mode in REFRESH_MODES:
        result = project.run("plan", "--format", "json", "--refresh", mode)
        assert result.exit_code == 0, result.output
        plans[mode] = json.loads(result.stdout)
    # The example pages: 4 pages whose first tokens name 3 accounts (alice's on 2): too few to list in
    # auto; list counts and lists each account (2 requests each).
    assert plans["auto"]["refresh"] == {"mode": "auto", "requests": 4, "listed_groups": 0, "read_alone": 4}
    assert plans["page"]["refresh"] == {"mode": "page", "requests": 4, "listed_groups": 0, "read_alone": 4}
    assert plans["list"]["refresh"] == {"mode": "list", "requests": 6, "listed_groups": 3, "read_alone": 0}
    assert len({json.dumps({k: v for k, v in p.items() if k != "refresh"}) for p in plans.values()}) == 1
    drift = json.loads(project.run("drift", "--format", "json", "--refresh", "list").stdout)
    assert drift["refresh"] == {"mode": "list", "requests": 4, "listed_groups": 0, "read_alone": 4}  # by edit token


def test_a_plan_saved_by_listing_applies_when_read_page_by_page(project: Project):
    assert project.run("apply", "--auto-approve").exit_code == 0
    page = project.root / "pages/sales/discovery.yaml"
    page.write_text(page.read_text().replace("duration: 20", "duration: 25"))
    saved = project.run("plan", "--refresh", "list", "--out", "saved.json")
    assert saved.exit_code == 0 and "Plan: 0 to create, 1 to update" in saved.stdout, saved.output
    applied = project.run("apply", "saved.json", "--refresh", "page")
    assert applied.exit_code == 0 and "Apply complete: 1 done" in applied.stdout, applied.output
    assert "No changes." in project.run("plan", "--refresh", "list").stdout
