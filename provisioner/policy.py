"""Policy checks: rules every page must follow, written in ``provisioner.yaml``, checked offline.

```yaml
policies:
  rules:
    notice:                          # a rule's id: what exceptions and reports name
      builtin: min_booking_notice    # a built-in rule (it knows the v2 and the v3 path) ...
      min: 60
    brand-colour:                    # ... or your own: a path into the page and operators
      path: config.appearance.color
      pattern: "#[0-9a-f]{6}"
      severity: warning              # error (default: validate and plan fail) or warning (printed)
      message: use a brand colour
  exceptions:                        # reviewable: each names a page, a rule and why
    - {page: "sales/demo[bob]", rule: notice, reason: "Bob takes same-hour calls (ticket OPS-12)"}
```

A page can also carry its own, next to what it excuses::

    lifecycle:
      policy_exceptions: [{rule: notice, reason: "..."}]

**Paths** are dotted, from the page document ``{slug, name, hosts, config}`` (``hosts``: how many
hosts the page has; ``config``: the API's config object as written), with ``[N]`` for a list item and
``[*]`` for every item: ``config.participants[*].timezone``. ``api: v2`` or ``api: v3`` limits a
rule to pages of one API. **Operators** (one or more per rule): ``min``, ``max`` (numbers),
``equals``, ``one_of`` (a list), ``pattern`` (a regular expression the whole text must match),
``required: true``, ``forbidden: true``, ``min_items``, ``max_items`` (lists). A path that is absent
passes every operator but ``required`` (built-ins judge an absent value by the API's default).

**Built-ins**: ``min_booking_notice`` (``min``), ``branding_off`` (v2 ``show_nylas_branding`` false;
v3 has no branding field), ``round_robin_hosts`` (``min``, default 2: a round-robin page has that many
hosts), ``buffer_range`` (``min``/``max`` minutes; v3 checks ``before`` and ``after``),
``allowed_timezones`` (``one_of``: every time zone the page names).

A violation is a `Problem` at the file and line where the value was written (a template, a
`_defaults` file, a roster override...), or where its parent was for an absent one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .errors import Problem
from .pagefile import DesiredPage
from .yamlfile import PathKey, format_path

Severity = Literal["error", "warning"]
Api = Literal["v2", "v3"]
_OPERATORS = ("min", "max", "equals", "one_of", "pattern", "required", "forbidden", "min_items", "max_items")


class Rule(BaseModel):
    """One rule: a built-in or a path with operators."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    builtin: Literal["min_booking_notice", "branding_off", "round_robin_hosts", "buffer_range",
                     "allowed_timezones"] | None = None
    path: str | None = None
    api: Api | None = None
    severity: Severity = "error"
    message: str | None = None
    min: float | None = None
    max: float | None = None
    equals: Any = None
    one_of: list[Any] | None = None
    pattern: str | None = None
    required: bool = False
    forbidden: bool = False
    min_items: int | None = Field(None, ge=0)
    max_items: int | None = Field(None, ge=0)

    @model_validator(mode="after")
    def _one_kind(self) -> Rule:
        if (self.builtin is None) == (self.path is None):
            raise ValueError("a rule has either builtin: NAME or path: PATH (not both)")
        if self.path is not None and not any(
                getattr(self, op) not in (None, False) for op in _OPERATORS):
            raise ValueError(f"a path rule needs an operator: {', '.join(_OPERATORS)}")
        if self.pattern is not None:
            try:
                re.compile(self.pattern)
            except re.error as e:
                raise ValueError(f"pattern is not a regular expression: {e}") from None
        return self


