"""The v3 Scheduler behind the engine's interface (`provisioner.apis.base.Api`).

A page is a *configuration* under a grant, reached by its id and the grant (neither a secret) with
the application API key, read from the environment variable the target names (``api_key_env``,
default ``NYLAS_API_KEY``): never written to a file, the state, a plan or a message.

The page file: ``slug``, ``name``, ``grant``, ``targets``, ``lifecycle`` and ``config`` = exactly the
v3 configuration object (`model.Configuration`) but for ``slug`` and ``name``, which sit above it.

Updates follow the spec's "Updating objects": a PUT replaces every top-level object it holds and
leaves the others untouched, so `V3Pages.update` sends each changed top-level field whole, never a
partial nested object. One the page file no longer has is sent as the spec allows to bring back the
server default (`spec.reset_value`: ``scheduler: {}``, ``null`` only for the nullable fields); the
plan's body is normalized, so it already holds those defaults and shows what is sent. A page file
without ``name`` leaves the name to the server, as on v2: it is never sent (the spec cannot unset it).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Container, Sequence
from contextlib import aclosing, asynccontextmanager
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import AfterValidator, BaseModel, Field, SecretStr, model_validator

from provisioner.apis.base import (
    PAGE_FILE_CONFIG,
    PAGE_SLUG,
    TARGETS_DESCRIPTION,
    V3,
    ClientOptions,
    Handle,
    Lifecycle,
    LifecycleField,
    LivePage,
    Owner,
    SlotView,
    page_slug,
    token_problem,
)
from provisioner.errors import ProvisionerError

from . import choices, model, spec
from .scalars import Short, Slug

if TYPE_CHECKING:  # imported where used: `validate` needs no HTTP client
    from .client import ConfigurationsClient, LiveConfiguration

PageSlug = Annotated[Slug, AfterValidator(page_slug), Field(json_schema_extra={"pattern": PAGE_SLUG.pattern})]


def _grant(value: str) -> str:
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value) or value != value.strip():
        raise ValueError("must be a grant id: printable characters, no spaces at either end")
    if value == choices.ME_GRANT:
        raise ValueError("'me' names an access token's grant; with an API key, write the grant id")
    return value


Grant = Annotated[str, Field(min_length=1, max_length=choices.GRANT_ID_MAX), AfterValidator(_grant)]


class PageFile(BaseModel):
    """One file under pages/: a Nylas v3 Scheduler configuration as code."""

    model_config = PAGE_FILE_CONFIG

    slug: PageSlug = Field(description="Unique across pages/ and the application: lowercase letters, digits, hyphens.")
    name: Short | None = Field(None, description="Configuration name.")
    grant: Grant = Field(description="The grant the configuration lives under (its organizer's; an id, not a secret).")
    targets: list[str] | None = Field(None, description=TARGETS_DESCRIPTION)
    lifecycle: LifecycleField = Field(default_factory=Lifecycle)
    config: model.Configuration = Field(
        description="Exactly the v3 configuration object (participants, availability, event_booking, ...), "
                    "slug and name aside."
    )

    @model_validator(mode="after")
    def _slug_and_name_above(self) -> PageFile:
        for key in ("slug", "name"):
            if getattr(self.config, key) is not None:
                raise ValueError(f"config.{key}: write {key} at the top of the page file, not under config")
        return self


def live(found: LiveConfiguration, grant: str) -> LivePage:
    """The neutral view of a v3 configuration under ``grant``."""
    participants = found.config.get("participants") or []
    hosts = tuple(str(p.get("email")) for p in participants if isinstance(p, dict) and p.get("email"))
    return LivePage(Handle(found.id, grant=grant), found.slug or "", found.name, dict(found.config), hosts, found)


def _grant_of(handle_or_owner: Handle | Owner | None) -> str:
    grant = handle_or_owner.grant if isinstance(handle_or_owner, Handle) else handle_or_owner
    if not isinstance(grant, str):
        raise ProvisionerError("a v3 configuration lives under a grant; none is known here")
    return grant


class V3Pages:
    """`provisioner.apis.base.Pages` over the v3 `ConfigurationsClient`."""

    def __init__(self, client: ConfigurationsClient) -> None:
        self.client = client

    async def get(self, handle: Handle, *, owner: Owner | None = None) -> LivePage:
        grant = _grant_of(handle)
        return live(await self.client.get_configuration(grant, str(handle.id)), grant)

    async def create(self, owner: Owner, *, name: str | None, slug: str, config: dict[str, Any]) -> LivePage:
        grant = _grant_of(owner)
        body = {**config, "slug": slug, **({"name": name} if name is not None else {})}
        return live(await self.client.create_configuration(grant, body), grant)

    async def update(self, handle: Handle, *, name: str | None, slug: str, config: dict[str, Any],
                     owner: Owner | None = None, changed: Sequence[str] | None = None) -> LivePage:
        grant = _grant_of(handle)
        keys = list(config) if changed is None else list(changed)
        body: dict[str, Any] = {  # each whole; one left out: back to the server default
            key: config[key] if config.get(key) is not None else spec.reset_value(key) for key in keys}
        body["slug"] = slug
        if name is not None:
            body["name"] = name
        return live(await self.client.update_configuration(grant, str(handle.id), body), grant)

    async def delete(self, handle: Handle) -> None:
        await self.client.delete_configuration(_grant_of(handle), str(handle.id))

    async def find_by_slug(self, owner: Owner, slug: str) -> LivePage | None:
        grant = _grant_of(owner)
        found = await self.client.find_by_slug(grant, slug)
        return live(found, grant) if found is not None else None

    async def list_owner(self, owner: Owner) -> list[LivePage]:
        grant = _grant_of(owner)
        return [live(found, grant) for found in await self.client.list_configurations(grant)]

    # --- refresh by listing: by cursor only (the spec has no count) ---

    can_count = False

    @property
    def requests(self) -> int:
        return self.client.stats.requests

    @property
    def list_limit(self) -> int:
        return choices.LIST_LIMIT_MAX  # the client's LIST_LIMIT

    async def count_owner(self, owner: Owner) -> int | None:
        return None  # the list has no count: no request

    async def list_at(self, owner: Owner, index: int, keep: Container[int | str] | None = None) -> list[LivePage]:
        raise ProvisionerError("a v3 list is read by cursor (list_batches), not at an index")

    async def list_batches(
        self, owner: Owner, keep: Container[int | str] | None = None
    ) -> AsyncGenerator[list[LivePage], None]:
        grant = _grant_of(owner)
        async with aclosing(self.client.configuration_batches(grant, keep)) as batches:
            async for batch in batches:
                yield [live(found, grant) for found in batch]

    async def opens(self, handle: Handle, credential: SecretStr) -> bool:
        return False  # v3 has no per-page credential

    async def calendars(self, handle: Handle) -> list[dict[str, Any]]:
        return []


def api_key(options: ClientOptions) -> SecretStr:
    """The API key from the variable the target names; its value never appears in a message."""
    value = options.env.get(options.api_key_env, "")
    if not value:
        raise ProvisionerError(f"environment variable {options.api_key_env} (the Nylas v3 API key) is not set; "
                               f"export it, or name another variable with api_key_env in provisioner.yaml")
    problem = token_problem(value, f"the API key in {options.api_key_env}")
    if problem:
        raise ProvisionerError(problem + "; check how the variable is set (no quotes or line breaks)")
    return SecretStr(value)


class NylasV3:
    """The v3 Scheduler API (`provisioner.apis.base.Api`)."""

    name = V3
    page_model: type[BaseModel] = PageFile
    config_model: type[BaseModel] = model.Configuration
    owner_field = "grant"
    owner_is_secret = False
    page_word = "configuration"

    def desired_config(self, validated: BaseModel) -> dict[str, Any]:
        assert isinstance(validated, PageFile)
        return model.dump(validated.config)

    def owner_of(self, validated: BaseModel) -> Owner:
        assert isinstance(validated, PageFile)
        return validated.grant

    def normalize(self, config: dict[str, Any]) -> dict[str, Any]:
        return spec.normalize(config)

    def strip_server_defaults(self, config: dict[str, Any]) -> dict[str, Any]:
        return spec.strip_server_defaults(config)

    @asynccontextmanager
    async def open_client(self, options: ClientOptions) -> AsyncIterator[V3Pages]:
        from .client import ConfigurationsClient

        key = api_key(options)
        async with ConfigurationsClient(options.base_url, api_key=key, transport=options.transport,
                                        parallelism=options.parallelism, limits=options.rate_limits) as client:
            yield V3Pages(client)

    def pull_yaml(self, page: LivePage, address: str) -> str:
        from .adopt import page_yaml

        return page_yaml(page.raw, address, _grant_of(page.handle))

    def slot_paths(self) -> tuple[str, ...]:
        return ("config.availability", "config.participants", "config.scheduler", "config.event_booking")

    def slot_views(self, desired: dict[str, Any], live: dict[str, Any] | None, owner: Owner,
                   accounts: Sequence[dict[str, Any]]) -> tuple[SlotView, SlotView | None]:
        from .slot_view import slot_views

        return slot_views(desired, live, _grant_of(owner))


API = NylasV3()
