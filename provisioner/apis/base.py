"""The seam: what an API package gives the engine, and nothing more.

Anchors: octoDNS providers and Terraform's plugin framework (STYLE.md, "Two APIs, one engine"). The
engine (load, plan, apply, state, drift, adopt, preview, render, CLI) imports only this interface
(through `provisioner.apis`); an API package (`nylas_v2`, `nylas_v3`) implements it and never imports
the engine.

An API package gives:

- `Api.page_model` / `Api.config_model`: the page file's schema (slug, name, owner, targets, `Lifecycle`,
  config) and its ``config:`` object, for the loader, its schema walker and
  ``provisioner schema``; `Api.owner_field` names the page file's key that says whose page it is
  (v2 ``access_tokens``, secrets; v3 ``grant``, an id, not a secret);
- `Api.normalize` / `Api.strip_server_defaults`: the comparable form of a config, and a live config
  without what the server fills in (for clean pulled YAML);
- `Api.open_client`: a `Pages` client (base URL or in-process transport, credentials from the
  environment, parallelism, rate limits), which reads, creates, updates, deletes, finds by slug and
  lists an owner's pages, given the page's `Handle` (what the state records to reach it); it counts
  and lists an owner's pages batch by batch for refresh by listing (`provisioner.refresh`) and says
  how many HTTP attempts it sent;
- `LivePage`: the neutral view of a live page (id, slug, name, wire config, host e-mails);
- `Api.pull_yaml`: a live page as a page file (adoption);
- `Api.slot_views`: the YAML's and the live page's configs read for `provisioner preview` (the shared
  slot engine's parameters and the page's hosts, `SlotView`).
"""

from __future__ import annotations

import re
from collections.abc import AsyncGenerator, Container, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any, Protocol

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, SecretStr

if TYPE_CHECKING:  # the slot engine imports the v2 model: not at run time (v2 loads lazily)
    from provisioner.slots import Host

V2 = "nylas-v2"
V3 = "nylas-v3"

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def token_problem(value: str, what: str = "the token") -> str | None:
    """What makes ``value`` unusable as a token, without quoting it; None when it is fine.

    A token travels in an HTTP header or a JSON body: whitespace at either end (a trailing newline
    from ``echo`` or a file), control characters and non-ASCII characters are refused here, before
    an HTTP library refuses them with an error that quotes the header (and so the token).
    """
    if not value.strip():
        return f"{what} is empty"
    if value != value.strip():
        return f"{what} has whitespace (a space, tab or newline) at its start or end"
    if _CONTROL.search(value):
        return f"{what} contains a control character"
    if not value.isascii():
        return f"{what} contains non-ASCII characters"
    return None


# --- the page file's API-independent keys ---------------------------------------------------------

# The APIs also take '_' [choice]; page files keep to PRODUCT.md's lowercase letters, digits, hyphens.
PAGE_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")


def page_slug(slug: str) -> str:
    """A page file's slug check, after the API's own (as a pydantic ``AfterValidator``)."""
    if not PAGE_SLUG.match(slug):
        raise ValueError(f"must use lowercase letters, digits and hyphens only, got {slug!r}")
    return slug


class PolicyExcuse(BaseModel):
    """A reviewable exception to one policy rule (`provisioner.policy`) for this page."""

    model_config = ConfigDict(extra="forbid")

    rule: str = Field(description="The rule's id under policies.rules in provisioner.yaml.")
    reason: str = Field(min_length=1, description="Why this page may break it; a reviewer reads it.")


class Lifecycle(BaseModel):
    """provisioner's own keys; never sent to the API."""

    model_config = ConfigDict(extra="forbid")

    prevent_destroy: bool = Field(
        False, description="Never delete this page while it is live (the rest of a plan still applies)."
    )
    ignore_changes: list[str] = Field(
        default_factory=list,
        description="Dotted paths owned by end users in the Schedule Editor, e.g. config.appearance.",
    )
    policy_exceptions: list[PolicyExcuse] = Field(
        default_factory=list, description="Policy rules this page may break, each with its reason."
    )


def _empty_lifecycle(value: Any) -> Any:
    """``lifecycle:`` with nothing under it (YAML null) means no lifecycle keys, not an error."""
    return {} if value is None else value


LifecycleField = Annotated[Lifecycle, BeforeValidator(_empty_lifecycle)]
"""A page file's ``lifecycle:`` (every API's page model has it, after ``targets``)."""
TARGETS_DESCRIPTION = "Only on these targets of provisioner.yaml (default: every target)."
PAGE_FILE_CONFIG = ConfigDict(extra="forbid", title="provisioner page")


# --- live pages and how to reach them -------------------------------------------------------------


@dataclass(frozen=True)
class Handle:
    """What the state records to reach a live page: v2 its id and edit token (a secret), v3 the
    configuration id and its grant (not secrets)."""

    id: int | str
    edit_token: SecretStr | None = None
    grant: str | None = None


@dataclass(frozen=True)
class LivePage:
    """A live page, the same for every API: what plan, apply, state and adoption read of it."""

    handle: Handle
    slug: str
    name: str | None
    config: dict[str, Any]  # wire JSON, left-out fields absent (not normalized)
    hosts: tuple[str, ...] = ()  # host e-mails, in order (not secret)
    raw: Any = field(default=None, compare=False, repr=False)  # the package's own object (pull, preview)

    @property
    def id(self) -> int | str:
        return self.handle.id


Owner = tuple[SecretStr, ...] | str
"""Whose page it is: v2 the page's access tokens (secrets), v3 the grant id."""


