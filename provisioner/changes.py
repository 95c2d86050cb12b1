"""Typed values for plans and drift reports, with a fixed order so the same input renders the same.

Produced by `plan` and `drift` (pure), consumed by `apply`, `planfile` and `render/`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # a type only: the core never loads the state package
    from .state.base import Resource


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    RECREATE = "recreate"  # in the state, gone from the live API
    MOVE = "move"  # same page, new address (a renamed page file)
    NOOP = "noop"


ACTION_ORDER = {a: i for i, a in enumerate(Action)}

MARKERS = {
    Action.CREATE: "+",
    Action.UPDATE: "~",
    Action.DELETE: "-",
    Action.RECREATE: "-/+",
    Action.MOVE: "->",
    Action.NOOP: " ",
}


class Origin(StrEnum):
    """Why a field changes: edited in YAML, edited live outside provisioner, or both."""

    YAML = "yaml"
    DRIFT = "drift"
    BOTH = "yaml+drift"


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One leaf that apply changes: ``before`` is the live value, ``after`` the desired one."""

    path: str  # dotted, lists indexed: "config.booking.opening_hours[0].end"
    before: Any
    after: Any
    origin: Origin = Origin.YAML
    before_present: bool = True
    after_present: bool = True
    sensitive: bool = False  # render as "(sensitive)"


HOSTS = "hosts"
"""The path of the plan line that changes a page's hosts: apply sends the page's access tokens exactly
when its plan shows this line (a create always does)."""


@dataclass(frozen=True, slots=True)
class Hosts:
    """Who hosts a page: how many accounts, and their e-mails (``None`` until the API has told us).

    Not secret: the API returns each host's account e-mail (``access_token_infos``); the access tokens
    themselves never enter a plan.
    """

    count: int
    emails: tuple[str, ...] | None = None


class Resolution(StrEnum):
    REVERT = "revert"  # YAML wins: the next apply puts the desired value back
    KEEP = "keep"  # under lifecycle.ignore_changes: the live value is kept
    ADOPT = "adopt"  # YAML now matches the live value: nothing to revert


@dataclass(frozen=True, slots=True)
class DriftItem:
    """One leaf edited outside provisioner: last applied vs. live, and what apply will do."""

    path: str
    last_applied: Any
    live: Any
    resolution: Resolution
    last_present: bool = True
    live_present: bool = True


@dataclass(frozen=True, slots=True)
class PageChange:
    """Everything the plan says about one address."""

    address: str
    action: Action
    slug: str
    page_id: int | str | None = None  # v3: a configuration id
    moved_from: str | None = None
    changes: tuple[FieldChange, ...] = ()
    drift: tuple[DriftItem, ...] = ()
    prevent_destroy: bool = False
    live_fingerprint: str | None = None  # digest of the live page read for this plan (stale-plan check)
    # The state's record of the page as planned against (None for a create). Not rendered; a saved
    # plan keeps only its digest (`plan.state_fingerprint`), to name the pages whose record moved.
    state_record: Resource | None = field(default=None, compare=False, repr=False)
    # What apply sends: the desired {"name", "slug", "config"} (ignored paths at their live values).
    # Not rendered; None when nothing is to be written.
    body: dict[str, Any] | None = field(default=None, compare=False, repr=False)
    # Keyed digest of the access tokens apply will use (no secret): part of a saved plan's checksum.
    tokens_digest: str | None = field(default=None, compare=False, repr=False)

    # The state record needs refreshing although nothing is written: an imported page whose tokens the
    # plan found to be its hosts gets their digest recorded (so later plans need not check again).
    refresh_record: bool = False

    @property
    def needs_apply(self) -> bool:
        """Apply has work here: an API write, or a state record to refresh (drift since last applied)."""
        return (self.action is not Action.NOOP or bool(self.drift) or self.refresh_record) and not self.blocked

    @property
    def sends_tokens(self) -> bool:
        """Apply sends the access tokens: exactly when the plan shows a `HOSTS` line."""
        return any(c.path == HOSTS for c in self.changes)

    @property
    def destructive(self) -> bool:
        """Destroys a live page. A recreate is not: its page is already gone from the API."""
        return self.action is Action.DELETE and self.live_fingerprint is not None

    @property
    def blocked(self) -> bool:
        """lifecycle.prevent_destroy forbids this change: apply skips it and fails (the rest goes on)."""
        return self.destructive and self.prevent_destroy

    @property
    def reverts_drift(self) -> bool:
        """Apply puts back values that were edited outside provisioner (an end user's edits)."""
        return any(c.origin is not Origin.YAML for c in self.changes)

    def sort_key(self) -> tuple[str, int]:
        return (self.address, ACTION_ORDER[self.action])


