"""Adoption end to end: import a live page, pull it as YAML, adopt a whole account, rename a file."""

from __future__ import annotations

import json
import shutil

import httpx

from .conftest import Project, Served

LEGACY = {
    "slug": "legacy-intro",
    "name": "Intro call",
    "config": {
        "timezone": "Europe/Paris",
        "event": {"title": "Intro", "duration": 25, "participants": [{"email": "host@example.com", "name": "H"}]},
        "booking": {"opening_hours": [{"days": ["M", "T"], "start": "09:00", "end": "17:00"}],
                    "additional_fields": [{"name": "why", "label": "Why?", "type": "text", "order": 1}]},
    },
}


def create_live(served: Served, token: str, **overrides) -> dict:
    answer = httpx.post(f"{served.url}/manage/pages", json={"access_tokens": [token], **LEGACY, **overrides})
    assert answer.status_code == 201, answer.text
    return answer.json()


def test_import_then_pull_gives_a_page_file_with_no_changes(project: Project, served: Served):
    shutil.rmtree(project.root / "pages")
    (project.root / "pages").mkdir()
    page = create_live(served, "tok-legacy-owner")
    env = dict(served.env, LEGACY_EDIT=page["edit_token"])
    imported = project.run("import", "legacy/intro", "--page-id", str(page["id"]), "--edit-token-env", "LEGACY_EDIT",
                           env=env)
    assert imported.exit_code == 0, imported.output
    assert page["edit_token"] not in imported.output
    again = project.run("import", "other", "--page-id", str(page["id"]), input=page["edit_token"] + "\n", env=env)
    assert again.exit_code == 1 and "already managed as legacy/intro" in again.output

    pulled = project.run("pull", "legacy/intro", env=env)
    assert pulled.exit_code == 0, pulled.output
    text = (project.root / "pages/legacy/intro.yaml").read_text()
    assert "status" not in text and "logo" not in text and "collective_meetings" not in text  # server defaults
    assert 'start: "09:00"' in text and page["edit_token"] not in text
    variable = text.split("${", 1)[1].split("}", 1)[0]
    env[variable] = "tok-legacy-owner"
    planned = project.run("plan", "--detailed-exitcode", env=env)
    assert planned.exit_code == 0, planned.output
    assert project.run("pull", "legacy/intro", env=env).exit_code == 0  # the same file again: nothing to do
    edited = project.root / "pages/legacy/intro.yaml"
    edited.write_text(text + "# my own note\n")
    refused = project.run("pull", "legacy/intro", env=env)
    assert refused.exit_code == 1 and "--force" in refused.output  # an edited file is never overwritten silently
    assert edited.read_text() == text + "# my own note\n"
    assert project.run("pull", "legacy/intro", "--force", env=env).exit_code == 0
    assert edited.read_text() == text


def test_import_reads_the_edit_token_from_stdin(project: Project, served: Served):
    page = create_live(served, "tok-stdin-owner", slug="stdin-page")
    result = project.run("import", "x/stdin", "--page-id", str(page["id"]), input=page["edit_token"] + "\n",
                         env=served.env)
    assert result.exit_code == 0, result.output
    assert "x/stdin" in project.run("state", "list", env=served.env).output


def test_a_whole_account_is_adopted_and_plans_clean(project: Project, served: Served):
    shutil.rmtree(project.root / "pages")
    (project.root / "pages").mkdir()
    for slug in ("acct-one", "acct-two", "acct-three"):
        create_live(served, "tok-team-account", slug=slug)
    create_live(served, "tok-someone-else", slug="not-mine")
    env = dict(served.env, TEAM_TOKEN="tok-team-account")
    result = project.run("import", "team", "--account-token-env", "TEAM_TOKEN", env=env)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (project.root / "pages/team").iterdir()) == [
        "acct-one.yaml", "acct-three.yaml", "acct-two.yaml"]
    variable = (project.root / "pages/team/acct-one.yaml").read_text().split("${", 1)[1].split("}", 1)[0]
    env[variable] = "tok-team-account"
    assert project.run("plan", "--detailed-exitcode", env=env).exit_code == 0
    assert "tok-team-account" not in result.output


