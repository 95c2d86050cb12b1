"""Regressions found in review: pending creates, lifecycle changes, names, tokens in saved plans."""

from __future__ import annotations

import json

import httpx

from provisioner.secrets import Sealer
from provisioner.state import LockfileBackend, current_holder

from .conftest import Project, Served

OFFICE = "pages/support/office-hours.yaml"


def test_a_pending_create_is_adopted_even_after_the_slug_was_edited(project: Project, served: Served):
    # A run sent the create (the page exists) and died before recording it; then the slug was edited.
    answer = httpx.post(f"{served.url}/manage/pages", json={
        "access_tokens": ["demo-token-support"], "slug": "acme-support-office-hours", "name": "x"})
    assert answer.status_code == 201
    backend = LockfileBackend(project.root / "pages.lock", Sealer(served.env["PROVISIONER_LOCK_KEY"]))
    with backend.transaction(served.url, current_holder()) as txn:
        txn.intend_create("support/office-hours", "acme-support-office-hours")
    path = project.root / OFFICE
    path.write_text(path.read_text().replace("slug: acme-support-office-hours", "slug: acme-support-hours"))
    result = project.run("apply", "--auto-approve", env=served.env)
    assert result.exit_code == 0, result.output
    assert "adopted" in result.output
    slugs = [slug for slug, _ in project.emulator_pages(served.db)]
    assert "acme-support-office-hours" not in slugs and slugs.count("acme-support-hours") == 1
    assert len(slugs) == 4
    assert project.run("plan", "--detailed-exitcode", env=served.env).exit_code == 0


def test_a_definite_create_failure_leaves_no_pending_create(project: Project, served: Served):
    httpx.post(f"{served.url}/manage/pages", json={"access_tokens": ["someone"], "slug": "acme-sales-discovery"})
    assert project.run("apply", "--auto-approve", env=served.env).exit_code == 1
    assert "pending_creates" not in json.loads((project.root / "pages.lock").read_text())


def test_prevent_destroy_changes_are_recorded_both_ways(project: Project):
    assert project.run("apply", "--auto-approve").exit_code == 0
    path = project.root / OFFICE
    path.write_text(path.read_text() + "lifecycle:\n  prevent_destroy: true\n")
    planned = project.run("plan", "--detailed-exitcode")
    assert planned.exit_code == 2 and "lifecycle.prevent_destroy = false -> true" in planned.output
    assert project.run("apply", "--auto-approve").exit_code == 0
    assert project.run("plan", "--detailed-exitcode").exit_code == 0
    text = path.read_text()
    path.unlink()
    refused = project.run("apply", "--auto-approve")
    assert refused.exit_code == 1 and "prevent_destroy" in refused.output
    path.write_text(text.replace("prevent_destroy: true", "prevent_destroy: false"))
    assert project.run("apply", "--auto-approve").exit_code == 0
    path.unlink()
    assert project.run("apply", "--auto-approve").exit_code == 0
    assert "acme-support-office-hours" not in [s for s, _ in project.emulator_pages()]


def test_a_page_file_without_name_converges(project: Project):
    assert project.run("apply", "--auto-approve").exit_code == 0
    path = project.root / OFFICE
    path.write_text(path.read_text().replace("name: Support office hours\n", ""))
    assert project.run("plan", "--detailed-exitcode").exit_code == 0


def test_a_saved_plan_is_refused_when_the_access_tokens_changed(project: Project):
    assert project.run("plan", "--out", "plan.json").exit_code == 0
    result = project.run("apply", "plan.json", env={"NYLAS_TOKEN_SUPPORT": "token-of-someone-else"})
    assert result.exit_code == 1 and "changed since the plan was made" in result.output
    assert project.emulator_pages() == []  # nothing was created


