"""Rosters and templates: one page per person from one template file.

A folder under ``pages/`` may hold one roster, ``_roster.yaml``, and any number of templates,
``_NAME.template.yaml``. Each template generates one page per roster entry, at the address
``FOLDER/NAME[KEY]`` (`addresses.generated`); the folder's ``_defaults`` files apply as to any page::

    # pages/sales/_roster.yaml: KEY -> fields (any fields; `override` and `renamed_from` are reserved)
    alice:
      name: Alice Ng
      email: alice@example.com
      token: ${ALICE_TOKEN}          # an ${VAR} reference: resolved from the environment afterwards
      timezone: Europe/Paris
      override:                      # merged over the generated page, like a page over _defaults
        config: {booking: {min_booking_notice: 120}}
    alicia-b:
      renamed_from: bob              # the entry's old key: plan moves sales/demo[bob], never recreates it

    # pages/sales/_demo.template.yaml: a page file, plus `member_fields`
    slug: demo-{{ key }}
    name: Demo with {{ name }}
    access_tokens: ["{{ token }}"]
    member_fields: [config.appearance.color]   # people may change these: the pages' ignore_changes
    config:
      booking: {confirmation_emails_to_host: true}
      appearance: {company_name: "{{ name }}"}

**Substitution.** ``{{ FIELD }}`` (spaces optional) is replaced by the entry's field; ``{{ key }}`` is
the entry's key; ``{{ a.b }}`` reads a nested field. A value that is exactly one reference takes the
field's value as it is (a number stays a number, a list a list); inside other text it must be text,
a number or true/false. References work in values and in mapping keys, never run code, and are
replaced in one left-to-right pass (the replacement is not read again), so the cost is linear in the
template's size. A ``{{`` or ``}}`` that is not part of a reference is an error, as is a field the
entry lacks. ``${VAR}`` is untouched here: it stays the environment's, resolved by `load` afterwards
(a roster field may hold one, as ``token`` above).

**Errors** name both files: the template line of the value and the roster line of the entry (or of
the field the value came from). Every problem of every entry is collected before failing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol, TypeVar

from .addresses import KEY_PATTERN, generated
from .errors import ConfigError, Problem
from .pagefile import DesiredPage
from .tree import display
from .yamlfile import PathKey, Position, YamlDoc, format_path, load_yaml

ROSTER = "_roster"
TEMPLATE = ".template"
MEMBER_FIELDS = "member_fields"
RESERVED = ("override", "renamed_from")
_REFERENCE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\s*\}\}")
_KEY = re.compile(rf"^{KEY_PATTERN}$")

Origin = tuple[str, int | None, int | None]


@dataclass(frozen=True)
class Generated:
    """One page to generate: its address, the layers to load (template, then the entry's override),
    and what `annotate` needs to point problems at the roster."""

    address: str
    template_file: Path
    layers: tuple[YamlDoc, ...]
    key: str
    entry_origin: Origin
    renamed_from: str | None = None
    sources: dict[str, Origin] = field(default_factory=dict)  # dotted path -> roster field it came from


def is_roster_or_template(address: str) -> bool:
    name = address.rpartition("/")[2]
    return name == ROSTER or (name.startswith("_") and name.endswith(TEMPLATE))


def expand(pages: dict[str, list[Path]]) -> tuple[list[Generated], list[Problem]]:
    """Take the rosters and templates out of ``pages`` (ADDRESS -> files, as `tree.discover` finds
    them) and return the pages they generate, with every problem found."""
    problems: list[Problem] = []
    rosters: dict[str, YamlDoc] = {}
    templates: dict[str, tuple[str, YamlDoc]] = {}
    for address in [a for a in pages if is_roster_or_template(a)]:
        files = pages.pop(address)
        if len(files) > 1:
            problems += [Problem(display(f), None, None, "", f"{address!r} is defined twice", "keep one file")
                         for f in files]
            continue
        try:
            doc = load_yaml(files[0], display(files[0]))
        except ConfigError as e:
            problems += e.problems
            continue
        folder, _, name = address.rpartition("/")
        if name == ROSTER:
            rosters[folder] = doc
        else:
            page_name = name[1:-len(TEMPLATE)]
            if not _KEY.match(page_name):
                problems.append(Problem(doc.file, None, None, "", "a template is named _NAME.template.yaml, NAME "
                                        "in lowercase letters, digits, '_' and '-'", "rename the file"))
                continue
            templates[f"{folder}/{page_name}" if folder else page_name] = (folder, doc)
    entries = {folder: _entries(doc, problems) for folder, doc in rosters.items()}
    out: list[Generated] = []
    for template_address, (folder, doc) in sorted(templates.items()):
        if folder not in rosters:
            problems.append(Problem(doc.file, None, None, "", "a template needs a _roster.yaml in its folder",
                                    "add one entry per person to _roster.yaml next to it"))
            continue
        if not isinstance(doc.data, dict):
            problems.append(Problem(doc.file, *doc.locate(()), "", "a template must be a mapping, like a page file"))
            continue
        hot = _hot(doc.data)
        for entry in entries[folder]:
            made = _generate(template_address, doc, hot, rosters[folder], entry, problems)
            if made is not None:
                out.append(made)
    return out, problems


@dataclass(frozen=True)
class _Entry:
    key: str
    fields: dict[str, Any]
    origin: Origin
    positions: dict[PathKey, Position]  # under the entry, relative to it


def _entries(doc: YamlDoc, problems: list[Problem]) -> list[_Entry]:
    """The roster's entries, positions grouped by entry once (linear in the roster's size)."""
    if doc.data is None:
        return []
    if not isinstance(doc.data, dict):
        problems.append(Problem(doc.file, *doc.locate(()), "", "a roster is a mapping: KEY: {fields...} per person"))
        return []
    grouped: dict[Any, dict[PathKey, Position]] = {}
    for path, position in doc.positions.items():
        if path:
            grouped.setdefault(path[0], {})[path[1:]] = position
    out = []
    for key, fields in doc.data.items():
        origin: Origin = (doc.file, *doc.locate((key,)))
        if not isinstance(key, str) or not _KEY.match(key):
            problems.append(Problem(*origin, str(key), "a roster key is lowercase letters, digits, '_' and '-' "
                                    "(it becomes part of the page's address)", "e.g. alice or alice-ng"))
            continue
        if fields is None:
            fields = {}
        if not isinstance(fields, dict):
            problems.append(Problem(*origin, key, "an entry is a mapping of fields (name: ..., email: ...)"))
            continue
        bad = [(name, value) for name, value in fields.items() if name in ("override",) and not isinstance(value, dict)]
        bad += [(name, value) for name, value in fields.items()
                if name == "renamed_from" and not (isinstance(value, str) and _KEY.match(value))]
        for name, _ in bad:
            where = grouped.get(key, {}).get((name,), origin[1:])
            problems.append(Problem(doc.file, *where, f"{key}.{name}", "override must be a mapping (merged over the "
                                    "page)" if name == "override" else "renamed_from must be the entry's old key"))
        if not bad:
            out.append(_Entry(key, fields, origin, grouped.get(key, {})))
    return out


def _hot(data: Any, path: PathKey = ()) -> set[PathKey]:
    """The paths of the template whose value holds a reference somewhere (found once per template):
    the rest is shared by every generated page as it is, never copied."""
    found: set[PathKey] = set()
    if isinstance(data, dict):
        for key, value in data.items():
            inner = _hot(value, (*path, key))
            if inner or (isinstance(key, str) and ("{{" in key or "}}" in key)):
                found |= inner | {(*path, key)}
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found |= _hot(value, (*path, index))
    elif isinstance(data, str) and ("{{" in data or "}}" in data):
        found.add(path)
    if found:
        found.add(path)
    return found


def _generate(template_address: str, doc: YamlDoc, hot: set[PathKey], roster: YamlDoc, entry: _Entry,
              problems: list[Problem]) -> Generated | None:
    subst = _Substitution(doc, hot, roster, entry)
    data = dict(subst.value(doc.data, ()))  # its own root: member_fields is taken out of it
    member = data.pop(MEMBER_FIELDS, None)
    if member is not None:
        path = (MEMBER_FIELDS,)
        if not isinstance(member, list) or not all(isinstance(m, str) for m in member):
            subst.problem(path, "member_fields is a list of dotted paths people may change in the Schedule Editor",
                          "e.g. [config.appearance.color]")
        else:
            lifecycle = data["lifecycle"] = dict(data.get("lifecycle") or {})  # copies: shared with the template
            if isinstance(lifecycle, dict):
                # The paths keep their lines: a wrong one is reported where it was written.
                ignored = lifecycle["ignore_changes"] = list(lifecycle.get("ignore_changes") or [])
                start = len(ignored) if isinstance(ignored, list) else 0
                if isinstance(ignored, list):
                    ignored += member
                    for index in range(len(member)):
                        subst.positions[("lifecycle", "ignore_changes", start + index)] = (
                            doc.positions.get((MEMBER_FIELDS, index)) or doc.locate(path))
                subst.positions.setdefault(("lifecycle",), doc.locate(path))
                subst.positions.setdefault(("lifecycle", "ignore_changes"), doc.locate(path))
    if subst.problems:
        problems += subst.problems
        return None
    layers = [YamlDoc(doc.file, data, subst.positions)]
    override = entry.fields.get("override")
    if override:
        shifted = {p[1:]: pos for p, pos in entry.positions.items() if p[:1] == ("override",)}
        layers.append(YamlDoc(roster.file, override, shifted))
    renamed = entry.fields.get("renamed_from")
    return Generated(
        address=generated(template_address, entry.key),
        template_file=Path(doc.file),
        layers=tuple(layers),
        key=entry.key,
        entry_origin=entry.origin,
        renamed_from=generated(template_address, renamed) if isinstance(renamed, str) else None,
        sources=subst.sources,
    )


class _Substitution:
    """One pass over the template for one entry: the new data, its positions, and its problems."""

    def __init__(self, doc: YamlDoc, hot: set[PathKey], roster: YamlDoc, entry: _Entry):
        self.doc, self.hot, self.roster, self.entry = doc, hot, roster, entry
        self.positions: dict[PathKey, Position] = dict(doc.positions)  # moved only under a substituted key
        self.sources: dict[str, Origin] = {}
        self.problems: list[Problem] = []

    def problem(self, path: PathKey, message: str, hint: str | None = None) -> None:
        file, line, column = self.entry.origin
        self.problems.append(Problem(self.doc.file, *self.doc.locate(path), format_path(path),
                                     f"{message} (roster entry {self.entry.key!r}, {file}:{line})", hint))

    def value(self, value: Any, path: PathKey, written: PathKey | None = None) -> Any:
        """``value`` (at ``path`` in the output, ``written`` in the template) with references replaced."""
        written = path if written is None else written
        if path != written and written in self.doc.positions:
            self.positions[path] = self.doc.positions[written]
        elif written not in self.hot:
            return value  # no reference inside: shared as it is (nothing downstream mutates page data)
        if isinstance(value, dict):
            out: dict[Any, Any] = {}
            for key, item in value.items():
                new_key = self.text(key, (*written,), key_of=True) if isinstance(key, str) and "{" in key else key
                if new_key in out:
                    self.problem((*written, key), f"key {new_key!r} is a duplicate once substituted")
                if isinstance(new_key, str | int) and not isinstance(new_key, bool):
                    out[new_key] = self.value(item, (*path, new_key), (*written, key))
            return out
        if isinstance(value, list):
            return [self.value(item, (*path, i), (*written, i)) for i, item in enumerate(value)]
        if isinstance(value, str) and ("{{" in value or "}}" in value):
            result = self.text(value, written)
            if path != written and (p := format_path(written)) in self.sources:
                self.sources[format_path(path)] = self.sources.pop(p)
            return result
        return value

    def text(self, text: str, path: PathKey, key_of: bool = False) -> Any:
        whole = _REFERENCE.fullmatch(text)
        if whole and not key_of:
            found, value = self.field(whole.group(1), path)
            return value if found else text
        pieces: list[str] = []
        end = 0
        for match in _REFERENCE.finditer(text):
            pieces.append(text[end:match.start()])
            found, value = self.field(match.group(1), path)
            if found and (isinstance(value, dict | list) or value is None):
                self.problem(path, f"{{{{ {match.group(1)} }}}} is not text and cannot be part of other text",
                             "write the reference alone as the whole value")
            pieces.append(_scalar(value))
            end = match.end()
        pieces.append(text[end:])
        if any("{{" in p or "}}" in p for i, p in enumerate(pieces) if i % 2 == 0):
            self.problem(path, "'{{' or '}}' that is not a reference",
                         "a reference is {{ FIELD }}: a field name, optionally dotted")
        return "".join(pieces)

    def field(self, name: str, path: PathKey) -> tuple[bool, Any]:
        parts = tuple(name.split("."))
        if parts == ("key",):
            self.sources[format_path(path)] = self.entry.origin
            return True, self.entry.key
        value: Any = self.entry.fields
        for part in parts:
            if not isinstance(value, dict) or part not in value or part in RESERVED and value is self.entry.fields:
                self.problem(path, f"roster entry {self.entry.key!r} has no field {name!r}",
                             "add it to the entry, or give every entry that field")
                return False, None
            value = value[part]
        line, column = self.entry.positions.get(parts, self.entry.origin[1:])
        self.sources[format_path(path)] = (self.roster.file, line, column)
        return True, value


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None or isinstance(value, dict | list) else str(value)


def annotate(problems: list[Problem], made: Generated) -> list[Problem]:
    """Problems of a generated page, each naming the roster too: the field a value came from, or the entry."""
    if not problems:
        return problems
    template = display(made.template_file)
    out = []
    for p in problems:
        if p.file == template and "(roster entry" not in p.message:
            file, line, _ = made.sources.get(p.field, made.entry_origin)
            p = Problem(p.file, p.line, p.column, p.field, f"{p.message} (roster entry {made.key!r}, {file}:{line})",
                        p.hint)
        elif p.file != template and "(roster entry" not in p.message:
            p = Problem(p.file, p.line, p.column, p.field, f"{p.message} (in {made.address})", p.hint)
        out.append(p)
    return out


class _Loaded(Protocol):
    problems: list[Problem]


L = TypeVar("L", bound=_Loaded)


def generated_pages(made: list[Generated], load: Callable[[Generated], tuple[L, DesiredPage | None]],
                    ) -> Iterator[tuple[L, DesiredPage | None]]:
    """Load each generated page with ``load`` (the loader's own, over its layers); problems name the
    roster too, and a renamed entry's page carries its old address (`plan.find_moves`)."""
    for made_page in made:
        page, desired = load(made_page)
        page.problems[:] = annotate(page.problems, made_page)
        if desired is not None:
            desired = replace(desired, renamed_from=made_page.renamed_from, value_sources=made_page.sources)
        yield page, desired
