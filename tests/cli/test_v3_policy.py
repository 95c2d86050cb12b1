"""Policies on real v3 pages: the v3 example tree (``api: nylas-v3``) through the CLI on the embedded
emulator. A violation names the file and line the value was written on (a `_defaults` file too), and
an exception, on the page (``lifecycle.policy_exceptions``) or in provisioner.yaml, is accepted."""

from __future__ import annotations

import json

from .conftest import Project

LOCAL = ("--target-env", "local")
RULES = ("policies:\n  rules:\n    notice: {builtin: min_booking_notice, min: 180}\n"
         "    duration: {path: config.availability.duration_minutes, max: 25}\n")


def test_a_v3_policy_violation_names_file_and_line_and_an_exception_is_accepted(v3: Project):
    project_file = v3.root / "provisioner.yaml"
    assert "api: nylas-v3" in project_file.read_text()
    project_file.write_text(project_file.read_text() + RULES)
    for command in ("validate", "plan"):
        result = v3.run(command, *LOCAL)
        assert result.exit_code == 1, result.output
        # v3's own path for the built-in, written in the folder's _defaults file, under both pages
        for address in ("sales/demo", "sales/round-robin"):
            assert (f"pages/sales/_defaults.yaml:8:5: config.scheduler.min_booking_notice: policy 'notice': is 120, "
                    f"below the minimum 180 ({address})") in result.output
        assert ("pages/sales/demo.yaml:15:5: config.availability.duration_minutes: policy 'duration': is 30, "
                "above the maximum 25") in result.output
        assert "nothing was changed" in result.output

    page = v3.root / "pages/sales/demo.yaml"
    page.write_text(page.read_text().replace(
        "lifecycle:\n", "lifecycle:\n  policy_exceptions:\n    - {rule: duration, reason: demos take half an hour}\n"
                        "    - {rule: notice, reason: same-day demos (OPS-7)}\n", 1))
    still = v3.run("validate", *LOCAL)
    assert still.exit_code == 1 and "(sales/round-robin)" in still.output and "(sales/demo)" not in still.output
    assert "duration" not in still.output
    project_file.write_text(project_file.read_text() + (
        "  exceptions:\n    - {page: sales/round-robin, rule: notice, reason: intro calls are short notice}\n"))
    assert "2 page(s) valid" in v3.run("validate", *LOCAL).output
    applied = v3.run("apply", "--auto-approve", *LOCAL)
    assert applied.exit_code == 0, applied.output
    assert "No changes" in v3.run("plan", *LOCAL).output
    # provisioner's own key: never sent to the API, so the live configuration holds none of it
    state = json.loads((v3.root / "pages.local.lock").read_text())
    assert "policy_exceptions" not in json.dumps(state["pages"]["sales/demo"]["config"])


ROSTER = """alice:
  name: Alice
  email: alice@example.com
carol:
  name: Carol
  email: carol@example.com
  override:
    config: {scheduler: {min_booking_notice: 30}}
"""
EXCUSED = "    lifecycle: {policy_exceptions: [{rule: notice, reason: on call}]}\n"  # in carol's override
TEMPLATE = """slug: one-{{ key }}
name: One to one with {{ name }}
config:
  participants:
    - email: "{{ email }}"
      name: "{{ name }}"
      is_organizer: true
      availability: {calendar_ids: [primary]}
      booking: {calendar_id: primary}
  availability:
    duration_minutes: 30
  event_booking:
    title: Call with {{ name }}
"""


def test_a_v3_roster_names_the_roster_line_and_a_renamed_entry_moves(v3: Project):
    project_file = v3.root / "provisioner.yaml"
    project_file.write_text(project_file.read_text() + "policies:\n  rules:\n    notice: "
                            "{builtin: min_booking_notice, min: 100}\n")
    v3.write("pages/sales/_roster.yaml", ROSTER)
    v3.write("pages/sales/_one.template.yaml", TEMPLATE)
    refused = v3.run("validate", *LOCAL)
    assert refused.exit_code == 1, refused.output
    assert ("pages/sales/_roster.yaml:8:26: config.scheduler.min_booking_notice: policy 'notice': is 30, "
            "below the minimum 100 (sales/one[carol])") in refused.output
    v3.write("pages/sales/_roster.yaml", ROSTER + EXCUSED)
    applied = v3.run("apply", "--auto-approve", *LOCAL)
    assert applied.exit_code == 0, applied.output
    assert "sales/one[carol]: created" in applied.output
    carol = json.loads((v3.root / "pages.local.lock").read_text())["pages"]["sales/one[carol]"]["id"]

    v3.write("pages/sales/_roster.yaml", ROSTER.replace("carol:\n", "caroline:\n  renamed_from: carol\n")
             + EXCUSED)
    planned = v3.run("plan", *LOCAL)
    assert planned.exit_code == 0, planned.output
    assert "sales/one[caroline] moved from sales/one[carol]" in planned.output
    assert "0 to create" in planned.output and "0 to delete" in planned.output
    assert v3.run("apply", "--auto-approve", *LOCAL).exit_code == 0
    state = json.loads((v3.root / "pages.local.lock").read_text())["pages"]
    assert "sales/one[carol]" not in state and state["sales/one[caroline]"]["id"] == carol