class PolicyException(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    page: str = Field(description="The page's ADDRESS, e.g. sales/demo[bob].")
    rule: str
    reason: str = Field(min_length=1, description="Why: a reviewer reads it.")


class Policies(BaseModel):
    """The ``policies:`` section of provisioner.yaml."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    rules: dict[str, Rule] = Field(default_factory=dict)
    exceptions: list[PolicyException] = Field(default_factory=list)


# --- built-ins: the path of each API, and the default an absent value has -------------------------

_ZONES = {
    "v2": ("config.timezone",),
    "v3": ("config.event_booking.timezone", "config.participants[*].timezone",
           "config.availability.availability_rules.default_open_hours[*].timezone"),
}


def _builtin(rule: Rule, api: Api) -> list[tuple[str, Rule, Any]]:
    """A built-in as plain path rules: (path, rule, value when absent)."""
    name = rule.builtin
    if name == "min_booking_notice":
        path = "config.booking.min_booking_notice" if api == "v2" else "config.scheduler.min_booking_notice"
        return [(path, rule, 0 if api == "v2" else 60)]
    if name == "branding_off":
        if api == "v3":
            return []
        return [("config.appearance.show_nylas_branding", rule.model_copy(update={"equals": False}), True)]
    if name == "buffer_range":
        if api == "v2":
            return [("config.booking.min_buffer", rule, 0)]
        base = "config.availability.availability_rules.buffer"
        return [(f"{base}.before", rule, 0), (f"{base}.after", rule, 0)]
    if name == "allowed_timezones":
        return [(path, rule, None) for path in _ZONES[api]]
    return []  # round_robin_hosts: judged by `_round_robin`


def api_of(page: DesiredPage) -> Api:
    """v3 pages have a grant (and the v3 configuration object), v2 pages access tokens."""
    return "v3" if page.grant is not None else "v2"


def document(page: DesiredPage) -> dict[str, Any]:
    """What rules read: ``{slug, name, hosts, config}``."""
    config = page.config
    if api_of(page) == "v3":
        hosts = len(config.get("participants") or [])
    else:
        hosts = len(page.access_tokens)
    return {"slug": page.slug, "name": page.name, "hosts": hosts, "config": config}


def is_round_robin(doc: Mapping[str, Any], api: Api) -> bool:
    config = doc.get("config") or {}
    if api == "v3":
        method = ((config.get("availability") or {}).get("availability_rules") or {}).get("availability_method")
        return method in ("max-fairness", "max-availability")
    return bool((config.get("booking") or {}).get("scheduling_method")) or doc.get("hosts", 0) > 1


# --- checking ------------------------------------------------------------------------------------

_PART = re.compile(r"([^.\[\]]+)|\[(\d+|\*)\]")


def _parse(path: str) -> tuple[Any, ...]:
    return tuple(m.group(1) if m.group(1) is not None else (m.group(2) if m.group(2) == "*" else int(m.group(2)))
                 for m in _PART.finditer(path))


def resolve(data: Any, path: str) -> Iterator[tuple[PathKey, bool, Any]]:
    """Every (path, present, value) ``path`` names in ``data``; ``[*]`` fans out over a list."""
    stack: list[tuple[PathKey, Any, tuple[Any, ...]]] = [((), data, _parse(path))]
    while stack:
        at, value, rest = stack.pop()
        if not rest:
            yield at, True, value
            continue
        part, rest = rest[0], rest[1:]
        if part == "*":
            if isinstance(value, list):
                stack += [((*at, i), item, rest) for i, item in reversed(list(enumerate(value)))]
            continue
        if isinstance(part, int) and isinstance(value, list) and part < len(value):
            stack.append(((*at, part), value[part], rest))
        elif isinstance(part, str) and isinstance(value, dict) and part in value:
            stack.append(((*at, part), value[part], rest))
        else:
            yield (*at, part, *rest), False, None  # absent: reported at its nearest written ancestor


def failures(rule: Rule, present: bool, value: Any) -> list[str]:
    """Why ``value`` breaks ``rule`` (empty: it passes)."""
    if not present:
        return ["is required"] if rule.required else []
    out = []
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if rule.forbidden:
        out.append("must not be set")
    if rule.min is not None and number and value < rule.min:
        out.append(f"is {value}, below the minimum {_num(rule.min)}")
    if rule.max is not None and number and value > rule.max:
        out.append(f"is {value}, above the maximum {_num(rule.max)}")
    if rule.equals is not None and value != rule.equals:
        out.append(f"must be {_shown(rule.equals)}, not {_shown(value)}")
    if rule.one_of is not None and value not in rule.one_of:
        out.append(f"{_shown(value)} is not one of {', '.join(_shown(v) for v in rule.one_of)}")
    if rule.pattern is not None and isinstance(value, str) and not re.fullmatch(rule.pattern, value):
        out.append(f"{_shown(value)} does not match {rule.pattern!r}")
    if rule.min_items is not None and isinstance(value, list) and len(value) < rule.min_items:
        out.append(f"has {len(value)} item(s), fewer than {rule.min_items}")
    if rule.max_items is not None and isinstance(value, list) and len(value) > rule.max_items:
        out.append(f"has {len(value)} item(s), more than {rule.max_items}")
    return out


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _shown(value: Any) -> str:
    text = repr(value) if isinstance(value, str) else str(value).lower() if isinstance(value, bool) else str(value)
    return text if len(text) <= 60 else text[:57] + "..."


@dataclass(frozen=True)
class Violation:
    """One broken rule on one page: rendered as a `Problem`, at the line of the value."""

    rule: str
    severity: Severity
    problem: Problem


def check(pages: Iterable[DesiredPage], policies: Policies | None) -> list[Violation]:
    """Every violation of every page, in page order; excepted ones (in provisioner.yaml or the page)
    are left out. An exception naming an unknown rule is itself an error (a typo excuses nothing)."""
    if policies is None or not policies.rules:
        return []
    excepted = {(e.page, e.rule) for e in policies.exceptions}
    out: list[Violation] = []
    for e in policies.exceptions:
        if e.rule not in policies.rules:
            out.append(Violation(e.rule, "error", Problem("provisioner.yaml", None, None, "policies.exceptions",
                                                          f"exception for unknown rule {e.rule!r} ({e.page})")))
    for page in pages:
        own = {rule for rule, _ in page.policy_exceptions}
        for unknown in sorted(own - set(policies.rules)):
            file, line, column = _where(page, ("lifecycle", "policy_exceptions"))
            out.append(Violation(unknown, "error", Problem(file, line, column, "lifecycle.policy_exceptions",
                                                        f"exception for unknown rule {unknown!r}",
                                                        "rules are the ids under policies.rules in provisioner.yaml")))
        api = api_of(page)
        doc = document(page)
        for rule_id, rule in policies.rules.items():
            if rule_id in own or (page.address, rule_id) in excepted or rule.api not in (None, api):
                continue
            out += _check_rule(page, doc, api, rule_id, rule)
    return out


def _check_rule(page: DesiredPage, doc: dict[str, Any], api: Api, rule_id: str, rule: Rule) -> list[Violation]:
    out = []
    if rule.builtin == "round_robin_hosts":
        least = int(rule.min if rule.min is not None else 2)
        if is_round_robin(doc, api) and doc["hosts"] < least:
            where = ("access_tokens",) if api == "v2" else ("config", "participants")
            out.append(_violation(page, rule_id, rule, where, f"a round-robin page has {doc['hosts']} host(s), "
                                  f"fewer than {least}"))
        return out
    checks = _builtin(rule, api) if rule.builtin else [(rule.path or "", rule, None)]
    for path, effective, default in checks:
        for at, present, value in resolve(doc, path):
            if not present and default is not None:
                present, value = True, default
            for why in failures(effective, present, value):
                out.append(_violation(page, rule_id, rule, at, why))
    return out


def _violation(page: DesiredPage, rule_id: str, rule: Rule, at: PathKey, why: str) -> Violation:
    file, line, column = _where(page, at)
    notes = []
    if file != str(page.file) or "[" in page.address:  # a _defaults file, a template: say which page
        notes.append(page.address)
    source = (page.value_sources or {}).get(format_path(at))
    if source is not None and file == str(page.file):  # substituted from a roster: name that line too
        notes.append(f"value from {source[0]}:{source[1]}")
    message = f"policy {rule_id!r}: {why}" + (f" ({', '.join(notes)})" if notes else "")
    hint = rule.message or f"or excuse this page: lifecycle.policy_exceptions: [{{rule: {rule_id}, reason: ...}}]"
    return Violation(rule_id, rule.severity, Problem(file, line, column, format_path(at), message, hint))


def _where(page: DesiredPage, at: PathKey) -> tuple[str, int | None, int | None]:
    """The file, line and column ``at`` (or its nearest written ancestor) was written at."""
    origins = page.origins or {}
    key = tuple(at) if at[:1] != ("hosts",) else ("access_tokens",)
    for end in range(len(key), -1, -1):
        if key[:end] in origins:
            return origins[key[:end]]
    return str(page.file), None, None
