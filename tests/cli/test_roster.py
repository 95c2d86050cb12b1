"""A roster tree end to end: validate, plan, apply, a person added, renamed, removed; drift on
member fields; generated addresses in --target and state; policies failing validate and plan."""

from __future__ import annotations

import json

from .conftest import Project, Served
from .test_served import end_user_edit

TEMPLATE = """slug: demo-{{ key }}
name: Demo with {{ name }}
access_tokens: ["{{ token }}"]
member_fields: [config.appearance.color]
config:
  event: {title: "Demo with {{ name }}", duration: 30}
  booking: {min_booking_notice: 60}
"""


def roster(*keys: str, renamed: dict[str, str] | None = None) -> str:
    lines = []
    for key in keys:
        lines += [f"{key}:", f"  name: {key.title()}", f"  token: ${{TOKEN_{key.upper()}:-demo-token-{key}}}"]
        if renamed and key in renamed:
            lines.append(f"  renamed_from: {renamed[key]}")
    return "\n".join(lines) + "\n"


def plan_json(project: Project, env: dict[str, str] | None = None, *args: str) -> dict:
    result = project.run("plan", "--format", "json", *args, env=env)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def generated(plan: dict) -> dict[str, str]:
    return {p["address"]: p["action"] for p in plan["pages"] if p["address"].startswith("reps/")}


def test_a_roster_tree_from_validate_to_apply_and_each_kind_of_change(project: Project):
    project.write("pages/reps/_roster.yaml", roster("alice", "bob", "carol"))
    project.write("pages/reps/_demo.template.yaml", TEMPLATE)
    validated = project.run("validate")
    assert validated.exit_code == 0 and "7 page(s) valid" in validated.output  # 4 example pages + 3

    assert generated(plan_json(project)) == {"reps/demo[alice]": "create", "reps/demo[bob]": "create",
                                             "reps/demo[carol]": "create"}
    assert project.run("apply", "--auto-approve").exit_code == 0
    assert project.run("plan", "--detailed-exitcode").exit_code == 0
    shown = project.run("state", "show", "reps/demo[bob]")
    assert shown.exit_code == 0 and "demo-bob" in shown.output
    assert "reps/demo[carol]" in project.run("state", "list").output

    # One person joins: one create, nothing else.
    project.write("pages/reps/_roster.yaml", roster("alice", "bob", "carol", "dave"))
    plan = plan_json(project)
    assert plan["summary"] == {"create": 1, "update": 0, "delete": 0, "recreate": 0, "move": 0, "noop": 7}
    assert generated(plan)["reps/demo[dave]"] == "create"
    assert project.run("apply", "--auto-approve").exit_code == 0

    # A key renamed, with renamed_from: a move (and the slug follows the key), never delete + create.
    project.write("pages/reps/_roster.yaml", roster("alice", "robert", "carol", "dave", renamed={"robert": "bob"}))
    plan = plan_json(project)
    (moved,) = [p for p in plan["pages"] if p["action"] == "move"]
    assert moved["address"] == "reps/demo[robert]" and moved["moved_from"] == "reps/demo[bob]"
    assert plan["summary"]["create"] == 0 and plan["summary"]["delete"] == 0
    assert project.run("apply", "--auto-approve").exit_code == 0
    assert "reps/demo[bob]" not in project.run("state", "list").output

    # One person leaves: one delete, and --target takes a generated address.
    project.write("pages/reps/_roster.yaml", roster("alice", "robert", "dave"))
    targeted = plan_json(project, None, "--target", "reps/demo[carol]")
    assert [(p["address"], p["action"]) for p in targeted["pages"]] == [("reps/demo[carol]", "delete")]
    assert project.run("apply", "--auto-approve").exit_code == 0
    assert project.run("plan", "--detailed-exitcode").exit_code == 0
    assert project.run("state", "mv", "reps/demo[dave]", "reps/demo[david]").exit_code == 0
    assert "reps/demo[david]" in project.run("state", "list").output


def test_member_fields_are_kept_in_drift_and_managed_fields_are_reverted(project: Project, served: Served):
    env = served.env
    project.write("pages/reps/_roster.yaml", roster("alice"))
    project.write("pages/reps/_demo.template.yaml", TEMPLATE)
    assert project.run("apply", "--auto-approve", env=env).exit_code == 0

    end_user_edit(served, project, "reps/demo[alice]", lambda c: c.setdefault("appearance", {}).update(color="#112233"))
    kept = project.run("drift", env=env)
    assert kept.exit_code == 0 and "config.appearance.color" in kept.output  # a member field: reported, kept
    assert project.run("plan", "--detailed-exitcode", env=env).exit_code == 0

    end_user_edit(served, project, "reps/demo[alice]", lambda c: c["booking"].update(min_booking_notice=5))
    drifted = project.run("drift", "--format", "json", env=env)
    assert drifted.exit_code == 2
    (page,) = json.loads(drifted.output)["pages"]
    assert page["address"] == "reps/demo[alice]"
    assert {d["path"]: d["resolution"] for d in page["drift"]} == {
        "config.appearance.color": "keep", "config.booking.min_booking_notice": "revert"}


def test_policies_fail_validate_and_plan_with_the_template_line(project: Project):
    project.write("provisioner.yaml", "policies:\n  rules:\n    notice: {builtin: min_booking_notice, min: 90}\n"
                  "    title: {path: config.event.title, pattern: 'Demo.*', severity: warning}\n")
    project.write("pages/reps/_roster.yaml", roster("alice"))
    project.write("pages/reps/_demo.template.yaml", TEMPLATE)
    for command in ("validate", "plan"):
        result = project.run(command)
        assert result.exit_code == 1, result.output
        assert ("pages/reps/_demo.template.yaml:7:13: config.booking.min_booking_notice: policy 'notice': is 60, "
                "below the minimum 90 (reps/demo[alice])") in result.output
    project.write("provisioner.yaml", "policies:\n  rules:\n    title: {path: name, pattern: 'Intro.*', "
                  "severity: warning}\n")
    warned = project.run("validate")
    assert warned.exit_code == 0
    assert "Warning: pages/reps/_demo.template.yaml:2:1: name: policy 'title'" in warned.output
    plan = plan_json(project)
    assert any(w.startswith("policy: pages/reps/_demo.template.yaml:2:1: name:") for w in plan["warnings"])


def test_drift_reports_live_edits_whatever_the_policies_say(project: Project):
    assert project.run("apply", "--auto-approve").exit_code == 0
    project.write("provisioner.yaml", "policies:\n  rules:\n    notice: {builtin: min_booking_notice, min: 900}\n")
    assert project.run("plan").exit_code == 1  # the rule fails plan and validate ...
    drift = project.run("drift")
    assert drift.exit_code == 0, drift.output  # ... but not the drift check