def test_an_imported_page_gets_the_yaml_hosts_on_its_first_update(project: Project, served: Served):
    page = httpx.post(f"{served.url}/manage/pages", json={
        "access_tokens": ["demo-token-alice"], "slug": "acme-sales-discovery"}).json()
    env = dict(served.env, EDIT=page["edit_token"])
    assert project.run("import", "sales/discovery", "--page-id", str(page["id"]), "--edit-token-env", "EDIT",
                       env=env).exit_code == 0
    assert project.run("apply", "--auto-approve", env=env).exit_code == 0
    live = httpx.get(f"{served.url}/manage/pages/{page['id']}",
                     headers={"Authorization": f"Bearer {page['edit_token']}"}).json()
    assert len(live["access_token_infos"]) == 3  # alice, bob and carol, as the YAML says


def test_plan_reports_a_page_that_prevent_destroy_blocks_and_fails(project: Project):
    assert project.run("apply", "--auto-approve").exit_code == 0
    (project.root / "pages/sales/demo.yaml").unlink()  # prevent_destroy: true
    result = project.run("plan", "--out", "plan.json")
    assert result.exit_code == 1
    assert "will be DESTROYED" in result.output and "lifecycle.prevent_destroy protects it" in result.output
    assert (project.root / "plan.json").exists()  # the rest of the plan stands: a blocked page holds nothing up


def test_api_urls_that_cannot_work_or_would_leak_are_refused(project: Project):
    for url, message in [("ftp://x", "must be https"), ("https://u:p@h", "credentials"),
                         ("http://example.com", "plain http"), ("http://[::1", "not a valid URL")]:
        result = project.run("plan", "--api-url", url)
        assert result.exit_code == 1 and message in result.output and "Traceback" not in result.output
        assert "u:p" not in result.output


def test_a_plan_saved_after_an_interrupted_apply_is_applied(project: Project):
    assert project.run("apply", "--auto-approve").exit_code == 0
    lock = project.root / "pages.lock"
    backend = LockfileBackend(lock, Sealer((project.root / ".provisioner/lock.key").read_text().strip()))
    before = lock.read_bytes()
    api = json.loads(before)["api_url"]
    with backend.transaction(api, current_holder()) as txn:  # a run that dies before folding its journal
        txn.intend_create("sales/extra", "acme-extra")
        journal = backend.journal_path.read_bytes()
    lock.write_bytes(before)
    backend.journal_path.write_bytes(journal)
    path = project.root / OFFICE
    path.write_text(path.read_text().replace("duration: 30", "duration: 40"))
    assert project.run("plan", "--out", "plan.json").exit_code == 0
    applied = project.run("apply", "plan.json")
    assert applied.exit_code == 0, applied.output


def test_a_targeted_rename_is_still_a_move(project: Project):
    assert project.run("apply", "--auto-approve").exit_code == 0
    (project.root / OFFICE).rename(project.root / "pages/support/hours.yaml")
    for target in ("support/office-hours", "support/hours"):
        planned = project.run("plan", "--target", target)
        assert "Plan: 0 to create, 0 to update, 0 to delete, 0 to recreate." in planned.output, planned.output
    assert project.run("apply", "--auto-approve", "--target", "support/hours").exit_code == 0
    assert project.run("plan", "--detailed-exitcode").exit_code == 0


def test_a_pending_create_whose_file_is_gone_is_reported(project: Project):
    assert project.run("apply", "--auto-approve").exit_code == 0
    lock = project.root / "pages.lock"
    backend = LockfileBackend(lock, Sealer((project.root / ".provisioner/lock.key").read_text().strip()))
    with backend.transaction(json.loads(lock.read_text())["api_url"], current_holder()) as txn:
        txn.intend_create("gone/page", "acme-gone")
    assert "gone/page\tpending create" in project.run("state", "list").output
    planned = project.run("plan", "--format", "json")
    (warning,) = json.loads(planned.output)["warnings"]
    assert "gone/page" in warning and "provisioner state rm gone/page" in warning
    assert "WARNING: gone/page" in project.run("plan").output
