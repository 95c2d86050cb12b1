"""Safety at plan time (PRODUCT.md §2): `plan` applies the same limits as `apply` and says up front
that apply will refuse; prevent_destroy blocks only the destroy of a live page, and never the rest."""

from __future__ import annotations

import json

from .conftest import Project
from .test_plan_shows_every_write import api, live_pages

PAGE = """slug: bulk-{i}
name: Bulk {i}
access_tokens:
  - ${{NYLAS_TOKEN_BULK:-demo-token-bulk}}
config:
  event:
    title: Bulk {i}
"""


def bulk(project: Project, n: int) -> None:
    project.write("pages/bulk/_defaults.yaml", "config:\n  event:\n    duration: 30\n")
    for i in range(n):
        project.write(f"pages/bulk/p{i:02d}.yaml", PAGE.format(i=i))


def edit_defaults(project: Project) -> None:
    project.write("pages/bulk/_defaults.yaml", "config:\n  event:\n    duration: 45\n")


def live_durations(project: Project) -> set[int]:
    plan = json.loads(project.run("plan", "--format", "json", "--max-changes-percent", "100").output)
    return {c["before"] for p in plan["pages"] for c in p["changes"] if c["path"] == "config.event.duration"}


def test_one_defaults_edit_over_many_pages_is_refused_by_plan_and_apply_alike(project: Project):
    bulk(project, 12)
    assert project.run("apply", "--auto-approve").exit_code == 0  # 16 managed pages
    edit_defaults(project)  # rewrites 12 of 16 pages: 75 %

    planned = project.run("plan", "--out", "plan.json")
    assert planned.exit_code == 1
    first, second = planned.output.splitlines()[:2]
    assert first.startswith("Target: ")
    assert second.startswith("Apply will refuse this plan: it updates 12 of 16 managed pages (75%)")
    assert "--max-changes-percent 30" in second
    assert not (project.root / "plan.json").exists()  # a refused plan is never saved

    refused = project.run("apply", "--auto-approve")
    assert refused.exit_code == 1 and "--max-changes-percent" in refused.output
    assert live_durations(project) == {30}  # nothing was sent

    assert project.run("plan", "--max-changes-percent", "80").exit_code == 0
    assert project.run("apply", "--auto-approve", "--max-changes-percent", "80").exit_code == 0
    assert project.run("plan", "--detailed-exitcode").exit_code == 0


def test_the_update_limit_does_not_apply_below_the_minimum_page_count(project: Project):
    assert project.run("apply", "--auto-approve").exit_code == 0  # 4 pages
    defaults = project.root / "pages/sales/_defaults.yaml"
    defaults.write_text(defaults.read_text().replace("Book the call", "Book a call"))  # 2 of 4 pages: 50 %
    planned = project.run("plan", "--detailed-exitcode")
    assert planned.exit_code == 2 and "Apply will refuse" not in planned.output


def test_limits_are_settable_per_target_and_flags_override_them(project: Project):
    bulk(project, 12)
    project.write("provisioner.yaml", "targets:\n  local:\n    max_changes_percent: 100\n    max_deletes: 1\n")
    assert project.run("apply", "--auto-approve").exit_code == 0
    edit_defaults(project)
    for i in range(2):
        (project.root / f"pages/bulk/p{i:02d}.yaml").unlink()
    planned = project.run("plan")
    assert planned.exit_code == 1
    refusals = [line for line in planned.output.splitlines() if line.startswith("Apply will refuse")]
    assert refusals == [
        "Apply will refuse this plan: it deletes 2 live pages, more than --max-deletes 1; raise --max-deletes "
        "(or max_deletes of the target in provisioner.yaml) if this is intended."
    ]  # the update share (10 of 16) is within the target's 100 %
    assert project.run("plan", "--max-deletes", "2").exit_code == 0
    bad = project.write("provisioner.yaml", "targets:\n  local:\n    max_changes_percent: 150\n")
    invalid = project.run("plan")
    assert invalid.exit_code == 1 and f"{bad.name}:3" in invalid.output and "max_changes_percent" in invalid.output


def test_deletes_beyond_the_limit_are_announced_by_plan(project: Project):
    bulk(project, 6)
    assert project.run("apply", "--auto-approve").exit_code == 0
    for i in range(6):
        (project.root / f"pages/bulk/p{i:02d}.yaml").unlink()
    planned = project.run("plan", "--format", "json")
    assert planned.exit_code == 1
    doc = json.loads(planned.stdout)
    assert doc["refusals"] and "--max-deletes 5" in doc["refusals"][0]