class Pages(Protocol):
    """An open client of one API's page management (typed errors: `provisioner.errors` NotFound,
    OutcomeUnknown, DeadlineExceeded, ApiError; reads, updates and deletes retried, creates never
    blindly)."""

    async def get(self, handle: Handle, *, owner: Owner | None = None) -> LivePage: ...

    async def create(self, owner: Owner, *, name: str | None, slug: str, config: dict[str, Any]) -> LivePage: ...

    async def update(self, handle: Handle, *, name: str | None, slug: str, config: dict[str, Any],
                     owner: Owner | None = None, changed: Sequence[str] | None = None) -> LivePage:
        """Write name, slug and config; ``owner`` also rewrites who hosts the page (v2 tokens);
        ``changed`` names the top-level config keys that changed (v3 sends those objects whole)."""
        ...

    async def delete(self, handle: Handle) -> None: ...

    async def find_by_slug(self, owner: Owner, slug: str) -> LivePage | None: ...

    async def list_owner(self, owner: Owner) -> list[LivePage]:
        """Every page of the owner (v2: of the account of its first access token; v3: of the grant)."""
        ...

    # --- refresh by listing (`provisioner.refresh`) ---

    @property
    def requests(self) -> int:
        """HTTP attempts this client sent so far, retries included."""
        ...

    list_limit: int
    """The most pages one list request answers (v2 100, v3 the spec's maximum, 200)."""
    can_count: bool
    """Whether `count_owner` may answer a number (v2: ``view=count``; v3 cannot count)."""

    async def count_owner(self, owner: Owner) -> int | None:
        """How many pages `list_owner` would give, in one request; None when the API cannot say (v3,
        without a request; a v2 server refusing ``view=count``). The owner's rate limit is charged."""
        ...

    async def list_at(self, owner: Owner, index: int, keep: Container[int | str] | None = None) -> list[LivePage]:
        """The ``index``-th batch of `list_limit` pages of the owner's list (one request), for APIs that
        count (`can_count`): batches are fetched in parallel once the count is known. ``keep``: only the
        pages with these ids are parsed and returned (memory and CPU stay O(managed pages))."""
        ...

    def list_batches(
        self, owner: Owner, keep: Container[int | str] | None = None
    ) -> AsyncGenerator[list[LivePage], None]:
        """The owner's list one request at a time, in server order, until its end (the caller may stop
        early); ``keep`` as in `list_at`. A batch may be empty when ``keep`` filtered everything."""
        ...

    async def opens(self, handle: Handle, credential: SecretStr) -> bool:
        """Whether ``credential`` (a v2 access token) opens the page; v3 has none: always False."""
        ...

    async def calendars(self, handle: Handle) -> list[dict[str, Any]]:
        """The hosts' accounts and calendars, for preview (empty when the API has no such call)."""
        ...


@dataclass(frozen=True)
class ClientOptions:
    """How the engine opens a client: a base URL or an in-process transport, and its limits."""

    base_url: str
    transport: Any = None  # httpx.AsyncBaseTransport for the embedded emulator
    parallelism: int = 8
    rate_limits: Any = None  # provisioner.ratelimit.RateLimits
    env: Mapping[str, str] = field(default_factory=dict)  # where credentials are read (never stored)
    api_key_env: str = "NYLAS_API_KEY"
    embedded: bool = False


@dataclass(frozen=True)
class SlotView:
    """A config as the shared slot engine (`provisioner.slots.compute_slots`) takes it, for preview."""

    config: Any  # v2: the page config model; v3: a `provisioner.slots.Settings` the package built
    hosts: tuple[Host, ...]  # in page order (the order round robin turns in)
    zone: str  # the page's time zone (slots are summarised in it)
    duration_minutes: int  # one booking's length (the booking share books each offered start in turn)


class Api(Protocol):
    """One Scheduler API as the engine sees it."""

    name: str  # "nylas-v2" | "nylas-v3"
    page_model: type[BaseModel]
    config_model: type[BaseModel]
    owner_field: str  # the page file's key naming the owner: "access_tokens" | "grant"
    owner_is_secret: bool  # v2 tokens: interpolated as secrets, digested in the state, never shown
    page_word: str  # "page" | "configuration", in messages

    def desired_config(self, model: BaseModel) -> dict[str, Any]:
        """The wire JSON of a validated page file's ``config`` (left-out fields absent)."""
        ...

    def owner_of(self, model: BaseModel) -> Owner:
        """The owner written in a validated page file."""
        ...

    def normalize(self, config: dict[str, Any]) -> dict[str, Any]: ...

    def strip_server_defaults(self, config: dict[str, Any]) -> dict[str, Any]: ...

    def open_client(self, options: ClientOptions) -> AbstractAsyncContextManager[Pages]: ...

    def pull_yaml(self, page: LivePage, address: str) -> str:
        """A live page as a page file at ``address``: a header comment saying where it came from,
        then only what differs from the server's defaults, and no secret (v2 tokens as ``${VAR}``
        references; a v3 grant is an id). Written with `provisioner.apis.yamlout`."""
        ...

    def slot_paths(self) -> tuple[str, ...]:
        """Paths under which a change can move bookable slots (``plan --preview``)."""
        ...

    def slot_views(self, desired: dict[str, Any], live: dict[str, Any] | None, owner: Owner,
                   accounts: Sequence[dict[str, Any]]) -> tuple[SlotView, SlotView | None]:
        """The YAML's wire config and the live page's (None: not live) read for preview; ``owner`` is the
        page file's, ``accounts`` what `Pages.calendars` gave (v2 hosts; v3: empty, hosts are the
        participants of each config)."""
        ...
