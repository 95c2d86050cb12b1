"""`provisioner convert --to nylas-v3`: a v2 ``pages/`` tree -> v3 page files, and the loss report.

The engine's side of the conversion (the mapping itself is pure: `apis.v2_to_v3`):

1. The v2 tree is loaded exactly as `validate` loads it (`load_pages`, no secret needed: token
   variables may be unset), so a broken tree fails with file, line and field, and nothing is written.
2. Each page is converted **flattened** [choice]: the v3 file carries every value its v2
   ``_defaults`` files gave it, so it means on its own what the v2 page meant. ``_defaults`` files are
   not converted: a v2 default does not map field by field (opening hours need the page's zone, hosts
   come from its tokens), and a half-converted default would silently change every page under it.
3. Access tokens are read as written (``${VAR}`` references, from the nearest file that sets
   ``access_tokens``), never as values: each becomes a participant (`rules.host_variable`).
   [choice] Other ``${VAR}`` references are written as the loader resolved them (the mapping works on
   values: day letters, one buffer into two); each one is reported as a lossy field so that nobody
   loses a per-environment value unnoticed.
4. Nothing is written while a loss is not accepted [choice]: the report is printed, the command exits
   1, and ``--out`` is untouched; ``--accept-loss`` writes and exits 0. A tree with no loss is written
   at once.
5. A converted page the v3 model would still refuse (a value outside v3's ranges that the mapping does
   not adapt) is a `ConfigError` naming the page file and the v3 field: no invalid file is written.
6. The output folder is written whole or not at all: into a temporary sibling folder, fsynced, then
   renamed into place. ``--out`` may not be ``--dir``, inside it, or hold it; an existing folder
   that is not empty is refused unless ``--force`` (then replaced, again by rename).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .apis.v2_to_v3.mapping import Converted, HostRef, V2Page, convert_page, problems
from .apis.v2_to_v3.rules import Loss
from .apis.yamlout import dump as yaml_text
from .errors import ConfigError, Problem, ProvisionerError
from .fileio import fsync_dir, is_within
from .load import load_pages
from .pagefile import DesiredPage
from .secrets import references
from .settings import Settings
from .tree import discover
from .tree import display as _display
from .yamlfile import YamlDoc, format_path, iter_paths, load_yaml

TO_APIS = ("nylas-v3",)
DEFAULT_OUT = Path("pages-v3")


class LossNotAccepted(ProvisionerError):
    """The conversion loses fields and ``--accept-loss`` was not given: nothing was written."""


@dataclass
class Conversion:
    """What `convert_tree` did: every page converted, where to, and whether the files were written."""

    pages_dir: Path
    out: Path
    pages: list[Converted] = field(default_factory=list)
    written: bool = False

    @property
    def losses(self) -> list[Loss]:
        return [loss for page in self.pages for loss in page.losses]


def convert_tree(settings: Settings, out: Path, *, accept_loss: bool, force: bool) -> Conversion:
    """Convert every page of ``settings.pages_dir`` and write them under ``out`` if no loss is left
    unaccepted; `ConfigError` for a broken tree or an unusable ``out`` (before anything is read)."""
    pages_dir = settings.pages_dir
    _check_out(pages_dir, out, force)
    desired = load_pages(pages_dir, settings.env, need_tokens=False,
                         secret_variables=(settings.lock_key_env, settings.state_dsn_env))
    docs = _RawDocs(pages_dir)
    result = Conversion(pages_dir, out)
    refused: list[Problem] = []
    for address, page in desired.items():
        chain = docs.chain(address, page.file)
        converted = convert_page(_v2_page(page, _hosts(chain)))
        refused += [Problem(_display(page.file), None, None, path, f"the v3 value would be refused: {message}",
                            "change the v2 value, or convert this page by hand") for path, message in
                    problems(converted.document)]
        converted.losses = sorted([*converted.losses, *_resolved_references(address, chain)],
                                  key=lambda loss: (loss.path, loss.kind))
        result.pages.append(converted)
    if refused:  # a case the mapping does not cover: never write a file the v3 API would refuse
        raise ConfigError(refused)
    if result.losses and not accept_loss:
        return result
    _write_tree(out, {f"{c.address}.yaml": _page_text(c, pages_dir) for c in result.pages})
    result.written = True
    return result


# --- reading the tree as written ------------------------------------------------------------------


class _RawDocs:
    """The page files and ``_defaults`` files as written (no interpolation), each parsed once."""

    def __init__(self, pages_dir: Path):
        self.pages_dir = pages_dir
        _, defaults, _ = discover(pages_dir)  # the loader has refused every problem already
        self.defaults = {folder: files[0] for folder, files in defaults.items() if len(files) == 1}
        self.parsed: dict[Path, YamlDoc] = {}

    def doc(self, file: Path) -> YamlDoc:
        if file not in self.parsed:
            self.parsed[file] = load_yaml(file, _display(file))
        return self.parsed[file]

    def chain(self, address: str, file: Path) -> list[YamlDoc]:
        """The page's ``_defaults`` docs, outermost first, then the page's own doc."""
        folder = Path(address).parent
        outer = [Path(*folder.parts[:i]) for i in range(len(folder.parts) + 1)]
        return [self.doc(self.defaults[f]) for f in outer if f in self.defaults] + [self.doc(file)]


def _hosts(chain: list[YamlDoc]) -> tuple[HostRef, ...]:
    """The access-token references of the nearest file that sets ``access_tokens`` (lists replace)."""
    for doc in reversed(chain):
        if isinstance(doc.data, dict) and "access_tokens" in doc.data:
            return tuple(host_ref(text) for text in doc.data["access_tokens"])
    raise ProvisionerError("a page without access_tokens passed validation")  # the loader refuses it


def host_ref(text: str) -> HostRef:
    """A `HostRef` from one ``${VAR}`` / ``${VAR:-default}`` (the loader checked it is exactly one)."""
    text = text.strip()
    (name,) = references(text)
    prefix = f"${{{name}:-"
    return HostRef(name, text[len(prefix):-1] if text.startswith(prefix) else None)


def _resolved_references(address: str, chain: list[YamlDoc]) -> list[Loss]:
    """A lossy `Loss` for every value outside ``access_tokens`` that reads a ``${VAR}`` (nearest wins)."""
    found: dict[str, str] = {}
    for doc in chain:
        for path, value in iter_paths(doc.data):
            if path[:1] != ("access_tokens",) and isinstance(value, str) and references(value):
                found[format_path(path)] = value
            if path and isinstance(path[-1], str) and references(path[-1]):  # a mapping key
                found[format_path(path)] = path[-1]
    return [Loss(address, path, "lossy", text, "a ${VAR} reference: written as its value in this "
                 "environment; put the reference back in the v3 file if it differs between targets")
            for path, text in sorted(found.items())]


def _v2_page(page: DesiredPage, hosts: tuple[HostRef, ...]) -> V2Page:
    return V2Page(address=page.address, slug=page.slug, name=page.name, hosts=hosts, config=page.config,
                  prevent_destroy=page.prevent_destroy, ignore_changes=page.ignore_changes,
                  targets=page.targets)


# --- writing ---------------------------------------------------------------------------------------


def _page_text(page: Converted, pages_dir: Path) -> str:
    source = _display(pages_dir / f"{page.address}.yaml")
    lines = [f"# Converted from the v2 page {page.address} ({source}) by `provisioner convert --to nylas-v3`.",
             "# Set each ${NYLAS_GRANT_...} / ${NYLAS_EMAIL_...} variable to the host's v3 grant id and e-mail."]
    if page.losses:
        lines.append(f"# {len(page.losses)} v2 field(s) did not carry over unchanged: "
                     + ", ".join(sorted({loss.path for loss in page.losses})))
    body = yaml_text(json.loads(json.dumps(page.document)))  # a fresh tree: no YAML anchors
    return "\n".join(_comment(line) for line in lines) + "\n" + body


def _comment(text: str) -> str:
    return "".join(c if c.isprintable() else "?" for c in text)


def _check_out(pages_dir: Path, out: Path, force: bool) -> None:
    shown = _display(out)
    if is_within(out, pages_dir):
        raise ConfigError([_out_problem(shown, f"is {_display(pages_dir)}/ or inside it; convert never "
                                        "writes in the v2 tree", "pass another folder, e.g. --out pages-v3")])
    if is_within(pages_dir, out):
        raise ConfigError([_out_problem(shown, f"holds {_display(pages_dir)}/; writing it would replace "
                                        "the v2 tree", "pass a folder beside it, e.g. --out pages-v3")])
    if out.exists() or out.is_symlink():
        if out.is_symlink() or not out.is_dir():
            raise ConfigError([_out_problem(shown, "exists and is a symlink or not a folder",
                                            "pass a new folder")])
        if any(out.iterdir()) and not force:
            raise ConfigError([_out_problem(shown, "exists and is not empty",
                                            "pass --force to replace it, or another folder")])


def _out_problem(shown: str, message: str, hint: str) -> Problem:
    return Problem(shown, None, None, "--out", message, hint)


def _write_tree(out: Path, files: dict[str, str]) -> None:
    """``files`` (relative path -> text) as the folder ``out``, whole or not at all: written into a
    temporary sibling folder, fsynced, renamed into place (an existing ``out`` renamed away first and
    removed only once the new one is in place)."""
    parent = out.absolute().parent
    parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=parent))
    old: Path | None = None
    try:
        for relative, text in sorted(files.items()):
            path = tmp / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(text)
                fh.flush()
                os.fsync(fh.fileno())
        for folder in sorted({(tmp / r).parent for r in files}, key=lambda p: -len(p.parts)):
            fsync_dir(folder)
        os.chmod(tmp, 0o755)
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".old", dir=parent))
            os.replace(out, old / "tree")
        os.replace(tmp, out)
        fsync_dir(parent)
    except OSError as e:
        if old is not None and not out.exists():
            os.replace(old / "tree", out)  # put the previous folder back
        shutil.rmtree(tmp, ignore_errors=True)
        raise ProvisionerError(f"could not write {_display(out)}: {e.strerror or e}; nothing was written") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


__all__ = ["DEFAULT_OUT", "TO_APIS", "Conversion", "LossNotAccepted", "convert_tree", "host_ref"]
