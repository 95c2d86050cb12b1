"""`provisioner convert --to nylas-v3`: the loss report, exit codes, the output folder written whole or
not at all, pages/ never touched, and the converted tree valid against the v3 model."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from provisioner.yamlfile import load_yaml
from tests.unit.test_convert_cases import host_env, v3_configuration

from .conftest import Project

LOSSLESS = """\
slug: plain
name: Plain
access_tokens: ["${NYLAS_TOKEN_ALICE}"]
config:
  event: {title: Plain, duration: 30}
"""


def tree_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        digest.update(str(path.relative_to(folder)).encode())
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()


def test_losses_are_reported_field_by_field_and_nothing_is_written(project: Project):
    before = tree_digest(project.root / "pages")
    result = project.run("convert", "--to", "nylas-v3")
    assert result.exit_code == 1
    assert "sales/demo:" in result.output
    assert "  - config.event.template_title = \"Acme demo with $[invitee] ($[duration] min)\"" in result.output
    assert "  ~ config.booking.min_buffer = 15" in result.output
    assert "lossy -> config.availability.availability_rules.buffer" in result.output
    assert "Losses: " in result.output
    assert "--accept-loss" in result.output and "nothing was written" in result.output
    assert not (project.root / "pages-v3").exists()
    assert [p.name for p in project.root.iterdir() if p.name.startswith(".pages-v3")] == []
    assert tree_digest(project.root / "pages") == before


def test_accept_loss_writes_a_valid_v3_tree_and_leaves_pages_alone(project: Project):
    before = tree_digest(project.root / "pages")
    result = project.run("convert", "--to", "nylas-v3", "--accept-loss")
    assert result.exit_code == 0, result.output
    assert "Wrote 4 page file(s) to pages-v3/" in result.output
    out = project.root / "pages-v3"
    files = sorted(str(p.relative_to(out)) for p in out.rglob("*.yaml"))
    assert files == ["customer-success/onboarding.yaml", "sales/demo.yaml", "sales/discovery.yaml",
                     "support/office-hours.yaml"]  # flattened: no _defaults file
    for path in out.rglob("*.yaml"):
        document = load_yaml(path, str(path)).data
        config = v3_configuration(document, host_env(document))
        assert config.participants and config.availability.duration_minutes
        assert v3_configuration(document, {})  # the example tokens' emulator defaults carry over
    demo = load_yaml(out / "sales/demo.yaml", "demo").data
    assert demo["grant"] == "${NYLAS_GRANT_ALICE:-demo-token-alice}"
    assert demo["lifecycle"] == {"prevent_destroy": True}
    # inherited from sales/_defaults.yaml and pages/_defaults.yaml: flattened into the page
    assert demo["config"]["availability"]["availability_rules"]["default_open_hours"][0]["timezone"] == \
        "America/Los_Angeles"
    assert demo["config"]["appearance"]["color"] == "#1f6feb"
    assert tree_digest(project.root / "pages") == before


def test_a_lossless_tree_is_written_without_the_flag(project: Project):
    project.write("plain/pages/plain.yaml", LOSSLESS)
    result = project.run("convert", "--to", "nylas-v3", "--dir", "plain/pages", "--out", "plain/v3")
    assert result.exit_code == 0, result.output
    assert "plain: no loss" in result.output
    assert (project.root / "plain/v3/plain.yaml").is_file()


@pytest.mark.parametrize("out", ["pages", "pages/v3", ".", "pages/sales/../v3"])
def test_out_may_not_be_in_or_around_the_v2_tree(project: Project, out: str):
    before = tree_digest(project.root)
    result = project.run("convert", "--to", "nylas-v3", "--accept-loss", "--out", out)
    assert result.exit_code == 1
    assert "--out" in result.output and "Traceback" not in result.output
    assert tree_digest(project.root) == before


def test_an_existing_folder_is_replaced_only_with_force(project: Project):
    project.write("pages-v3/old.yaml", "kept: true\n")
    refused = project.run("convert", "--to", "nylas-v3", "--accept-loss")
    assert refused.exit_code == 1 and "exists and is not empty" in refused.output and "--force" in refused.output
    assert (project.root / "pages-v3/old.yaml").is_file()
    replaced = project.run("convert", "--to", "nylas-v3", "--accept-loss", "--force")
    assert replaced.exit_code == 0, replaced.output
    assert not (project.root / "pages-v3/old.yaml").exists()
    assert (project.root / "pages-v3/sales/demo.yaml").is_file()
    assert [p.name for p in project.root.iterdir() if p.name.startswith(".pages-v3")] == []


def test_an_unwritable_out_is_an_error_and_leaves_nothing(project: Project):
    project.write("blocker", "a file, not a folder\n")
    result = project.run("convert", "--to", "nylas-v3", "--accept-loss", "--out", "blocker/v3")
    assert result.exit_code == 1
    assert "Error:" in result.output and "Traceback" not in result.output
    assert (project.root / "blocker").read_text() == "a file, not a folder\n"


def test_a_broken_v2_tree_names_file_line_and_field(project: Project):
    project.write("pages/bad.yaml", "slug: bad\naccess_tokens: ['${NYLAS_TOKEN_X}']\nconfig:\n  event:\n"
                                    "    duration: -5\n")
    result = project.run("convert", "--to", "nylas-v3", "--accept-loss")
    assert result.exit_code == 1
    assert "pages/bad.yaml:5" in result.output and "config.event.duration" in result.output
    assert not (project.root / "pages-v3").exists()


def test_only_v3_is_a_target_and_it_is_required(project: Project):
    wrong = project.run("convert", "--to", "nylas-v2")
    assert wrong.exit_code == 1 and "'nylas-v2' is not one of nylas-v3" in wrong.output
    assert not (project.root / "pages-v3").exists()
    assert project.run("convert").exit_code == 1


def test_tokens_are_never_read_or_printed(project: Project):
    secret = "sk-live-very-secret-token-value"
    env = {"NYLAS_TOKEN_ALICE": secret, "NYLAS_TOKEN_BOB": secret + "b"}
    result = project.run("convert", "--to", "nylas-v3", "--accept-loss", env=env)
    assert result.exit_code == 0, result.output
    assert secret not in result.output
    assert all(secret not in p.read_text() for p in (project.root / "pages-v3").rglob("*.yaml"))


def test_a_resolved_reference_is_reported(project: Project):
    project.write("refs/pages/r.yaml", LOSSLESS.replace("title: Plain", "title: '${TEAM_TITLE:-Team call}'"))
    result = project.run("convert", "--to", "nylas-v3", "--dir", "refs/pages", "--out", "refs/v3")
    assert result.exit_code == 1
    assert '~ config.event.title = "${TEAM_TITLE:-Team call}"' in result.output
    accepted = project.run("convert", "--to", "nylas-v3", "--dir", "refs/pages", "--out", "refs/v3",
                           "--accept-loss")
    assert accepted.exit_code == 0
    assert "title: Team call" in (project.root / "refs/v3/r.yaml").read_text()


def test_a_page_v3_would_refuse_is_an_error_naming_it_and_nothing_is_written(project: Project):
    project.write("pages/long.yaml", LOSSLESS.replace("slug: plain", "slug: long").replace("duration: 30",
                                                                                          "duration: 2000"))
    result = project.run("convert", "--to", "nylas-v3", "--accept-loss")
    assert result.exit_code == 1
    assert "pages/long.yaml: config.availability.duration_minutes: the v3 value would be refused" in result.output
    assert not (project.root / "pages-v3").exists()


def test_tokens_inherited_from_a_defaults_file_become_the_hosts(project: Project):
    project.write("inherit/pages/_defaults.yaml", 'access_tokens: ["${NYLAS_TOKEN_TEAM}"]\n'
                                                  "config:\n  event: {duration: 20}\n")
    project.write("inherit/pages/team/_defaults.yaml", 'access_tokens: ["${NYLAS_TOKEN_NEAR:-near}"]\n')
    project.write("inherit/pages/team/a.yaml", "slug: a\nconfig:\n  event: {title: A}\n")
    project.write("inherit/pages/b.yaml", "slug: b\nconfig:\n  event: {title: B}\n")
    result = project.run("convert", "--to", "nylas-v3", "--dir", "inherit/pages", "--out", "inherit/v3")
    assert result.exit_code == 0, result.output
    a = load_yaml(project.root / "inherit/v3/team/a.yaml", "a").data
    b = load_yaml(project.root / "inherit/v3/b.yaml", "b").data
    assert a["grant"] == "${NYLAS_GRANT_NEAR:-near}"  # the nearest _defaults wins, as in the loader
    assert b["grant"] == "${NYLAS_GRANT_TEAM}"
    assert a["config"]["availability"]["duration_minutes"] == 20
    assert not (project.root / "inherit/v3/_defaults.yaml").exists()


def test_the_converted_tree_converges_on_the_embedded_v3_emulator(project: Project):
    assert project.run("convert", "--to", "nylas-v3", "--accept-loss").exit_code == 0
    project.write("provisioner.yaml", "api: nylas-v3\ntargets:\n  local: {}\n")
    v3 = ("--dir", "pages-v3", "--target-env", "local")
    valid = project.run("validate", *v3)
    assert valid.exit_code == 0 and "4 page(s) valid" in valid.output, valid.output
    first = project.run("plan", "--detailed-exitcode", *v3)
    assert first.exit_code == 2 and "API nylas-v3" in first.output.splitlines()[0], first.output
    assert "Plan: 4 to create" in first.output
    applied = project.run("apply", "--auto-approve", *v3)
    assert applied.exit_code == 0, applied.output
    again = project.run("plan", "--detailed-exitcode", *v3)
    assert again.exit_code == 0 and "No changes" in again.output, again.output