def test_renaming_a_page_file_moves_the_state_entry(project: Project):
    assert project.run("apply", "--auto-approve").exit_code == 0
    before = json.loads((project.root / "pages.lock").read_text())["pages"]["sales/discovery"]["id"]
    (project.root / "pages/sales/discovery.yaml").rename(project.root / "pages/sales/discovery-call.yaml")
    planned = project.run("plan")
    assert "Plan: 0 to create, 0 to update, 0 to delete, 0 to recreate." in planned.output
    assert "sales/discovery" in planned.output and "moved" in planned.output.lower()
    assert project.run("apply", "--auto-approve").exit_code == 0
    pages = json.loads((project.root / "pages.lock").read_text())["pages"]
    assert pages["sales/discovery-call"]["id"] == before and "sales/discovery" not in pages
    assert project.run("plan", "--detailed-exitcode").exit_code == 0


def test_a_slug_taken_by_an_unmanaged_page_says_how_to_adopt_it(project: Project, served: Served):
    create_live(served, "tok-somebody", slug="acme-sales-discovery")
    result = project.run("apply", "--auto-approve", env=served.env)
    assert result.exit_code == 1
    assert "provisioner import sales/discovery --page-id ID" in result.output
    assert "Apply failed: 3 done, 1 failed." in result.output


def test_adopting_an_account_skips_and_names_pages_that_would_break_the_tree(project: Project, served: Served):
    """A slug already in pages/, an address taken by a file, a page already managed: skipped and named,
    every file left as it was, and pages/ still valid afterwards (no slug defined twice)."""
    for slug in ("acct-kept", "acct-new", "acct-file", "acct-managed", "acct_underscore"):
        create_live(served, "tok-skipping-account", slug=slug)
    env = dict(served.env, TEAM_TOKEN="tok-skipping-account", T="tok-skipping-account")
    project.write("pages/mine/kept.yaml", "slug: acct-kept\naccess_tokens: ['${T}']\n")
    project.write("pages/team/acct-file.yml", "slug: something-else\naccess_tokens: ['${T}']\n")
    managed = [p for p in httpx.get(f"{served.url}/manage/pages",
                                    headers={"Authorization": "Bearer tok-skipping-account"}).json()
               if p["slug"] == "acct-managed"][0]
    imported = project.run("import", "done/managed", "--page-id", str(managed["id"]),
                           input=managed["edit_token"] + "\n", env=env)
    assert imported.exit_code == 0, imported.output
    files = {p: p.read_bytes() for p in (project.root / "pages").rglob("*.y*ml")}

    result = project.run("import", "team", "--account-token-env", "TEAM_TOKEN", env=env)
    assert result.exit_code == 0, result.output
    assert "(acct-kept): its slug is already used by pages/mine/kept.yaml" in result.output
    assert "(acct-file): pages/team/acct-file.yml already exists" in result.output
    assert "(acct-managed): already managed as done/managed" in result.output
    assert "(acct_underscore): its slug 'acct_underscore' cannot be written in a page file" in result.output
    assert "1 page(s) adopted, 4 skipped" in result.output
    assert all(path.read_bytes() == data for path, data in files.items())
    assert sorted(p.name for p in (project.root / "pages/team").iterdir()) == ["acct-file.yml", "acct-new.yaml"]
    state = project.run("state", "list", env=env).output
    assert "team/acct-new" in state and "team/acct-kept" not in state and "team/acct-file" not in state
    assert project.run("validate", env=env).exit_code == 0  # the tree still loads: no slug twice


def test_pull_never_defines_a_page_twice(project: Project, served: Served):
    page = create_live(served, "tok-pull-twice", slug="pulled-twice")
    env = dict(served.env, EDIT=page["edit_token"], T="tok-pull-twice")
    imported = project.run("import", "a/page", "--page-id", str(page["id"]), "--edit-token-env", "EDIT", env=env)
    assert imported.exit_code == 0, imported.output
    project.write("pages/b/other.yaml", "slug: pulled-twice\naccess_tokens: ['${T}']\n")
    clash = project.run("pull", "a/page", "--force", env=env)
    assert clash.exit_code == 1 and "already used by pages/b/other.yaml" in clash.output
    assert not (project.root / "pages/a").exists()
    (project.root / "pages/b/other.yaml").unlink()
    project.write("pages/a/page.yml", "# written by hand\nslug: pulled-twice\naccess_tokens: ['${T}']\n")
    kept = project.run("pull", "a/page", env=env)
    assert kept.exit_code == 1 and "pages/a/page.yml exists" in kept.output  # its .yml file, not a new .yaml
    assert project.run("pull", "a/page", "--force", env=env).exit_code == 0
    assert sorted(p.name for p in (project.root / "pages/a").iterdir()) == ["page.yml"]
