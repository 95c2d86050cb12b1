"""The v2 Scheduler behind the engine's interface (`provisioner.apis.base.Api`).

A page is reached by its id and edit token; its owners are its access tokens (secrets).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Container, Sequence
from contextlib import aclosing, asynccontextmanager
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import AfterValidator, BaseModel, Field, SecretStr

from provisioner.apis.base import (
    PAGE_FILE_CONFIG,
    TARGETS_DESCRIPTION,
    V2,
    ClientOptions,
    Handle,
    Lifecycle,
    LifecycleField,
    LivePage,
    Owner,
    SlotView,
    page_slug,
)
from provisioner.apis.base import PAGE_SLUG as _PAGE_SLUG
from provisioner.errors import ProvisionerError

from . import model, spec

if TYPE_CHECKING:  # imported where used: `validate` and `--help` need no HTTP client
    from .client import SchedulerClient

PageSlug = Annotated[model.Slug, AfterValidator(page_slug), Field(json_schema_extra={"pattern": _PAGE_SLUG.pattern})]


class PageFile(BaseModel):
    """One file under pages/: a Scheduling Page as code."""

    model_config = PAGE_FILE_CONFIG

    slug: PageSlug = Field(description="Unique across pages/: lowercase letters, digits, hyphens.")
    name: model.Name | None = Field(None, description="Page name.")
    access_tokens: list[model.Secret] = Field(
        min_length=1,
        description="One or more ${ENV_VAR} references; two or more make a round-robin page.",
    )
    targets: list[str] | None = Field(None, description=TARGETS_DESCRIPTION)
    lifecycle: LifecycleField = Field(default_factory=Lifecycle)
    config: model.Config = Field(default_factory=model.Config, description="Exactly the API's page config object.")


def live(page: model.Page) -> LivePage:
    """The neutral view of a v2 page."""
    return LivePage(
        handle=Handle(page.id, edit_token=page.edit_token),
        slug=page.slug,
        name=page.name,
        config=model.dump_config(page.config),
        hosts=tuple(info.account_email for info in page.access_token_infos),
        raw=page,
    )


def _tokens(owner: Owner | None) -> Sequence[SecretStr]:
    if owner is None or isinstance(owner, str):
        raise ProvisionerError("a v2 page is owned by access tokens, not a grant")
    return owner


def _token(handle: Handle) -> SecretStr:
    if handle.edit_token is None:
        raise ProvisionerError(f"page {handle.id}: the state records no edit token")
    return handle.edit_token


class V2Pages:
    """`provisioner.apis.base.Pages` over the v2 `SchedulerClient`."""

    can_count = True

    def __init__(self, client: SchedulerClient) -> None:
        from .client import LIST_LIMIT  # loaded with the client already

        self.client = client
        self.list_limit = LIST_LIMIT

    async def get(self, handle: Handle, *, owner: Owner | None = None) -> LivePage:
        account = owner[0] if isinstance(owner, tuple) and owner else None
        return live(await self.client.get_page(int(handle.id), _token(handle), account=account))

    async def create(self, owner: Owner, *, name: str | None, slug: str, config: dict[str, Any]) -> LivePage:
        return live(await self.client.create_page(_tokens(owner), name=name, slug=slug, config=config))

    async def update(self, handle: Handle, *, name: str | None, slug: str, config: dict[str, Any],
                     owner: Owner | None = None, changed: Sequence[str] | None = None) -> LivePage:
        tokens = list(_tokens(owner)) if owner is not None else None
        return live(await self.client.update_page(int(handle.id), _token(handle), name=name, slug=slug,
                                                  config=config, access_tokens=tokens))

    async def delete(self, handle: Handle) -> None:
        await self.client.delete_page(int(handle.id), _token(handle))

    async def find_by_slug(self, owner: Owner, slug: str) -> LivePage | None:
        found = await self.client.find_by_slug(_tokens(owner), slug)
        return live(found) if found is not None else None

    async def list_owner(self, owner: Owner) -> list[LivePage]:
        return [live(p) for t in _tokens(owner)[:1] for p in await self.client.list_pages(t)]

    # --- refresh by listing: the account of the owner's first access token lists, and is charged ---

    @property
    def requests(self) -> int:
        return self.client.stats.requests

    async def count_owner(self, owner: Owner) -> int | None:
        return await self.client.count_pages(_tokens(owner)[0])

    async def list_at(self, owner: Owner, index: int, keep: Container[int | str] | None = None) -> list[LivePage]:
        batch = await self.client.list_batch(_tokens(owner)[0], index * self.list_limit, keep)
        return [live(p) for p in batch.pages]

    async def list_batches(
        self, owner: Owner, keep: Container[int | str] | None = None
    ) -> AsyncGenerator[list[LivePage], None]:
        async with aclosing(self.client.page_batches(_tokens(owner)[0], keep)) as batches:
            async for batch in batches:
                yield [live(p) for p in batch]

    async def opens(self, handle: Handle, credential: SecretStr) -> bool:
        try:
            await self.client.get_page(int(handle.id), credential, account=credential)
            return True
        except ProvisionerError:  # 401/403: not a token of this page (or not a token at all)
            return False

    async def calendars(self, handle: Handle) -> list[dict[str, Any]]:
        return await self.client.get_calendars(int(handle.id), _token(handle))


class NylasV2:
    """The v2 Scheduler API (`provisioner.apis.base.Api`)."""

    name = V2
    page_model: type[BaseModel] = PageFile
    config_model: type[BaseModel] = model.Config
    owner_field = "access_tokens"
    owner_is_secret = True
    page_word = "page"

    def desired_config(self, validated: BaseModel) -> dict[str, Any]:
        assert isinstance(validated, PageFile)
        return model.dump_config(validated.config)

    def owner_of(self, validated: BaseModel) -> Owner:
        assert isinstance(validated, PageFile)
        return tuple(validated.access_tokens)

    def normalize(self, config: dict[str, Any]) -> dict[str, Any]:
        return spec.normalize(config)

    def strip_server_defaults(self, config: dict[str, Any]) -> dict[str, Any]:
        return spec.strip_server_defaults(config)

    @asynccontextmanager
    async def open_client(self, options: ClientOptions) -> AsyncIterator[V2Pages]:
        from .client import SchedulerClient

        async with SchedulerClient(options.base_url, transport=options.transport, parallelism=options.parallelism,
                                   limits=options.rate_limits) as client:
            yield V2Pages(client)

    def pull_yaml(self, page: LivePage, address: str) -> str:
        from .adopt import page_yaml

        return page_yaml(page.raw, address)

    def slot_paths(self) -> tuple[str, ...]:
        return ("config.booking", "config.event", "config.timezone", "config.calendar_ids", "config.expire_after")

    def slot_views(self, desired: dict[str, Any], live: dict[str, Any] | None, owner: Owner,
                   accounts: Sequence[dict[str, Any]]) -> tuple[SlotView, SlotView | None]:
        from .slot_view import slot_views

        return slot_views(desired, live, len(_tokens(owner)), accounts)


API = NylasV2()