def test_a_blocked_page_never_holds_up_the_rest(project: Project):
    assert project.run("apply", "--auto-approve").exit_code == 0
    (project.root / "pages/sales/demo.yaml").unlink()  # prevent_destroy: true, still recorded in the state
    office = project.root / "pages/support/office-hours.yaml"
    office.write_text(office.read_text().replace("slug: acme-support-office-hours", "slug: acme-support-hours"))

    planned = project.run("plan")
    assert planned.exit_code == 1
    assert "Apply will not destroy sales/demo (blocked by lifecycle.prevent_destroy)" in planned.output
    assert "Plan: 0 to create, 1 to update, 1 to delete, 0 to recreate." in planned.output

    applied = project.run("apply", "--auto-approve")
    assert applied.exit_code == 1
    assert "sales/demo: not destroyed: lifecycle.prevent_destroy protects it" in applied.output
    slugs = [slug for slug, _ in project.emulator_pages()]
    assert "acme-sales-demo" in slugs and "acme-support-hours" in slugs  # blocked page kept, the rest applied


def test_a_protected_page_deleted_outside_provisioner_is_recreated(project: Project):
    assert project.run("apply", "--auto-approve").exit_code == 0
    (page,) = [p for p in live_pages(project.root, ["demo-token-alice"]).values() if p["slug"] == "acme-sales-demo"]
    api(project.root, "DELETE", f"/manage/pages/{page['id']}", page["edit_token"])  # an end user deleted it
    planned = project.run("plan")
    assert planned.exit_code == 0, planned.output
    assert "# sales/demo was deleted outside provisioner and will be created again" in planned.output
    assert "WARNING" not in planned.output and "blocked" not in planned.output
    assert project.run("apply", "--auto-approve").exit_code == 0
    assert "acme-sales-demo" in [slug for slug, _ in project.emulator_pages()]


def test_an_empty_lifecycle_is_no_error(project: Project):
    office = project.root / "pages/support/office-hours.yaml"
    office.write_text(office.read_text() + "lifecycle:\n")
    result = project.run("validate")
    assert result.exit_code == 0, result.output


def test_a_stale_saved_plan_names_the_pages_that_moved_and_on_which_side(project: Project):
    assert project.run("apply", "--auto-approve").exit_code == 0
    for relative in ("pages/sales/demo.yaml", "pages/support/office-hours.yaml"):
        path = project.root / relative
        path.write_text(path.read_text().replace("name: ", "name: New ", 1))
    assert project.run("plan", "--out", "plan.json").exit_code == 0

    (page,) = [p for p in live_pages(project.root, ["demo-token-alice"]).values() if p["slug"] == "acme-sales-demo"]
    api(project.root, "PUT", f"/manage/pages/{page['id']}", page["edit_token"],
        {"name": page["name"], "slug": page["slug"], "config": {**page["config"], "locale": "de"}})
    live_side = project.run("apply", "plan.json")
    assert live_side.exit_code == 1
    assert "sales/demo (its live page changed outside provisioner)" in live_side.output
    assert "office-hours" not in live_side.output

    assert project.run("plan", "--out", "plan.json").exit_code == 0
    assert project.run("state", "mv", "support/office-hours", "support/hours").exit_code == 0
    lock_side = project.run("apply", "plan.json")
    assert lock_side.exit_code == 1
    assert "the lockfile was written since" in lock_side.output
    assert "support/office-hours (its lockfile record changed)" in lock_side.output
    assert "sales/demo" not in lock_side.output
    assert project.run("state", "mv", "support/hours", "support/office-hours").exit_code == 0

    assert project.run("plan", "--out", "plan.json").exit_code == 0
    path = project.root / "pages/sales/demo.yaml"
    path.write_text(path.read_text().replace("name: New ", "name: Newer "))
    file_side = project.run("apply", "plan.json")
    assert file_side.exit_code == 1 and "sales/demo (its page file changed)" in file_side.output


def test_target_says_that_other_pages_were_not_checked(project: Project):
    result = project.run("plan", "--target", "sales/demo")
    assert result.exit_code == 0
    assert "Note: --target limits this plan to 1 page(s); 3 other page(s) were not checked." in result.output
    assert "not checked" not in project.run("plan").output
