"""The interpolation rule through the CLI: values other than access tokens never read a secret,
whether it is a target's sealing-key variable under a plain name or a target variable copying one."""

from __future__ import annotations

from provisioner.secrets import keygen

from .conftest import Project

PAGE = "pages/support/office-hours.yaml"


def _page_reads(project: Project, text: str) -> None:
    page = project.root / PAGE
    page.write_text(page.read_text() + text)


def test_a_targets_sealing_key_is_a_secret_under_any_name(project: Project):
    key = keygen()
    project.write("provisioner.yaml", "targets:\n  staging:\n    lock_key_env: STAGING_SEAL\n")
    _page_reads(project, "  appearance:\n    company_name: ${STAGING_SEAL}\n")
    for command in (("validate",), ("plan",)):
        result = project.run(*command, env={"STAGING_SEAL": key})
        assert result.exit_code == 1, result.output
        assert "config.appearance.company_name: ${STAGING_SEAL} is a secret" in result.output
        assert key not in result.output
    assert not (project.root / ".provisioner" / "emulator.db").exists()  # nothing was sent


def test_a_target_variable_copying_a_secret_is_a_secret(project: Project):
    key = keygen()
    project.write("provisioner.yaml", "targets:\n  staging:\n    variables: {BRAND: '${PROVISIONER_LOCK_KEY}'}\n")
    _page_reads(project, "  appearance:\n    company_name: ${BRAND}\n")
    result = project.run("plan", env={"PROVISIONER_LOCK_KEY": key})
    assert result.exit_code == 1, result.output
    assert "${BRAND} is a secret: its value is that of the secret variable PROVISIONER_LOCK_KEY" in result.output
    assert key not in result.output


def test_a_plain_target_variable_still_works(project: Project):
    project.write("provisioner.yaml", "targets:\n  staging:\n    variables: {BRAND: Acme}\n")
    _page_reads(project, "  appearance:\n    company_name: ${BRAND}\n")
    result = project.run("validate")
    assert result.exit_code == 0, result.output
