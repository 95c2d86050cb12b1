"""JSON: parses, stable key order, documented fields, absent vs. null, summary counts."""

from __future__ import annotations

import json

from provisioner.changes import Action, FieldChange, PageChange, Plan, Target
from provisioner.render import render_drift, render_plan
from provisioner.render.jsonfmt import FORMAT_VERSION


def _canonical(doc: object) -> str:
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"


def test_plan_json_parses_with_sorted_keys_and_trailing_newline(samples) -> None:
    for name in ("create", "update", "delete", "recreate", "move", "nochanges"):
        out = render_plan(samples[name], "json")
        assert out == _canonical(json.loads(out)), name


def test_plan_json_top_level_and_page_fields(samples) -> None:
    doc = json.loads(render_plan(samples["move"], "json"))
    assert doc["format_version"] == FORMAT_VERSION == 1
    assert doc["kind"] == "plan"
    assert doc["lineage"] == "3f2c1a9e-lineage" and doc["serial"] == 7
    assert doc["target"]["name"] == "staging" and doc["target"]["emulator"] is False
    # one update, plus one move that also changes fields
    assert doc["summary"] == {"create": 0, "update": 2, "delete": 0, "recreate": 0, "move": 2, "noop": 0}
    first = doc["pages"][0]
    assert set(first) == {
        "address",
        "action",
        "slug",
        "page_id",
        "moved_from",
        "prevent_destroy",
        "blocked",
        "reverts_drift",
        "changes",
        "drift",
    }
    assert (first["address"], first["action"], first["moved_from"]) == (
        "team/sales/demo",
        "move",
        "sales/demo",
    )


def test_plan_json_keeps_noop_pages_and_their_drift(samples) -> None:
    doc = json.loads(render_plan(samples["update"], "json"))
    noop = doc["pages"][0]
    assert noop["action"] == "noop" and noop["drift"][0]["resolution"] == "keep"
    assert doc["summary"]["noop"] == 1


def test_absent_is_null_with_a_flag_and_null_is_a_value() -> None:
    page = PageChange(
        address="a",
        action=Action.UPDATE,
        slug="a",
        page_id=1,
        changes=(
            FieldChange("config.x", None, "v", before_present=False),
            FieldChange("config.y", None, 3),
        ),
    )
    changes = json.loads(render_plan(Plan(Target("u"), "l", 1, (page,)), "json"))["pages"][0]["changes"]
    assert changes[0]["before"] is None and changes[0]["before_present"] is False
    assert changes[1]["before"] is None and changes[1]["before_present"] is True


def test_blocked_flag(samples) -> None:
    pages = json.loads(render_plan(samples["delete"], "json"))["pages"]
    assert [(p["address"], p["blocked"]) for p in pages] == [("legacy/keep", True), ("legacy/old", False)]


def test_drift_json(samples) -> None:
    out = render_drift(samples["drift"], "json")
    assert out == _canonical(json.loads(out))
    doc = json.loads(out)
    assert doc["kind"] == "drift" and doc["format_version"] == 1 and doc["has_drift"] is True
    assert doc["summary"] == {"drifted": 2, "revert": 3, "keep": 1, "adopt": 1, "gone": 1}
    assert [p["gone"] for p in doc["pages"]] == [False, True, False]
    location = doc["pages"][0]["drift"][1]
    assert location == {
        "path": "config.event.location",
        "last_applied": "Room 1",
        "live": None,
        "last_present": True,
        "live_present": False,
        "resolution": "revert",
    }


def test_empty_drift_json(samples) -> None:
    doc = json.loads(render_drift(samples["nodrift"], "json"))
    assert doc["pages"] == [] and doc["has_drift"] is False and doc["target"]["emulator"] is True
