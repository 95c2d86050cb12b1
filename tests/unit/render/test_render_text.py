"""Text plans and drift reports: markers, summary lines, warnings, colour, ordering."""

from __future__ import annotations

import re

import pytest

from provisioner.changes import (
    Action,
    DriftItem,
    DriftReport,
    FieldChange,
    PageChange,
    Plan,
    Resolution,
    Target,
)
from provisioner.render import render_drift, render_plan
from provisioner.render.values import clean

TARGET = Target(api_url="https://api.example")
SUMMARY = re.compile(r"^Plan: (\d+) to create, (\d+) to update, (\d+) to delete, (\d+) to recreate\.$", re.M)


def test_first_line_names_the_target(samples) -> None:
    for name, sample in samples.items():
        render = render_drift if isinstance(sample, DriftReport) else render_plan
        assert render(sample, "text").splitlines()[0] == clean(sample.target.describe()), name


def test_summary_line_counts_each_action(samples) -> None:
    for name in ("create", "update", "delete", "recreate", "move", "nochanges"):
        plan = samples[name]
        found = SUMMARY.findall(render_plan(plan, "text"))
        counts = (
            plan.count(Action.CREATE),
            plan.count(Action.UPDATE) + sum(1 for p in plan.pages if p.action is Action.MOVE and p.changes),
            plan.count(Action.DELETE),
            plan.count(Action.RECREATE),
        )
        assert found == [tuple(str(n) for n in counts)], name


def test_no_changes_says_so_and_keeps_a_zero_summary(samples) -> None:
    out = render_plan(samples["nochanges"], "text")
    assert "No changes. 2 page(s) match the configuration." in out
    assert out.endswith("Plan: 0 to create, 0 to update, 0 to delete, 0 to recreate.\n")
    assert 'page "' not in out  # noop pages get no block


def test_moves_get_their_own_line_only_when_present(samples) -> None:
    assert "2 page(s) moved" in render_plan(samples["move"], "text")
    assert "moved" not in render_plan(samples["update"], "text")


def test_update_markers_and_absent_values(samples) -> None:
    out = render_plan(samples["update"], "text")
    assert '~ config.booking.opening_hours[0].end = "17:00" -> "18:00"' in out
    assert '+ config.appearance.logo = "https://example.com/logo.png"' in out
    assert '- config.event.location = "Coffee Shop"  (absent after)' in out
    assert '~ config.locale = "de" -> "en"   # drift: edited outside provisioner, will be reverted' in out


def test_kept_drift_is_information_in_its_own_section(samples) -> None:
    out = render_plan(samples["update"], "text")
    section = out.split("Drift kept (lifecycle.ignore_changes)", 1)[1].split("\n\n", 1)[0]
    assert "hr/interview: config.appearance.color" in section  # from a noop page too
    assert "sales/demo: config.appearance.company_name" in section
    assert "config.locale" not in section  # reverted drift is a change, not information


def test_destructive_plans_warn_before_the_summary_and_flag_blocked_pages(samples) -> None:
    out = render_plan(samples["delete"], "text")
    warning = out.index("WARNING: this plan destroys 2 live page(s):")
    assert warning < out.index("Plan: ")
    assert "legacy/keep (page 11, slug legacy-keep): delete (blocked by lifecycle.prevent_destroy)" in out
    assert "legacy/old (page 12, slug legacy-old): delete\n" in out
    assert "WARNING" not in render_plan(samples["update"], "text")


def test_recreate_of_a_gone_page_says_so_plainly_without_a_destroy_warning(samples) -> None:
    out = render_plan(samples["recreate"], "text")
    assert "# sales/demo was deleted outside provisioner and will be created again" in out
    assert '-/+ page "sales/demo" {' in out
    assert "destroy" not in out  # nothing is destroyed: the page is already gone


def test_pages_render_in_the_given_order() -> None:
    pages = tuple(
        PageChange(
            address=a, action=Action.UPDATE, slug=a, page_id=i, changes=(FieldChange("name", "x", "y"),)
        )
        for i, a in enumerate(["zeta", "alpha", "mid"])
    )
    out = render_plan(Plan(TARGET, "l", 1, pages), "text")
    assert [out.index(f'page "{a}"') for a in ("zeta", "alpha", "mid")] == sorted(
        out.index(f'page "{a}"') for a in ("zeta", "alpha", "mid")
    )


def test_colour_only_when_asked(samples) -> None:
    plain = render_plan(samples["create"], "text")
    coloured = render_plan(samples["create"], "text", color=True)
    assert "\x1b" not in plain
    assert "\x1b[32m+\x1b[0m page" in coloured
    assert "\x1b[33m~\x1b[0m config.locale" in render_plan(samples["update"], "text", color=True)
    assert "\x1b[31m-\x1b[0m" in render_plan(samples["delete"], "text", color=True)
    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured) == plain


@pytest.mark.parametrize("fmt", ["json", "markdown"])
def test_colour_never_reaches_machine_formats(samples, fmt: str) -> None:
    assert render_plan(samples["delete"], fmt, color=True) == render_plan(samples["delete"], fmt)
    assert render_drift(samples["drift"], fmt, color=True) == render_drift(samples["drift"], fmt)


def test_escape_sequences_in_input_cannot_reach_the_terminal() -> None:
    page = PageChange(
        address="evil\x1b[2J",
        action=Action.UPDATE,
        slug="s\x07",
        page_id=1,
        changes=(FieldChange("config.event.title\x1b[31m", "a\x1b]0;x\x07", "b"),),
    )
    out = render_plan(Plan(TARGET, "l", 1, (page,)), "text")
    assert "\x1b" not in out and "\x07" not in out
    assert "evil\\x1b[2J" in out


def test_drift_text_lines_and_summary(samples) -> None:
    out = render_drift(samples["drift"], "text")
    assert '  config.locale: last applied "en", live "de" → revert' in out
    assert '  config.appearance.color: last applied "#ffffff", live "#000000" → kept (ignore_changes)' in out
    assert '  config.timezone: last applied "UTC", live "Europe/Berlin" → adopted' in out
    assert '  config.event.location: last applied "Room 1", live (absent) → revert' in out
    assert (
        "sales/gone (page 99, slug sales-gone): deleted outside provisioner; next apply recreates it" in out
    )
    assert out.endswith("Drift: 2 page(s) drifted (3 field(s) to revert, 1 kept), 1 gone.\n")


def test_no_drift() -> None:
    out = render_drift(DriftReport(target=TARGET), "text")
    assert "No drift." in out
    assert out.endswith("Drift: 0 page(s) drifted (0 field(s) to revert, 0 kept), 0 gone.\n")


def test_only_kept_drift_is_not_drift_to_act_on() -> None:
    page = PageChange(
        address="a",
        action=Action.NOOP,
        slug="a",
        page_id=1,
        drift=(DriftItem("config.appearance.color", "#fff", "#000", Resolution.KEEP),),
    )
    out = render_drift(DriftReport(TARGET, (page,)), "text")
    assert "No drift that the next apply would act on." in out
    assert "Drift: 1 page(s) drifted (0 field(s) to revert, 1 kept), 0 gone." in out


def test_unknown_format_is_refused(samples) -> None:
    with pytest.raises(ValueError, match="unknown output format 'yaml'"):
        render_plan(samples["create"], "yaml")
    with pytest.raises(ValueError, match="unknown output format"):
        render_drift(samples["drift"], "html")
