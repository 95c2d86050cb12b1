"""The files of ``pages/``: which are pages (by ADDRESS), which are ``_defaults``, what cannot be read;
and writing one page file (adoption) without replacing one a user edited.

One walk, used by the loader and by adoption. Symlinked files and folders are followed alike (a
symlinked folder that contains itself is refused). Anything that cannot be read as a file or a
folder (no permission, a broken symlink, a loop, a FIFO, socket or device) is a `Problem` that names
it, never a silent gap: a folder skipped would make a plan delete its pages. Names starting with
``.`` are ignored; a file name that is no valid address (`addresses`) is a problem.
"""

from __future__ import annotations

import functools
import os
from collections import defaultdict
from pathlib import Path

from .addresses import address_problem, shown, split_generated
from .errors import ConfigError, Problem, ProvisionerError
from .fileio import atomic_write
from .yamlfile import load_yaml

SUFFIXES = (".yaml", ".yml")
DEFAULTS = "_defaults"


def _decodable(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # undecodable bytes come back from the OS as lone surrogates
        return False
    return True


@functools.lru_cache(maxsize=8)
def _real(folder: str) -> str:
    return os.path.realpath(folder)


def display(path: Path) -> str:
    """How a file is named in messages: relative to the working directory when it lies below it."""
    if path.is_absolute():
        real, base = os.path.realpath(path), _real(os.getcwd())  # getcwd() changes with a chdir, not its target
        if real == base:
            return "."
        below = base if base.endswith(os.sep) else base + os.sep
        return real[len(below):] if real.startswith(below) else str(path)
    return str(path)


def discover(pages_dir: Path) -> tuple[dict[str, list[Path]], dict[Path, list[Path]], list[Problem]]:
    """Page files by ADDRESS, `_defaults` files by folder (relative to ``pages_dir``), and problems.

    Symlinked files and folders are followed alike. Anything that cannot be read as a file or a
    folder (no permission, a broken symlink, a symlink loop, a FIFO, socket or device) is a problem
    that names it, never a silent gap: a folder skipped would plan its pages for deletion.
    """
    pages: dict[str, list[Path]] = defaultdict(list)
    defaults: dict[Path, list[Path]] = defaultdict(list)
    problems: list[Problem] = []

    def unreadable(path: Path, why: str, hint: str | None = None) -> None:
        problems.append(Problem(shown(display(path)), None, None, "", why, hint))

    def walk(folder: Path, relative: Path, seen: frozenset[tuple[int, int]]) -> None:
        try:
            info = os.stat(folder)
            if (info.st_dev, info.st_ino) in seen:
                unreadable(folder, "a symlinked folder that contains itself (a loop)", "remove the symlink")
                return
            seen = seen | {(info.st_dev, info.st_ino)}
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as e:
            unreadable(folder, f"cannot read this folder: {e.strerror}",
                       "make it readable, or move it out of pages/; its pages would otherwise look deleted")
            return
        for entry in entries:
            if entry.name.startswith("."):
                continue
            path = Path(entry.path)
            if not _decodable(entry.name):  # addresses are text in the state and the plan
                shown_bytes = str(os.fsencode(path))[2:-1]  # b'...' without its quotes: bytes escaped
                problems.append(Problem(shown_bytes, None, None, "", "the file name is not valid UTF-8",
                                        "rename it with UTF-8 characters only"))
                continue
            try:
                is_dir, is_file = entry.is_dir(), entry.is_file()  # both follow symlinks
            except OSError as e:
                unreadable(path, f"cannot read: {e.strerror}")
                continue
            if is_dir:
                # Judged as the folder part of an address (a page name after it keeps the rules for folders).
                problem = address_problem((relative / entry.name / "page").as_posix())
                if problem is not None:
                    unreadable(path, f"this folder name cannot be part of a page address: {problem}",
                               "rename the folder")
                else:
                    walk(path, relative / entry.name, seen)
            elif not is_file:
                broken = entry.is_symlink() and not path.exists()
                unreadable(path, "a broken symlink" if broken else "neither a file nor a folder (a FIFO, socket "
                           "or device)", "remove it, or fix where it points" if broken else "remove it")
            elif path.suffix in SUFFIXES:
                if path.stem == DEFAULTS:
                    defaults[relative].append(path)
                    continue
                address = (relative / path.stem).as_posix()
                problem = address_problem(address)
                if problem is None and split_generated(address) is not None:
                    problem = "brackets are kept for pages generated from a roster (sales/demo[alice])"
                if problem is not None:
                    unreadable(path, f"this file name cannot be a page address: {problem}", "rename the file")
                else:
                    pages[address].append(path)

    walk(pages_dir, Path(), frozenset())
    return pages, defaults, problems


def page_slugs(pages_dir: Path) -> dict[str, Path]:
    """The slug each page file under ``pages_dir`` declares (none when the folder does not exist), for
    adoption: a page whose slug is taken would break the tree. Files are only parsed, not validated
    (no variable need be set), but a folder or file that cannot be read is a `ConfigError`."""
    if not pages_dir.exists():
        return {}
    pages, _, problems = discover(pages_dir)
    slugs: dict[str, Path] = {}
    for files in pages.values():
        for file in files:
            try:
                data = load_yaml(file, display(file)).data
            except ConfigError as e:
                problems += e.problems
                continue
            if isinstance(data, dict) and isinstance(data.get("slug"), str):
                slugs.setdefault(data["slug"], file)
    if problems:
        raise ConfigError(problems)
    return slugs




def page_file_of(pages_dir: Path, address: str) -> Path | None:
    """The file that defines ``address`` (``.yaml`` or ``.yml``), if there is one."""
    for suffix in SUFFIXES:
        path = pages_dir / f"{address}{suffix}"
        if path.exists() or path.is_symlink():
            return path
    return None


def write_page_file(pages_dir: Path, address: str, text: str, overwrite: bool) -> Path:
    """Write ``text`` as the page file of ``address`` (its existing ``.yml`` file when it has one).
    An existing file with other content is kept unless ``overwrite``; one with the same content is
    left as it is. Raises `ProvisionerError` (nothing changed) when the file cannot be written."""
    path = page_file_of(pages_dir, address) or pages_dir / f"{address}.yaml"
    if path.exists() or path.is_symlink():
        try:
            if path.is_file() and path.read_text(encoding="utf-8") == text:
                return path
        except (OSError, UnicodeDecodeError):
            pass
        if not overwrite:
            raise ProvisionerError(f"{path} exists and differs from the live page; pass --force to overwrite it")
        if not path.is_file():
            raise ProvisionerError(f"{path} is not a regular file; move it away first")
    try:
        atomic_write(path, text)
    except OSError as exc:
        raise ProvisionerError(f"cannot write {path}: {exc.strerror or exc}; nothing was changed") from None
    return path
