"""The v3 Scheduler client: configurations under a grant, over the HTTP core both clients share.

``async with ConfigurationsClient(url, api_key=SecretStr(...)) as client: ...``. The transport is the
I/O seam (a real network, ``Emulator(...).transport()`` in-process, ``httpx.MockTransport``).

Contract (everything else is `provisioner.apis.http`'s, as for v2: retries of reads, updates and
deletes on 429/5xx/timeouts/connection errors with jittered backoff and ``Retry-After``, bounded
concurrency, attempt and total deadlines, optional client-side rate limits)
------------------------------------------------------------------------------------------------------
- **Auth.** The application API key, a `SecretStr`, is the bearer of every call. It travels only in
  the ``Authorization`` header: never in a URL, a message, a repr or an exception (every message is
  scrubbed of it, whatever a server echoes). Grant and configuration ids are not secrets: they are
  in paths and messages (percent-encoded in paths).
- **Rate limits** (optional, `limits`/`limiter`). The limiter's "account" is the bearer, the API key
  (as the emulator counts it: one bucket per bearer), its application bucket the application.
- **Envelope.** Answers are ``{"request_id", "data"}`` (lists add ``next_cursor``); ``data`` is
  returned as a `LiveConfiguration`: ``id``, ``slug``, ``name`` and ``config`` (every other field of
  the configuration object, as the server sent it; not validated against the model, so fields a
  newer server adds are kept, not refused). Anything else is an "unexpected response" `ApiError`.
- **Errors.** ``{"request_id", "error": {"type", "message"}}`` becomes `NotFound` (404),
  `SlugTaken` (a create or update refused because the slug is used, `SLUG_TAKEN`), or `ApiError`
  with ``status`` and the API's ``type``; a create that may have been processed raises
  `OutcomeUnknown` and is never re-sent: resolve it with `find_by_slug`.
- **Updates** (``PUT``) send what the caller gives: the spec's "Updating objects" semantics replace
  every nested object received and leave omitted top-level fields untouched, so a caller sends each
  changed top-level field whole (`update_configuration`).
- **Listing** pages through ``limit`` = `LIST_LIMIT` (the spec's maximum) and ``page_token`` = the
  previous ``next_cursor`` until it is null; a cursor seen twice is an error, not a loop.
"""

from __future__ import annotations

import re
from collections.abc import AsyncGenerator, Container, Mapping
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ConfigDict, SecretStr, ValidationError

from provisioner.apis.http import ClientStats, HttpClient, Params, failure_text, json_of, scrub
from provisioner.apis.listing import read_to_end
from provisioner.apis.nylas_v3 import choices, model
from provisioner.errors import ApiError, NotFound, SlugTaken

__all__ = ["LIST_LIMIT", "SLUG_TAKEN", "ClientStats", "ConfigurationsClient", "LiveConfiguration"]

LIST_LIMIT = choices.LIST_LIMIT_MAX
"""Configurations asked for per list call (the spec's maximum ``limit``)."""
SLUG_TAKEN = re.compile(r"\bslug\b.*\b(already|taken|in use|exists|unique)", re.IGNORECASE | re.DOTALL)
"""[choice] How a refused write says its slug is used: the spec names no error type for it, so a 400
or 409 whose message mentions the slug as already used (the emulator's "slug: already used by another
configuration") is `SlugTaken`. Callers test the type, never the text."""
_M = TypeVar("_M", bound=BaseModel)
_CONTROL = re.compile(r"[\x00-\x20\x7f]")


class LiveConfiguration(BaseModel):
    """A configuration as the API returns it: its read-only ``id``, its ``slug`` and ``name``, and
    ``config``: every other field of the configuration object, as sent (wire JSON)."""

    model_config = ConfigDict(frozen=True)

    id: str
    slug: str | None = None
    name: str | None = None
    config: dict[str, Any]

    @classmethod
    def from_wire(cls, data: Any) -> LiveConfiguration:
        """The configuration object ``data`` (a JSON object with an ``id``); ValueError otherwise."""
        if not isinstance(data, dict):
            raise ValueError(f"expected a configuration object, got {type(data).__name__}")
        config = {k: v for k, v in data.items() if k not in ("id", "slug", "name")}
        return cls.model_validate({"id": data.get("id"), "slug": data.get("slug"), "name": data.get("name"),
                                   "config": config})

    def wire(self) -> dict[str, Any]:
        """The configuration object without its ``id``: what a create with the same content sends."""
        out: dict[str, Any] = {}
        if self.slug is not None:
            out["slug"] = self.slug
        if self.name is not None:
            out["name"] = self.name
        return out | self.config


