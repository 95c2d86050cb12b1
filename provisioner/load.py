"""Page files -> validated desired pages.

`load_pages` reads every ``*.yaml``/``*.yml`` under ``pages/``, deep-merges the ``_defaults`` files of
its folder and the folders above under each page (nearest wins), interpolates ``${VAR}`` references,
validates the result against `PageFile`, and returns one `DesiredPage` per ADDRESS. It either returns
every page or raises one `ConfigError` with every problem of every file, each pointing at the file,
line and column where the offending value was written (a `_defaults` file when it came from one).

This is the one place where pydantic errors become our `Problem`s (`load_problems.translate`, built
from ``errors(include_input=False)``, never from ``str(ValidationError)``). Access tokens are checked here
before validation (references only; the text written is never quoted back), and any resolved token
value that still found its way into a message is masked before the error is raised.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any, NamedTuple

from pydantic import ValidationError

from provisioner.apis import V2, Api, get_api
from provisioner.apis.base import token_problem

from .cores import map_on_cores
from .errors import ConfigError, Problem
from .load_problems import Origin, kind, printable, translate
from .pagefile import DesiredPage
from .roster import expand, generated_pages
from .schema_paths import ignore_path_problem, lax_scalar_problems
from .secrets import InterpolationError, VariablePolicy, interpolate, is_reference, references
from .tree import discover
from .tree import display as _display
from .yamlfile import PathKey, YamlDoc, format_path, load_yaml

_MASK = "**********"


class _Page:
    """One page being loaded: merged data, where each value came from, and its problems."""

    def __init__(self, display: str):
        self.display = display
        self.data: dict[Any, Any] = {}
        self.origins: dict[PathKey, Origin] = {(): (display, 1, 1)}
        self.problems: list[Problem] = []
        self.reads: list[tuple[PathKey, str]] = []  # (path, variable) read outside access_tokens
        self.token_variables: set[str] = set()

    def where(self, path: PathKey) -> Origin:
        """The origin of ``path``, or of its nearest ancestor that was written somewhere."""
        for end in range(len(path), -1, -1):
            if path[:end] in self.origins:
                return self.origins[path[:end]]
        return self.origins[()]

    def problem(self, path: PathKey, message: str, hint: str | None = None) -> None:
        file, line, column = self.where(path)
        self.problems.append(Problem(file, line, column, format_path(path), message, hint))

    def overlay(self, doc: YamlDoc) -> None:
        """Merge ``doc`` over what is there: mappings recursively, lists and scalars replace."""
        self.data = self._merge(self.data, doc.data, (), doc)

    def _merge(self, base: Any, over: Any, path: PathKey, doc: YamlDoc) -> Any:
        if isinstance(base, dict) and isinstance(over, dict):
            out = dict(base)
            for key, value in over.items():
                sub = (*path, key)
                self.origins[sub] = (doc.file, *doc.locate(sub))
                if isinstance(out.get(key), dict) and isinstance(value, dict):
                    out[key] = self._merge(out[key], value, sub, doc)
                else:
                    if key in out:  # what a layer below wrote under this key is replaced: so are its origins
                        for old in [p for p in self.origins if len(p) > len(sub) and p[: len(sub)] == sub]:
                            del self.origins[old]
                    self._note(value, sub, doc)
                    out[key] = value
            return out
        return over

    def _note(self, value: Any, path: PathKey, doc: YamlDoc) -> None:
        """The origin of ``path`` and of every path below it, all written in ``doc``."""
        found = doc.positions.get(path)  # nearly always there: else the nearest written ancestor's
        self.origins[path] = (doc.file, *(found if found is not None else doc.locate(path)))
        if isinstance(value, dict):
            for key, item in value.items():
                self._note(item, (*path, key), doc)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                self._note(item, (*path, index), doc)


def load_pages(pages_dir: Path, env: Mapping[str, str], *, need_tokens: bool = True,
               secret_variables: Iterable[str | None] = (), api: Api | None = None,
               origins: bool = True) -> dict[str, DesiredPage]:
    """Every page under ``pages_dir``, by ADDRESS (sorted), validated; or `ConfigError` with all problems.

    ``env`` supplies ``${VAR}`` values; values other than access tokens may not read a secret
    variable (`secrets.VariablePolicy`), ``secret_variables`` among them (the target's lock-key and
    DSN variables, whatever their names). Files and folders whose name starts with ``.`` are ignored.
    With ``need_tokens`` false (commands that never send an access token: drift, pull), a token
    variable that is not set is no error and the token is a placeholder. ``api`` (v2 by default) gives
    the page model: v2 pages name their access tokens, v3 pages their grant (not a secret). With
    ``origins`` false, the pages come without where each value was written (only policy checks read it).
    """
    api = api or get_api(V2)
    if not pages_dir.is_dir():
        raise ConfigError([Problem(_display(pages_dir), None, None, "", "pages directory not found")])
    pages, defaults, problems = discover(pages_dir)
    made, roster_problems = expand(pages)  # takes rosters and templates out of `pages`
    chains: dict[str, list[YamlDoc | bool]] = {}
    problems += roster_problems
    defaults_docs = {folder: _load_defaults(files, problems) for folder, files in defaults.items()}
    secrets: set[str] = set()
    token_variables: set[str] = set()
    reads: list[tuple[Origin, str, str]] = []  # (where, field, variable) of every non-token reference
    loaded: dict[str, DesiredPage] = {}
    slugs: list[_SlugSeen] = []  # only what the duplicate check needs: a page's parse state is dropped

    def add(result: _Loaded) -> None:
        problems.extend(result.problems)
        token_variables.update(result.token_variables)
        secrets.update(result.secrets)
        reads.extend(result.reads)
        if result.slug is not None:
            slugs.append(result.slug)
        if result.desired is not None:
            loaded[result.desired.address] = result.desired

    def load_one(item: tuple[str, Path]) -> _Loaded:
        found: set[str] = set()
        page, desired = _load_page(item[0], item[1], _chain(defaults_docs, item[0], chains), env, found,
                                   need_tokens, api)
        return _loaded(page, desired, found, origins)

    single = [(address, files[0]) for address, files in sorted(pages.items()) if len(files) == 1]
    results = iter(map_on_cores(load_one, single))  # the bulk of a large plan's CPU: every core takes a share
    for address, files in sorted(pages.items()):
        if len(files) > 1:
            names = " and ".join(f.name for f in files)
            problems += [
                Problem(_display(f), None, None, "", f"address {address!r} is defined twice, by {names}",
                        "keep one file per page")
                for f in files
            ]
            continue
        add(next(results))
    for page, desired in generated_pages(made, lambda g: _load_page(  # the roster's pages: `roster`
            g.address, g.template_file, _chain(defaults_docs, g.address, chains), env, secrets, need_tokens, api,
            g.layers)):
        add(_loaded(page, desired, set(), origins))
    problems += _duplicate_slugs(slugs)
    named = [name for name in secret_variables if name]
    problems += _secret_reads(reads, VariablePolicy(env, token_variables, named))
    if problems:
        raise ConfigError(_mask(list(dict.fromkeys(problems)), secrets))
    return dict(sorted(loaded.items()))


class _Loaded(NamedTuple):
    """What the loader keeps of one page once it is loaded (the same from a forked process)."""

    problems: list[Problem]
    token_variables: set[str]
    secrets: set[str]  # the access tokens resolved
    reads: list[tuple[Origin, str, str]]  # (where, field, variable) of every non-token reference
    slug: _SlugSeen | None
    desired: DesiredPage | None


def _loaded(page: _Page, desired: DesiredPage | None, secrets: set[str], origins: bool) -> _Loaded:
    slug = page.data.get("slug")
    if desired is not None and not origins:
        desired = replace(desired, origins=None)
    return _Loaded(page.problems, page.token_variables, secrets,
                   [(page.where(path), format_path(path), name) for path, name in page.reads],
                   _SlugSeen(slug, page.display, page.where(("slug",))) if isinstance(slug, str) else None, desired)


def _chain(defaults_docs: dict[Path, YamlDoc | bool], address: str,
           cache: dict[str, list[YamlDoc | bool]]) -> list[YamlDoc | bool]:
    """The `_defaults` docs that apply to ``address``, outermost first; ``cache`` holds the chain of each
    folder seen (a roster's pages share one)."""
    folder = address.rpartition("/")[0]
    if folder not in cache:
        parts = Path(folder).parts
        chain = [defaults_docs.get(Path(*parts[:i]), None) for i in range(len(parts) + 1)]
        cache[folder] = [d for d in chain if d is not None]
    return cache[folder]


def _load_defaults(files: list[Path], problems: list[Problem]) -> YamlDoc | bool:
    """A folder's `_defaults` doc; False when it is broken (its pages are then not validated)."""
    if len(files) > 1:
        problems += [Problem(_display(f), None, None, "", "two _defaults files in one folder",
                             "keep one") for f in files]
        return False
    try:
        doc = load_yaml(files[0], _display(files[0]))
    except ConfigError as e:
        problems += e.problems
        return False
    if doc.data is None:
        return YamlDoc(doc.file, {}, doc.positions)
    if not isinstance(doc.data, dict):
        problems.append(Problem(doc.file, *doc.locate(()), "", "a _defaults file must be a mapping of keys"))
        return False
    return doc


def _load_page(
    address: str, file: Path, chain: list[YamlDoc | bool], env: Mapping[str, str], secrets: set[str],
    need_tokens: bool = True, api: Api | None = None, layers: tuple[YamlDoc, ...] = (),
) -> tuple[_Page, DesiredPage | None]:
    """One page over its `_defaults` chain (outermost first); the desired page only if it has no problems.
    ``layers``: the page's own docs, already parsed (a generated page: template, then its override)."""
    api = api or get_api(V2)
    owner = api.owner_field
    page = _Page(_display(file))
    try:
        doc = layers[0] if layers else load_yaml(file, page.display)
    except ConfigError as e:
        page.problems += e.problems
        return page, None
    if doc.data is None:
        page.problem((), "the file is empty", f"a page needs at least slug and {owner}")
        return page, None
    if not isinstance(doc.data, dict):
        page.problem((), f"a page must be a mapping (slug, {owner}, config...), not {kind(doc.data)}")
        return page, None
    if False in chain:  # a broken _defaults above: its own problems are reported already
        return page, None
    for layer in [*chain, doc, *layers[1:]]:
        assert isinstance(layer, YamlDoc)
        page.overlay(layer)
    page.origins[()] = (page.display, *doc.locate(()))
    secret_owner = api.owner_is_secret
    data = {k: _interpolate(page, v, (k,), env) for k, v in page.data.items()
            if k != "access_tokens" or not secret_owner}
    if secret_owner:
        tokens = _resolve_tokens(page, env, need_tokens)
        secrets.update(t for t in tokens or [] if t)
        _refuse_tokens_elsewhere(page, data, [t for t in tokens or [] if t and t != UNRESOLVED_TOKEN])
        data["access_tokens"] = tokens if tokens is not None else ["-"]  # never a token-shaped literal
    lax = lax_scalar_problems(data, api.page_model)  # reported instead of pydantic's error at the same path
    for path, message, hint in lax:
        page.problem(path, message, hint)
    flagged = {path for path, _, _ in lax}
    _check_ignore_changes(page, data, api)
    try:
        model: Any = api.page_model.model_validate(data)
    except ValidationError as e:
        for error in e.errors(include_input=False, include_url=False):
            if tuple(error["loc"]) not in flagged:
                page.problems.append(translate(page.where, data, error, api))
        return page, None
    if page.problems:
        return page, None
    return page, DesiredPage(
        address=address,
        file=file,
        slug=model.slug,
        name=model.name,
        access_tokens=tuple(model_owner) if isinstance(model_owner := api.owner_of(model), tuple) else (),
        config=api.desired_config(model),
        prevent_destroy=model.lifecycle.prevent_destroy,
        ignore_changes=tuple(model.lifecycle.ignore_changes),
        targets=tuple(model.targets or ()),
        grant=model_owner if isinstance(model_owner, str) else None,
        policy_exceptions=tuple((e.rule, e.reason) for e in model.lifecycle.policy_exceptions),
        origins=page.origins,
    )


# --- interpolation and access tokens -------------------------------------------------------------


def _refuse_tokens_elsewhere(page: _Page, data: dict[Any, Any], tokens: list[str]) -> None:
    """An access token in any other value would be shown in plans and sent as page content."""

    def visit(value: Any, path: PathKey) -> None:
        if isinstance(value, str):
            if any(token in value for token in tokens):
                page.problem(path, "holds an access token; tokens belong in access_tokens only",
                             "use another variable for this value")
        elif isinstance(value, dict):
            for key, item in value.items():
                visit(item, (*path, key))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                visit(item, (*path, index))

    if tokens:
        visit(data, ())


_UNSET_HINT = "set it in the environment, or write ${VAR:-default} for a value that is not secret"


def _interpolate(page: _Page, value: Any, path: PathKey, env: Mapping[str, str]) -> Any:
    """``value`` with ``${VAR}`` resolved in every string, mapping keys included (account ids under
    ``calendar_ids`` differ between environments); problems for unset or malformed references."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            new = _interpolate(page, key, (*path, key), env) if isinstance(key, str) and "$" in key else key
            if new != key:  # the value's positions move to the interpolated key
                n = len(path) + 1
                page.origins.update({(*path, new, *p[n:]): o for p, o in list(page.origins.items())
                                     if p[:n] == (*path, key)})
            if new in out:
                page.problem((*path, key), f"key {key!r} is {new!r} after interpolation, a duplicate")
            out[new] = _interpolate(page, item, (*path, new), env) if _may_interpolate(item) else item
        return out
    if isinstance(value, list):
        return [_interpolate(page, v, (*path, i), env) if _may_interpolate(v) else v for i, v in enumerate(value)]
    if isinstance(value, str) and "$" in value:
        page.reads += [(path, name) for name in references(value)]
        try:
            return interpolate(value, env)
        except InterpolationError as e:
            page.problem(path, str(e), _UNSET_HINT if "not set" in str(e) else None)
    return value


def _may_interpolate(value: Any) -> bool:
    """Whether `_interpolate` could change ``value`` or find a problem in it (else it is kept as it is)."""
    return isinstance(value, dict | list) or (isinstance(value, str) and "$" in value)


UNRESOLVED_TOKEN = "(unresolved)"


def _resolve_tokens(page: _Page, env: Mapping[str, str], need_tokens: bool = True) -> list[str] | None:
    """The access tokens, each resolved from a ``${VAR}`` reference; None when any is wrong.

    No message here (or anywhere) contains the text written for a token or the value it resolves to.
    """
    literal = "literal access token would put a secret in git; write ${VAR}"
    key = ("access_tokens",)
    if "access_tokens" not in page.data:
        page.problem((), "access_tokens is required", "list one or more ${VAR} references to access tokens")
        return None
    raw = page.data["access_tokens"]
    if not isinstance(raw, list):
        if isinstance(raw, str) and not is_reference(raw):
            page.problem(key, literal, "make it a list: access_tokens: [\"${VAR}\"]")
        else:
            page.problem(key, f"must be a list of ${{VAR}} references, not {kind(raw)}",
                         "write one '- ${VAR}' line per token")
        return None
    if not raw:
        page.problem(key, "needs at least one access token", "write one '- ${VAR}' line per token")
        return None
    resolved: list[str] = []
    for index, item in enumerate(raw):
        path = (*key, index)
        if not isinstance(item, str):
            page.problem(path, f"must be a ${{VAR}} reference, not {kind(item)}")
        elif not is_reference(item) and "${" in item:  # a reference with text around it, or nested
            page.problem(path, "must be exactly one ${VAR} reference, with nothing around or inside it")
        elif not is_reference(item):
            page.problem(path, literal, "export it as an environment variable; revoke a token that leaked")
        else:
            page.token_variables.update(references(item))
            try:
                value = interpolate(item.strip(), env)
            except InterpolationError as e:
                if need_tokens:
                    page.problem(path, str(e), "export the token as an environment variable before running")
                    continue
                value = UNRESOLVED_TOKEN
            problem = token_problem(value, "the access token")
            if problem:
                page.problem(path, problem, "check how the variable is set (echo -n, no quotes or line breaks)")
                continue
            resolved.append(value)
    return resolved if len(resolved) == len(raw) else None


def _secret_reads(reads: list[tuple[Origin, str, str]], policy: VariablePolicy) -> list[Problem]:
    """A problem for every value outside access_tokens that reads a secret variable (`secrets`)."""
    problems = []
    for (file, line, column), where, name in reads:
        reason = policy.refusal(name)
        if reason:
            problems.append(Problem(file, line, column, where, f"${{{name}}} is a secret: {reason}",
                                    "only access_tokens may read secrets; use a variable that is not one"))
    return problems


# --- the schema ----------------------------------------------------------------------------------


def _check_ignore_changes(page: _Page, data: dict[Any, Any], api: Api) -> None:
    lifecycle = data.get("lifecycle")
    paths = lifecycle.get("ignore_changes") if isinstance(lifecycle, dict) else None
    for index, path in enumerate(paths if isinstance(paths, list) else []):
        found = ignore_path_problem(path, api.config_model) if isinstance(path, str) else None
        if found:
            page.problem(("lifecycle", "ignore_changes", index), *found)


# --- across pages --------------------------------------------------------------------------------


class _SlugSeen(NamedTuple):
    slug: str
    display: str
    where: Origin


def _duplicate_slugs(seen: list[_SlugSeen]) -> list[Problem]:
    by_slug: dict[str, list[_SlugSeen]] = defaultdict(list)
    for entry in seen:
        by_slug[entry.slug].append(entry)
    problems = []
    for slug, pages in by_slug.items():
        for page in pages if len(pages) > 1 else []:
            others = ", ".join(p.display for p in pages if p is not page)
            file, line, column = page.where
            problems.append(Problem(file, line, column, "slug", f"slug {slug!r} is also used by {others}",
                                    "slugs must be unique across pages/"))
    return problems


def _mask(problems: list[Problem], secrets: set[str]) -> list[Problem]:
    """Belt and braces: no resolved token value survives in any message, even if written elsewhere;
    and no message carries a character that is not printable."""
    def clean(text: str | None) -> str | None:
        for secret in sorted(secrets, key=len, reverse=True):
            if text and len(secret) >= 4:
                text = text.replace(secret, _MASK)
        return printable(text) if text else text

    return [
        Problem(p.file, p.line, p.column, clean(p.field) or "", clean(p.message) or "", clean(p.hint))
        for p in problems
    ]
