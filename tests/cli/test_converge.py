"""End to end through the CLI against the embedded emulator: converge, change, delete, saved plans."""

from __future__ import annotations

import json
import sqlite3

from .conftest import Project

DEMO = "pages/sales/discovery.yaml"


def edit_tokens(project: Project) -> list[str]:
    conn = sqlite3.connect(project.root / ".provisioner" / "emulator.db")
    try:
        return [row[0] for row in conn.execute("SELECT edit_token FROM pages")]
    finally:
        conn.close()


def test_apply_converges_the_examples_then_plan_has_nothing_to_do(project: Project):
    first = project.run("plan", "--detailed-exitcode")
    assert first.exit_code == 2, first.output
    assert first.output.splitlines()[0].startswith("Target: local emulator")
    assert "Plan: 4 to create, 0 to update, 0 to delete, 0 to recreate." in first.output

    applied = project.run("apply", "--auto-approve")
    assert applied.exit_code == 0, applied.output
    assert [slug for slug, _ in project.emulator_pages()] == [
        "acme-onboarding-kickoff", "acme-sales-demo", "acme-sales-discovery", "acme-support-office-hours",
    ]
    again = project.run("plan", "--detailed-exitcode")
    assert again.exit_code == 0, again.output
    assert "Plan: 0 to create, 0 to update, 0 to delete, 0 to recreate." in again.output

    lock_text = (project.root / "pages.lock").read_text()
    lock = json.loads(lock_text)
    assert lock_text == json.dumps(lock, indent=2, sort_keys=True) + "\n"
    assert (lock["version"], lock["serial"]) == (1, 1)
    assert sorted(lock["pages"]) == ["customer-success/onboarding", "sales/demo", "sales/discovery",
                                     "support/office-hours"]
    for token in edit_tokens(project):  # sealed, never in clear
        assert token not in lock_text
        assert token not in applied.output + first.output + again.output


def test_a_yaml_change_is_planned_field_by_field_and_applied(project: Project):
    assert project.run("apply", "--auto-approve").exit_code == 0
    path = project.root / DEMO
    path.write_text(path.read_text().replace("duration: 20", "duration: 25"))
    planned = project.run("plan", "--detailed-exitcode")
    assert planned.exit_code == 2
    assert "config.event.duration" in planned.output and "20" in planned.output and "25" in planned.output
    assert "Plan: 0 to create, 1 to update, 0 to delete, 0 to recreate." in planned.output
    assert project.run("apply", "--auto-approve").exit_code == 0
    assert project.run("plan", "--detailed-exitcode").exit_code == 0


def test_deleting_a_file_deletes_its_page_but_prevent_destroy_and_max_deletes_refuse(project: Project):
    assert project.run("apply", "--auto-approve").exit_code == 0
    (project.root / "pages/sales/demo.yaml").unlink()  # prevent_destroy: true
    refused = project.run("apply", "--auto-approve")
    assert refused.exit_code == 1
    assert "prevent_destroy" in refused.output
    assert len(project.emulator_pages()) == 4

    (project.root / DEMO).unlink()
    (project.root / "pages/support/office-hours.yaml").unlink()
    project.write("pages/sales/demo.yaml", (project.root / "pages/customer-success/onboarding.yaml").read_text()
                  .replace("acme-onboarding-kickoff", "acme-sales-demo"))
    (project.root / "pages/customer-success/onboarding.yaml").unlink()
    too_many = project.run("apply", "--auto-approve", "--max-deletes", "2")
    assert too_many.exit_code == 1
    assert "--max-deletes" in too_many.output
    done = project.run("apply", "--auto-approve", "--max-deletes", "3")
    assert done.exit_code == 0, done.output
    assert [slug for slug, _ in project.emulator_pages()] == ["acme-sales-demo"]


def test_apply_without_a_terminal_refuses_unless_approved(project: Project):
    result = project.run("apply")
    assert result.exit_code == 1
    assert "--auto-approve" in result.output
    assert not (project.root / "pages.lock").exists()
    assert not (project.root / ".provisioner" / "emulator.db").exists()


def test_saved_plan_applies_exactly_and_refuses_when_anything_moved(project: Project):
    assert project.run("plan", "--out", "plan.json").exit_code == 0
    saved = json.loads((project.root / "plan.json").read_text())
    assert saved["plan"]["format_version"] == 1
    applied = project.run("apply", "plan.json")
    assert applied.exit_code == 0, applied.output
    assert len(project.emulator_pages()) == 4

    stale = project.run("apply", "plan.json")  # the state moved on since
    assert stale.exit_code == 1
    assert "run plan again" in stale.output

    path = project.root / DEMO
    path.write_text(path.read_text().replace("duration: 20", "duration: 30"))
    assert project.run("plan", "--out", "plan2.json").exit_code == 0
    path.write_text(path.read_text().replace("duration: 30", "duration: 35"))
    changed = project.run("apply", "plan2.json")
    assert changed.exit_code == 1
    assert "changed since the plan was made" in changed.output


def test_invalid_pages_change_nothing(project: Project):
    project.write("pages/broken.yaml", "slug: Broken Slug\naccess_tokens: [x]\n")
    for command in (["validate"], ["plan"], ["apply", "--auto-approve"]):
        result = project.run(*command)
        assert result.exit_code == 1
        assert "pages/broken.yaml" in result.output
        assert "Traceback" not in result.output
    assert not (project.root / "pages.lock").exists()
    assert not (project.root / ".provisioner" / "emulator.db").exists()


def test_state_commands(project: Project):
    assert project.run("apply", "--auto-approve").exit_code == 0
    listed = project.run("state", "list")
    assert "sales/demo" in listed.output
    shown = project.run("state", "show", "sales/demo")
    assert json.loads(shown.output)["edit_token"] == "(sensitive)"
    assert project.run("state", "mv", "sales/demo", "sales/demo-2").exit_code == 0
    assert "sales/demo-2" in project.run("state", "list").output
    # The file still says sales/demo: same slug, so the plan moves the entry back, not a delete + create.
    planned = project.run("plan")
    assert "Plan: 0 to create, 0 to update, 0 to delete, 0 to recreate." in planned.output
    assert project.run("state", "rm", "sales/demo-2").exit_code == 0
    assert project.run("state", "rm", "nope").exit_code == 1


def test_validate_needs_no_secrets_but_plan_does(project: Project):
    project.write("pages/secret.yaml", "slug: needs-secret\naccess_tokens: ['${UNSET_TOKEN_VAR}']\n")
    validated = project.run("validate")
    assert validated.exit_code == 0, validated.output
    assert "5 page(s) valid" in validated.output
    planned = project.run("plan")
    assert planned.exit_code == 1
    assert "pages/secret.yaml:2:" in planned.output and "UNSET_TOKEN_VAR is not set" in planned.output