class _One(BaseModel):
    data: dict[str, Any]


class _Many(BaseModel):
    data: list[dict[str, Any]]
    next_cursor: str | None = None


class ConfigurationsClient(HttpClient):
    """Async client of the v3 configuration endpoints (see the module docstring); the other keyword
    arguments are `HttpClient`'s (transport, parallelism, timeout, retry, sleep, rng, limits, limiter,
    attempt_deadline, deadline)."""

    noun = "configuration"

    def __init__(self, base_url: str, *, api_key: SecretStr, **options: Any) -> None:
        super().__init__(base_url, **options)
        self._key = api_key

    def __repr__(self) -> str:
        return f"ConfigurationsClient({self.base_url!r}, api_key={self._key!r}, parallelism={self.parallelism})"

    # --- endpoints -------------------------------------------------------------------------------

    async def list_configurations(self, grant_id: str) -> list[LiveConfiguration]:
        """Every configuration of the grant, in server order, without duplicates (all pages)."""
        return await read_to_end(self.configuration_batches(grant_id), lambda live: live.id)

    async def configuration_batches(
        self, grant_id: str, keep: Container[Any] | None = None
    ) -> AsyncGenerator[list[LiveConfiguration], None]:
        """The grant's list one request at a time (``limit`` = `LIST_LIMIT`, ``page_token`` = the previous
        ``next_cursor`` until it is null): per answer, its configurations whose id is in ``keep`` (all
        without it; the others are never parsed into a `LiveConfiguration`). A cursor seen twice is an
        error, not a loop. The caller may stop early."""
        path = _collection(grant_id)
        cursor: str | None = None
        seen: set[str] = set()
        while True:
            params: dict[str, int | str] = {"limit": LIST_LIMIT}
            if cursor is not None:
                params["page_token"] = cursor
            where = f"GET {path}" + (" (next page)" if cursor is not None else "")
            response = await self._send("GET", path, where=where, params=params)
            page = self._parse(_Many, response, where)
            items = page.data if keep is None else [i for i in page.data if _listed_id(i) in keep]
            yield [self._live(item, response, where) for item in items]
            cursor = page.next_cursor
            if not cursor:
                return
            if cursor in seen:
                raise ApiError(f"{where}: unexpected response (next_cursor repeats an earlier one)",
                               status=response.status_code)
            seen.add(cursor)

    async def get_configuration(self, grant_id: str, configuration_id: str) -> LiveConfiguration:
        """``GET …/configurations/{id}``; `NotFound` when it is gone (or under another grant)."""
        path = _item(grant_id, configuration_id)
        return self._one(await self._send("GET", path), f"GET {path}")

    async def create_configuration(
        self, grant_id: str, config: model.Configuration | Mapping[str, Any]
    ) -> LiveConfiguration:
        """``POST …/configurations`` with the configuration object (slug and name included).

        A `model.Configuration` is sent as its wire form; a mapping as given (the read-only ``id``
        dropped). `OutcomeUnknown` when it may or may not have been created; `SlugTaken`.
        """
        path = _collection(grant_id)
        body = _body(config)
        slug = body.get("slug")
        where = f"POST {path}" + (f" (slug {slug!r})" if isinstance(slug, str) else "")
        return self._one(await self._send("POST", path, where=where, body=body), where)

    async def update_configuration(
        self, grant_id: str, configuration_id: str, body: model.Configuration | Mapping[str, Any]
    ) -> LiveConfiguration:
        """``PUT …/configurations/{id}`` with ``body``: the top-level fields to write, each whole.

        The server replaces every nested object it receives and keeps the top-level fields left out
        (the spec's "Updating objects"), so send each changed top-level field complete; to reset one
        to the server default send `spec.reset_value` (``null`` only where the spec allows it).
        Returns the configuration as stored.
        """
        path = _item(grant_id, configuration_id)
        return self._one(await self._send("PUT", path, body=_body(body)), f"PUT {path}")

    async def delete_configuration(self, grant_id: str, configuration_id: str) -> None:
        """``DELETE …/configurations/{id}``; `NotFound` when it did not exist (a 404 after an earlier
        attempt that may have been processed counts as success)."""
        await self._send("DELETE", _item(grant_id, configuration_id), gone_ok_after_ambiguous=True)

    async def find_by_slug(self, grant_id: str, slug: str) -> LiveConfiguration | None:
        """The grant's configuration with ``slug``, or None (how a create's unknown outcome is
        resolved: one found here was created)."""
        for live in await self.list_configurations(grant_id):
            if live.slug == slug:
                return live
        return None

    # --- the request (provisioner.apis.http) and its translation ---------------------------------

    async def _send(
        self, method: str, path: str, *, where: str | None = None, body: Any = None,
        params: Params | None = None, gone_ok_after_ambiguous: bool = False,
    ) -> httpx.Response:
        where = where or f"{method} {path}"
        key = self._key.get_secret_value()
        if not key or _CONTROL.search(key):  # httpx would refuse the header with an error quoting it
            raise ApiError(f"{where}: the API key is empty or holds spaces or control characters")
        return await self.send(
            method, path, auth=f"Bearer {key}", rate_key=self._key, where=where,
            secrets=[self._key], body=body, params=params, gone_ok_after_ambiguous=gone_ok_after_ambiguous,
        )

    def failure(self, response: httpx.Response) -> tuple[str, str | None]:
        """Reads ``{"error": {"type", "message"}}``, tolerating any other body (a proxy's HTML)."""
        try:
            data = response.json()
        except ValueError:
            data = None
        error = data.get("error") if isinstance(data, dict) else None
        if not isinstance(error, dict):
            error = {}
        message, kind = error.get("message"), error.get("type")
        message = message if isinstance(message, str) else None
        kind = kind if isinstance(kind, str) else None
        return failure_text(response.status_code, kind, message), kind

    def error_class(self, response: httpx.Response, kind: str | None, text: str) -> type[ApiError]:
        status = response.status_code
        if status == 404:
            return NotFound
        if status in (400, 409) and response.request.method in ("POST", "PUT") and SLUG_TAKEN.search(text):
            return SlugTaken
        return ApiError

    def _one(self, response: httpx.Response, where: str) -> LiveConfiguration:
        return self._live(self._parse(_One, response, where).data, response, where)

    def _parse(self, kind: type[_M], response: httpx.Response, where: str) -> _M:
        # Parsed and validated in one pass by pydantic-core (the hot path of a plan: one per configuration).
        try:
            return kind.model_validate_json(response.content)
        except ValidationError as exc:
            if not any(error["type"] == "json_invalid" for error in exc.errors(include_input=False)):
                raise self._unexpected(response, where, exc) from None
        data = json_of(response, where)  # not JSON to pydantic-core: Python's reader decides (NaN...)
        try:
            return kind.model_validate(data)
        except ValidationError as exc:
            raise self._unexpected(response, where, exc) from None

    def _live(self, data: Any, response: httpx.Response, where: str) -> LiveConfiguration:
        try:
            return LiveConfiguration.from_wire(data)
        except ValidationError as exc:
            raise self._unexpected(response, where, exc) from None
        except ValueError as exc:
            raise ApiError(scrub(f"{where}: unexpected response ({exc})", [self._key]),
                           status=response.status_code) from None

    def _unexpected(self, response: httpx.Response, where: str, exc: ValidationError) -> ApiError:
        # errors(include_input=False): never echo the answer's values into a message.
        problems = [
            f"{'.'.join(str(part) for part in error['loc']) or '(root)'}: {error['msg']}"
            for error in exc.errors(include_input=False, include_url=False)
        ]
        shown = "; ".join(problems[:3]) + (f"; and {len(problems) - 3} more" if len(problems) > 3 else "")
        return ApiError(scrub(f"{where}: unexpected response (not a configuration envelope: {shown})", [self._key]),
                        status=response.status_code)


def _listed_id(item: dict[str, Any]) -> str | None:
    value = item.get("id")
    return value if isinstance(value, str) else None


def _segment(value: str, what: str) -> str:
    if not isinstance(value, str) or not value or any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise ApiError(f"{what} must be a non-empty string of printable characters")
    return quote(value, safe="")


def _collection(grant_id: str) -> str:
    return f"/v3/grants/{_segment(grant_id, 'a grant id')}/scheduling/configurations"


def _item(grant_id: str, configuration_id: str) -> str:
    return f"{_collection(grant_id)}/{_segment(configuration_id, 'a configuration id')}"


def _body(config: model.Configuration | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(config, model.Configuration):
        return model.dump(config)
    return {k: v for k, v in config.items() if k != "id"}
