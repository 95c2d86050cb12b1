"""Nothing is lost (issue 11, points 4, 5 and 7), end to end through the CLI.

A folder of pages/ that cannot be read is an error, never a plan to delete its pages; a new default
lockfile beside another lockfile's state is refused with the fix; output files never replace the
state, the key, the emulator's database, the project file or a page; a full disk while writing the
lockfile is a clean error that leaves it byte-identical, and the next run converges.
"""

from __future__ import annotations

import errno
import hashlib
import os
from pathlib import Path

import pytest

from .conftest import Project, Served


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tree(root: Path) -> dict[str, str]:
    """Every file's digest, but the apply lock's and the emulator database's (a plan's reads write it)."""
    return {p.relative_to(root).as_posix(): digest(p) for p in sorted(root.rglob("*"))
            if p.is_file() and not p.name.endswith(".lock.lock") and not p.name.startswith("emulator.db")}


# --- point 7: a folder that cannot be read ------------------------------------------------------


@pytest.mark.parametrize("damage", ["broken-symlink", "fifo", "loop"])
def test_an_unreadable_folder_is_an_error_never_a_plan_to_delete_its_pages(project: Project, damage: str):
    assert project.run("apply", "--auto-approve").exit_code == 0
    sales = project.root / "pages/sales"
    (project.root / "elsewhere").mkdir()
    sales.rename(project.root / "elsewhere/sales")
    if damage == "broken-symlink":
        sales.symlink_to(project.root / "gone", target_is_directory=True)
    elif damage == "fifo":
        os.mkfifo(sales)
    else:
        sales.symlink_to("sales")
    before = tree(project.root)
    for args in (("plan",), ("apply", "--auto-approve"), ("drift",)):
        result = project.run(*args)
        assert result.exit_code == 1, result.output
        assert "pages/sales" in result.output and "delete" not in result.output.lower()
    assert tree(project.root) == before


def test_a_symlinked_folder_is_followed_and_plans_clean(project: Project):
    assert project.run("apply", "--auto-approve").exit_code == 0
    (project.root / "pages/sales").rename(project.root / "sales-shared")
    (project.root / "pages/sales").symlink_to(project.root / "sales-shared", target_is_directory=True)
    assert project.run("plan", "--detailed-exitcode").exit_code == 0


# --- point 5: state never switches silently -----------------------------------------------------


PROJECT = "targets:\n  production:\n    api_url: {url}\n"


def test_adding_provisioner_yaml_does_not_forget_the_pages_the_default_lockfile_manages(
    project: Project, served: Served
):
    env = served.env
    assert project.run("apply", "--auto-approve", env=env).exit_code == 0
    project.write("provisioner.yaml", PROJECT.format(url=served.url))
    before = tree(project.root)
    for args in (("plan",), ("apply", "--auto-approve"), ("import", "x", "--page-id", "1"), ("state", "list")):
        refused = project.run(*args, env=env, input="edit-token\n")
        assert refused.exit_code == 1, refused.output
        assert "pages.production.lock does not exist yet, but pages.lock holds the state of 4 page(s)" in refused.output
        assert "provisioner state migrate --lockfile pages.lock --to pages.production.lock" in refused.output
        assert "`state: pages.lock` under targets.production" in refused.output
    assert tree(project.root) == before
    assert project.run("state", "list", "--lockfile", "pages.lock", env=env).exit_code == 0  # explicit: no refusal

    moved = project.run("state", "migrate", "--lockfile", "pages.lock", "--to", "pages.production.lock", env=env)
    assert moved.exit_code == 0, moved.output
    assert project.run("plan", "--detailed-exitcode", env=env).exit_code == 0


def test_keeping_the_old_lockfile_or_another_api_is_no_switch(project: Project, served: Served):
    assert project.run("apply", "--auto-approve", env=served.env).exit_code == 0
    project.write("provisioner.yaml", f"targets:\n  production:\n    api_url: {served.url}\n    state: pages.lock\n")
    assert project.run("plan", "--detailed-exitcode", env=served.env).exit_code == 0
    # The embedded emulator's lockfile is the state of another API: a new served target starts afresh.
    (project.root / "pages.lock").rename(project.root / "served.lock")
    project.write("provisioner.yaml", "targets:\n  local: {}\n")
    assert project.run("apply", "--auto-approve", env={}).exit_code == 0
    assert (project.root / "pages.local.lock").exists()
    project.write("provisioner.yaml", f"targets:\n  local: {{}}\n  prod:\n    api_url: {served.url}\n")
    (project.root / "served.lock").unlink()
    assert project.run("plan", "--target-env", "prod", env=served.env).exit_code == 0


# --- point 7: output files ------------------------------------------------------------------------


@pytest.mark.parametrize("out", ["pages.lock", ".provisioner/lock.key", ".provisioner/emulator.db", "provisioner.yaml",
                                 "pages/sales/demo.yaml", "pages/new-plan.json", "README.md", "pages.lock.journal"])
def test_plan_out_never_replaces_state_keys_databases_pages_or_other_files(project: Project, out: str):
    assert project.run("apply", "--auto-approve").exit_code == 0
    project.write("provisioner.yaml", "targets:\n  local:\n    state: pages.lock\n")
    project.write("README.md", "# my notes\n")
    project.write("pages.lock.journal", "") if out == "pages.lock.journal" else None
    (project.root / "pages/sales/demo.yaml").write_text(
        (project.root / "pages/sales/demo.yaml").read_text().replace("duration: 45", "duration: 50"))
    before = tree(project.root)
    result = project.run("plan", "--out", out)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and out in result.output
    assert tree(project.root) == before
    assert (project.root / ".provisioner/emulator.db").read_bytes().startswith(b"SQLite format 3\0")