@dataclass(frozen=True)
class Target:
    """Where a plan applies: a name, the API URL, and whether it is the local emulator."""

    api_url: str
    name: str | None = None
    emulator: bool = False
    api: str = "nylas-v2"  # which Scheduler API (`provisioner.apis`)

    def describe(self) -> str:
        label = f"{self.name} " if self.name else ""
        if self.emulator:
            return f"Target: {label}local emulator ({self.api_url}), not Nylas; API {self.api}"
        return f"Target: {label}{self.api_url}; API {self.api}"

    @property
    def state_key(self) -> str:
        """What the state is kept for: the API URL (v2, as ever), or ``nylas-v3:URL`` (a v2 state is
        never read as a v3 one, even on the same emulator)."""
        return self.api_url if self.api == "nylas-v2" else f"{self.api}:{self.api_url}"


REFRESH_MODES = ("auto", "list", "page")
"""How refresh reads live pages (`provisioner.refresh`): ``auto`` per account or grant, whichever costs
fewer requests; ``list`` lists every account or grant it can; ``page`` one read per page."""


@dataclass(frozen=True)
class RefreshStats:
    """What reading the live pages cost: not part of what a plan does (a plan is the same whichever
    way it was refreshed), but what it took."""

    mode: str  # as asked: one of `REFRESH_MODES`
    requests: int  # HTTP attempts the refresh sent, retries included
    listed_groups: int  # accounts (v2) or grants (v3) refreshed by listing (a list request answered)
    read_alone: int  # pages read by their own request


@dataclass(frozen=True)
class Plan:
    """A whole plan: the target, the state it was made against, and the per-page changes."""

    target: Target
    lineage: str
    serial: int
    pages: tuple[PageChange, ...] = field(default_factory=tuple)
    warnings: tuple[str, ...] = ()  # what needs a person: e.g. a create of a page whose file is gone
    refusals: tuple[str, ...] = ()  # limits this plan exceeds (see `safety`): apply refuses it whole
    unchecked: int = 0  # pages left out by --target: neither refreshed nor planned
    refresh: RefreshStats | None = None  # how the live pages were read (None: not by the refresh engine)

    def count(self, action: Action) -> int:
        return sum(1 for p in self.pages if p.action is action)

    @property
    def has_changes(self) -> bool:
        return any(p.action is not Action.NOOP for p in self.pages)

    @property
    def destructive(self) -> tuple[PageChange, ...]:
        return tuple(p for p in self.pages if p.destructive)

    @property
    def blocked(self) -> tuple[PageChange, ...]:
        """Destructive changes that lifecycle.prevent_destroy forbids (skipped; the rest is applied)."""
        return tuple(p for p in self.pages if p.blocked)


@dataclass(frozen=True)
class DriftReport:
    """`provisioner drift`: per managed page, what changed live since it was last applied."""

    target: Target
    pages: tuple[PageChange, ...] = ()  # action NOOP with drift items, or RECREATE for a page gone live
    refresh: RefreshStats | None = None  # how the live pages were read

    @property
    def has_drift(self) -> bool:
        """Drift that the next apply would act on (ignored paths are information only)."""
        return any(
            p.action is Action.RECREATE or any(d.resolution is Resolution.REVERT for d in p.drift)
            for p in self.pages
        )
