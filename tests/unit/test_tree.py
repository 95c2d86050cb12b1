"""The walk of pages/: nothing under it is silently skipped (a skipped folder plans its pages' deletion).

Symlinked folders are followed like symlinked files; a loop, a broken symlink, a FIFO or device, a
folder that cannot be listed and a file name that is no address are errors that name them. Tests run
as root, who can list any folder: a permission error is injected into ``os.scandir`` for one folder.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from provisioner.errors import ConfigError
from provisioner.load import load_pages
from provisioner.tree import discover, page_slugs

ENV = {"NYLAS_TOKEN_ALICE": "tok-alice-of-the-tree"}


def page(path: Path, slug: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"slug: {slug}\naccess_tokens:\n  - ${{NYLAS_TOKEN_ALICE}}\n")


@pytest.fixture
def pages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    page(tmp_path / "pages/sales/demo.yaml", "demo")
    return Path("pages")


def problems(pages: Path) -> str:
    with pytest.raises(ConfigError) as info:
        load_pages(pages, ENV)
    return info.value.render()


def test_a_symlinked_folder_is_followed_like_a_symlinked_file(pages: Path, tmp_path: Path):
    page(tmp_path / "shared/team/onboarding.yaml", "onboarding")
    (pages / "team").symlink_to(tmp_path / "shared/team", target_is_directory=True)
    (pages / "linked.yaml").symlink_to(tmp_path / "shared/team/onboarding.yaml")
    found, _, errors = discover(pages)
    assert sorted(found) == ["linked", "sales/demo", "team/onboarding"] and errors == []


def test_a_symlinked_folder_that_contains_itself_is_an_error(pages: Path):
    (pages / "sales/loop").symlink_to("..", target_is_directory=True)
    assert "pages/sales/loop: a symlinked folder that contains itself (a loop)" in problems(pages)


def test_a_broken_symlinked_folder_is_an_error_not_an_empty_folder(pages: Path, tmp_path: Path):
    (pages / "support").symlink_to(tmp_path / "moved-away", target_is_directory=True)
    assert "pages/support: a broken symlink" in problems(pages)


def test_a_symlink_loop_is_an_error(pages: Path):
    (pages / "knot").symlink_to("knot")
    assert "pages/knot: cannot read: Too many levels of symbolic links" in problems(pages)


def test_a_fifo_in_place_of_a_folder_or_page_is_an_error_and_never_opened(pages: Path):
    os.mkfifo(pages / "support")
    os.mkfifo(pages / "sales/hang.yaml")  # opening it would block for ever
    text = problems(pages)
    assert "pages/support: neither a file nor a folder" in text
    assert "pages/sales/hang.yaml: neither a file nor a folder" in text


def test_a_folder_that_cannot_be_listed_is_an_error(pages: Path, monkeypatch: pytest.MonkeyPatch):
    real = os.scandir

    def scandir(path):  # root lists any folder: inject what another user would meet
        if Path(path) == pages / "sales":
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)
    text = problems(pages)
    assert "pages/sales: cannot read this folder: Permission denied" in text
    assert "would otherwise look deleted" in text
    with pytest.raises(ConfigError):
        page_slugs(pages)  # adoption does not guess either


def test_file_names_that_are_no_address_are_errors_shown_escaped(pages: Path):
    page(pages / "sales/bad\x1b[2Jname.yaml", "escape")
    raw = os.fsencode(str(pages / "sales")) + b"/latin1-\xe9t\xe9.yaml"
    with open(raw, "w") as fh:
        fh.write("slug: latin\naccess_tokens: ['${NYLAS_TOKEN_ALICE}']\n")
    text = problems(pages)
    assert "\x1b" not in text and "'pages/sales/bad\\x1b[2Jname.yaml': this file name cannot be a page address" in text
    assert "latin1-\\xe9t\\xe9.yaml: the file name is not valid UTF-8" in text  # shown escaped, never raw


def test_a_folder_name_that_is_no_address_is_an_error_and_its_defaults_are_not_read(pages: Path):
    folder = pages / "bell\x07folder"
    folder.mkdir()
    (folder / "_defaults.yaml").write_text("broken: [\n")
    text = problems(pages)
    assert "'pages/bell\\x07folder': this folder name cannot be part of a page address" in text
    assert "\x07" not in text and "_defaults" not in text


def test_hidden_files_and_folders_are_still_ignored(pages: Path):
    page(pages / ".drafts/x.yaml", "x")
    os.mkfifo(pages / ".socket-like")
    assert sorted(load_pages(pages, ENV)) == ["sales/demo"]
