"""Markdown for pull requests: structure, fences that values cannot break, and the 65,000-char cap."""

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
from provisioner.render.markdown import LIMIT

TARGET = Target(api_url="https://api.example", name="production")
NOTE = re.compile(r"Output truncated: (\d+) page\(s\) not shown; see the JSON (plan artifact|drift report)\.")


def _big_plan(n: int, action: Action = Action.UPDATE, fields: int = 4) -> Plan:
    pages = tuple(
        PageChange(
            address=f"team{i % 50}/page{i:05d}",
            action=action,
            slug=f"page-{i}",
            page_id=i,
            live_fingerprint=f"f{i}",
            changes=tuple(
                FieldChange(f"config.event.field{j}", f"old value {j}", f"new value {j}")
                for j in range(fields)
            ),
        )
        for i in range(n)
    )
    return Plan(TARGET, "lineage", 3, pages)


def test_structure(samples) -> None:
    out = render_plan(samples["update"], "markdown")
    assert out.startswith("### provisioner plan: staging https://api.staging.example/v2; API nylas-v2\n")
    assert "**Plan: 0 to create, 1 to update, 0 to delete, 0 to recreate.**" in out
    assert "| page | action | reverts live edits | changed fields |" in out
    assert "| `sales/demo` | ~ update |" in out
    assert out.count("<details>") == out.count("</details>") == 2  # the page + drift left as is
    assert "```diff\n" in out
    assert '- config.locale: "de"\n+ config.locale: "en"' in out
    assert not NOTE.search(out)


def test_destructive_plan_has_a_warning_callout(samples) -> None:
    out = render_plan(samples["delete"], "markdown")
    assert "> [!WARNING]\n> This plan destroys 2 live page(s):" in out
    assert "**blocked by lifecycle.prevent_destroy**" in out
    assert "[!WARNING]" not in render_plan(samples["update"], "markdown")


def test_values_cannot_break_the_fence_or_the_table() -> None:
    page = PageChange(
        address="a|b",
        action=Action.UPDATE,
        slug="s",
        page_id=1,
        changes=(FieldChange("config.event.title", "x", "```\n</details>"),),
    )
    out = render_plan(Plan(TARGET, "l", 1, (page,)), "markdown")
    assert "| `a\\|b` |" in out
    # the value is JSON-quoted (newline escaped) and the fence is longer than any backtick run inside
    assert "````diff\n" in out and '"```\\n</details>"' in out


@pytest.mark.parametrize("action", [Action.UPDATE, Action.DELETE, Action.CREATE])
def test_five_thousand_pages_stay_under_the_cap(action: Action) -> None:
    plan = _big_plan(5000, action)
    out = render_plan(plan, "markdown")
    assert len(out) < LIMIT
    assert "**Plan: " in out and "| page | action | reverts live edits | changed fields |" in out
    match = NOTE.search(out)
    assert match is not None and out.endswith(match.group(0) + "\n")
    shown = out.count("<details>")
    assert int(match.group(1)) == 5000 - shown
    if action is Action.DELETE:
        assert "This plan destroys 5000 live page(s)" in out and "and 4980 more" in out


def test_truncation_keeps_the_table_before_any_details() -> None:
    out = render_plan(_big_plan(300, fields=30), "markdown")
    assert len(out) < LIMIT
    assert out.count("| `team") == 300  # every row kept
    assert 0 < out.count("<details>") < 300
    assert NOTE.search(out)


def test_table_rows_are_cut_too_when_needed() -> None:
    out = render_plan(_big_plan(5000), "markdown")
    rows = out.count("| `team")
    more = re.search(r"\| … \| \| \| (\d+) more page\(s\) \|", out)
    assert more is not None and rows + int(more.group(1)) == 5000
    assert out.count("<details>") == 0


def test_one_huge_value_is_cut_not_sent() -> None:
    page = PageChange(
        address="big",
        action=Action.UPDATE,
        slug="big",
        page_id=1,
        changes=(FieldChange("config.event.description", "a", "x" * 200_000),),
    )
    out = render_plan(Plan(TARGET, "l", 1, (page,)), "markdown")
    assert len(out) < LIMIT
    assert "| `big` | ~ update |" in out
    assert NOTE.search(out).group(1) == "1"


def test_no_changes_with_much_kept_drift_stays_under_the_cap() -> None:
    pages = tuple(
        PageChange(
            address=f"p{i}",
            action=Action.NOOP,
            slug=f"p{i}",
            page_id=i,
            drift=(DriftItem("config.appearance.color", "#ffffff", "#000000", Resolution.KEEP),),
        )
        for i in range(5000)
    )
    out = render_plan(Plan(TARGET, "l", 1, pages), "markdown")
    assert len(out) < LIMIT
    assert "No changes. 5000 page(s) match the configuration." in out
    assert NOTE.search(out)


def test_drift_of_five_thousand_pages_stays_under_the_cap() -> None:
    pages = tuple(
        PageChange(
            address=f"team/page{i:05d}",
            action=Action.RECREATE if i % 10 == 0 else Action.NOOP,
            slug=f"p{i}",
            page_id=i,
            drift=()
            if i % 10 == 0
            else tuple(DriftItem(f"config.f{j}", "before", "after", Resolution.REVERT) for j in range(3)),
        )
        for i in range(5000)
    )
    out = render_drift(DriftReport(TARGET, pages), "markdown")
    assert len(out) < LIMIT
    assert "**Drift: 4500 page(s) drifted (13500 field(s) to revert, 0 kept), 500 gone.**" in out
    match = NOTE.search(out)
    assert match is not None and match.group(2) == "drift report"
    assert int(match.group(1)) == 4500 - out.count("<details>")


def test_small_drift_report(samples) -> None:
    out = render_drift(samples["drift"], "markdown")
    assert "> [!WARNING]\n> 1 page(s) deleted outside provisioner" in out
    assert "| `sales/gone` | gone: deleted outside provisioner |" in out
    assert out.count("<details>") == 2 and not NOTE.search(out)
    assert render_drift(samples["nodrift"], "markdown").endswith("No drift.\n")
