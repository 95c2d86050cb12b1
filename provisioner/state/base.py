"""State: what provisioner manages and how to reach it, behind one interface.

The file backend (`state.lockfile`) is the default; the PostgreSQL backend (`state.postgres`) implements the same
`StateBackend` protocol. Everything above this layer sees only `State`, `Resource` and `Transaction`.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from pydantic import SecretStr

from provisioner.apis import Handle

STATE_VERSION = 1
"""The lockfile format of a v2 state (unchanged, so every v2 lockfile keeps loading and keeps its bytes)."""
STATE_VERSION_V3 = 2
"""The lockfile format once a record holds a v3 configuration (id and grant, no edit token)."""


@dataclass(frozen=True)
class Resource:
    """One managed page: its address in pages/, how to reach it, and what was last applied."""

    address: str
    id: int | str  # v2 page id; v3 configuration id (a UUID)
    slug: str
    edit_token: SecretStr  # v2; a v3 configuration has none (`NO_TOKEN`)
    name: str | None
    config: dict[str, Any]  # normalized config last applied (what drift is measured against)
    tokens_digest: str | None = None  # keyed digest of the access tokens last applied
    prevent_destroy: bool = False  # kept from the page file, so a page deleted from YAML is still guarded
    grant: str | None = None  # v3: the grant the configuration lives under (not a secret); v2: None

    @property
    def handle(self) -> Handle:
        """How the API client reaches this page."""
        if self.grant is not None:
            return Handle(self.id, grant=self.grant)
        return Handle(self.id, edit_token=self.edit_token)


NO_TOKEN = SecretStr("")
"""The edit token of a v3 record: v3 has none (never written to the state)."""


@dataclass(frozen=True)
class State:
    """A snapshot of the state, with any journal of an interrupted apply already replayed."""

    lineage: str
    serial: int
    api_url: str
    resources: dict[str, Resource] = field(default_factory=dict)
    # address -> slug of creates that were sent but whose outcome was never recorded (a crash or an
    # unknown outcome): the page may exist, so apply must look it up by slug before creating again.
    pending_creates: dict[str, str] = field(default_factory=dict)

    def with_resource(self, resource: Resource) -> State:
        return replace(self, resources={**self.resources, resource.address: resource})


def shared_page_id(resources: dict[str, Resource]) -> tuple[str, str, int | str] | None:
    """Two addresses that hold one page (first, second, page id), if any: state must never have them,
    since that page would be updated twice and deleted by one of them."""
    first: dict[int | str, str] = {}
    for address, resource in resources.items():
        other = first.setdefault(resource.id, address)
        if other != address:
            return other, address, resource.id
    return None


def same_api_url(a: str, b: str) -> bool:
    """Whether two API URLs name the same API (a trailing slash aside): state is kept per API."""
    return a.rstrip("/") == b.rstrip("/")


@dataclass(frozen=True)
class Holder:
    """Who holds the apply lock; shown to a second apply that is refused."""

    host: str
    pid: int
    started: str  # ISO-8601 UTC
    ci_job_url: str | None = None

    def describe(self) -> str:
        text = f"pid {self.pid} on {self.host}, since {self.started}"
        return text + (f" ({self.ci_job_url})" if self.ci_job_url else "")


class Transaction(Protocol):
    """An apply's exclusive hold on the state. Every method is durable before it returns."""

    @property
    def state(self) -> State:
        """The state as of now: the state when the lock was taken plus every step recorded since."""
        ...

    def ready(self) -> None:
        """Make sure the steps to come can be recorded (the file journal is created now): a state that
        cannot record them (a read-only folder, no file descriptor left) fails here, before anything
        is sent, rather than after a live page was written."""
        ...

    def intend_create(self, address: str, slug: str) -> None:
        """Record that a create is about to be sent (so a crash leaves a `pending_creates` entry)."""
        ...

    def record(self, resource: Resource) -> None:
        """Record a page created, updated or adopted (clears its pending create)."""
        ...

    def forget(self, address: str) -> None:
        """Record a page deleted or no longer managed (clears its pending create)."""
        ...

    def move(self, old: str, new: str) -> None:
        """Record a resource now known under another address."""
        ...


class StateBackend(Protocol):
    """Where state lives. Reads take no lock; `transaction` takes the one-writer-at-a-time lock."""

    location: str  # for messages, e.g. "pages.lock"

    def read(self, api_url: str) -> State:
        """The current state (an empty one with a fresh lineage if none exists yet).

        Refuses (StateError) state made for another API URL, an unknown version, or a corrupt file.
        """
        ...

    def transaction(self, api_url: str, holder: Holder) -> AbstractContextManager[Transaction]:
        """Take the apply lock (LockHeld at once, naming the holder, if taken) and yield a
        transaction. On normal exit the steps are folded into the state with serial + 1; on an
        exception the steps recorded so far are kept (never lost) and folded in the same way."""
        ...
