"""Environments: targets in provisioner.yaml, per-target state, variables and page limits."""

from __future__ import annotations

import json

from .conftest import Project, Served

PROJECT = """\
targets:
  staging:
    state: pages.staging.lock
    variables: {COMPANY: Acme Staging}
  production:
    api_url: {url}
    lock_key_env: PROD_LOCK_KEY
    variables: {COMPANY: Acme}
"""


def setup(project: Project, served: Served) -> dict[str, str]:
    project.write("provisioner.yaml", PROJECT.replace("{url}", served.url))
    page = project.root / "pages/support/office-hours.yaml"
    page.write_text(page.read_text() + "  appearance:\n    company_name: ${COMPANY}\n")
    project.write("pages/prod-only.yaml", "slug: prod-only\ntargets: [production]\naccess_tokens: ['${T:-tok-p}']\n")
    return {"PROD_LOCK_KEY": served.env["PROVISIONER_LOCK_KEY"]}


def test_several_targets_and_none_chosen_is_refused_listing_them(project: Project, served: Served):
    env = setup(project, served)
    result = project.run("plan", env=env)
    assert result.exit_code == 1
    assert "production, staging" in result.output and "--target-env" in result.output
    typo = project.run("plan", "--target-env", "prod", env=env)
    assert typo.exit_code == 1 and "did you mean 'production'" in typo.output


def test_each_target_has_its_own_api_state_variables_and_pages(project: Project, served: Served):
    env = setup(project, served)
    staging = project.run("apply", "--auto-approve", "--target-env", "staging", env=env)
    assert staging.exit_code == 0, staging.output
    assert staging.output.splitlines()[0].startswith("Target: staging local emulator")
    assert "prod-only" not in staging.output
    assert "Acme Staging" in staging.output
    assert (project.root / "pages.staging.lock").exists() and not (project.root / "pages.lock").exists()

    production = project.run("apply", "--auto-approve", env={**env, "PROVISIONER_TARGET_ENV": "production"})
    assert production.exit_code == 0, production.output
    assert production.output.splitlines()[0] == f"Target: production {served.url}; API nylas-v2"
    lock = json.loads((project.root / "pages.production.lock").read_text())
    assert lock["api_url"] == served.url and "prod-only" in lock["pages"]
    assert '"Acme"' in production.output
    assert project.run("plan", "--detailed-exitcode", "--target-env", "production", env=env).exit_code == 0


def test_a_page_naming_an_unknown_target_is_invalid(project: Project, served: Served):
    env = setup(project, served)
    project.write("pages/typo.yaml", "slug: typo\ntargets: [prodution]\naccess_tokens: ['${T:-tok-p}']\n")
    result = project.run("validate", "--target-env", "staging", env=env)
    assert result.exit_code == 1 and "unknown target 'prodution'" in result.output


def test_a_broken_project_file_names_file_and_line(project: Project):
    project.write("provisioner.yaml", "targets:\n  staging:\n    api_ur: http://x\n")
    result = project.run("plan")
    assert result.exit_code == 1
    assert "provisioner.yaml:3:5" in result.output and "api_ur" in result.output