def test_plan_out_replaces_an_older_saved_plan(project: Project):
    assert project.run("plan", "--out", "my.plan").exit_code == 0
    assert project.run("plan", "--out", "my.plan").exit_code == 0
    assert project.run("apply", "my.plan").exit_code == 0
    (project.root / "a-folder").mkdir()
    result = project.run("plan", "--out", "a-folder")
    assert result.exit_code == 1 and "Traceback" not in result.output


def test_a_symlinked_lockfile_is_written_through_and_locked_at_its_real_file(project: Project):
    (project.root / "state").mkdir()
    (project.root / "pages.lock").symlink_to("state/real.lock")
    assert project.run("apply", "--auto-approve").exit_code == 0
    assert (project.root / "pages.lock").is_symlink() and (project.root / "state/real.lock").is_file()
    assert (project.root / "state/real.lock.lock").exists() and not (project.root / "pages.lock.lock").exists()
    assert project.run("plan", "--detailed-exitcode").exit_code == 0
    assert project.run("plan", "--detailed-exitcode", "--lockfile", "state/real.lock").exit_code == 0


# --- point 7: a full disk -------------------------------------------------------------------------


def full_disk_for(monkeypatch: pytest.MonkeyPatch, prefix: str) -> None:
    """ENOSPC from ``os.fsync`` for files whose name starts with ``prefix`` (the lockfile's temp file)."""
    real = os.fsync

    def fsync(fd: int) -> None:
        if os.path.basename(os.readlink(f"/proc/self/fd/{fd}")).startswith(prefix):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real(fd)

    monkeypatch.setattr(os, "fsync", fsync)


def test_a_full_disk_while_writing_the_lockfile_is_a_clean_error_and_nothing_is_lost(
    project: Project, monkeypatch: pytest.MonkeyPatch
):
    assert project.run("apply", "--auto-approve").exit_code == 0
    lockfile = project.root / "pages.lock"
    before = lockfile.read_bytes()
    demo = project.root / "pages/sales/demo.yaml"
    demo.write_text(demo.read_text().replace("duration: 45", "duration: 50"))
    project.write("pages/extra.yaml", "slug: extra-page\naccess_tokens: ['${T:-tok-extra}']\n")
    with monkeypatch.context() as patch:
        full_disk_for(patch, ".pages.lock.")
        result = project.run("apply", "--auto-approve")
    assert result.exit_code == 1
    assert "cannot write pages.lock: No space left on device" in result.output
    assert "Traceback" not in result.output
    assert lockfile.read_bytes() == before  # byte-identical
    assert not [p for p in project.root.iterdir() if p.name.startswith(".pages.lock.")]  # no temp file left
    assert (project.root / "pages.lock.journal").exists()  # the apply's steps, kept
    slugs = [slug for slug, _ in project.emulator_pages()]
    assert project.run("apply", "--auto-approve").exit_code == 0  # recovers from the journal
    assert project.run("plan", "--detailed-exitcode").exit_code == 0
    assert [slug for slug, _ in project.emulator_pages()] == slugs and slugs.count("extra-page") == 1


def test_a_full_disk_while_journaling_is_a_clean_error_and_the_state_is_intact(
    project: Project, monkeypatch: pytest.MonkeyPatch
):
    """ENOSPC from ``os.write`` on the journal: apply stops with a clean error, the lockfile unchanged."""
    assert project.run("apply", "--auto-approve").exit_code == 0
    lockfile = project.root / "pages.lock"
    before = lockfile.read_bytes()
    project.write("pages/extra.yaml", "slug: extra-journal\naccess_tokens: ['${T:-tok-extra}']\n")
    real = os.write

    def write(fd: int, data) -> int:
        if os.readlink(f"/proc/self/fd/{fd}").endswith("pages.lock.journal"):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(fd, data)

    with monkeypatch.context() as patch:
        patch.setattr(os, "write", write)
        result = project.run("apply", "--auto-approve")
    assert result.exit_code == 1, result.output
    assert "No space left on device" in result.output and "Traceback" not in result.output
    assert lockfile.read_bytes() == before
    assert project.run("apply", "--auto-approve").exit_code == 0
    assert project.run("plan", "--detailed-exitcode").exit_code == 0
    assert [slug for slug, _ in project.emulator_pages()].count("extra-journal") == 1


def test_state_never_goes_under_pages(project: Project):
    """A lockfile under pages/ would be read as a page file (and a page file taken for state)."""
    before = tree(project.root)
    for args in (("apply", "--auto-approve", "--lockfile", "pages/state.lock"),
                 ("state", "list", "--lockfile", "pages/sales/demo.yaml")):
        result = project.run(*args)
        assert result.exit_code == 1 and "inside pages/" in result.output, result.output
    assert project.run("apply", "--auto-approve").exit_code == 0
    moved = project.run("state", "migrate", "--to", "pages/moved.lock")
    assert moved.exit_code == 1 and "inside pages/" in moved.output
    assert not (project.root / "pages/moved.lock").exists() and not (project.root / "pages/state.lock").exists()
    assert {k: v for k, v in before.items() if k.startswith("pages/")} == {
        k: v for k, v in tree(project.root).items() if k.startswith("pages/")}
