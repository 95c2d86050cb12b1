"""The v2 Scheduler API client: pages, over the HTTP core both API clients share.

One async implementation on `httpx.AsyncClient`; the transport is the I/O seam (a real network, an
``httpx.ASGITransport`` around the embedded emulator, an ``httpx.MockTransport`` in tests). The retry
loop, attempts, deadlines, rate limits and scrubbing are `provisioner.apis.http`'s; this module says
what is v2's: the endpoints, the bearer, the error body and the page JSON.

Contract
--------
- **Auth.** A create carries the page's access tokens in the body and the first one as the bearer;
  every other call takes one token (a page's edit token, or an access token to list pages). Tokens
  are `SecretStr` and travel only in the ``Authorization`` header and the create/update body: never
  in a URL, a message, a repr or an exception.
- **Concurrency.** At most ``parallelism`` HTTP attempts are in flight per client. The bound is held
  around each attempt only, never across a backoff sleep, so a request waiting to retry leaves its
  slot to others.
- **Rate limits** (optional; `provisioner.ratelimit`). With ``limits`` (or a shared ``limiter``) every
  attempt first takes a token from its bearer's account bucket and the application bucket, *before*
  taking a parallelism slot (so a throttled account never holds a slot), and every answer is shown to
  the limiter (``X-RateLimit-*``, 429). Without them (the default) nothing is paced.
- **Retries** (policy in `provisioner.retry`). GET, PUT and DELETE are idempotent: they are retried
  on the policy's statuses (429, 500, 502, 503, 504; ``Retry-After`` honoured), on timeouts and on
  connection errors, up to ``max_attempts``, with jittered exponential backoff. A DELETE that
  answers 404 after an earlier attempt that may have been processed (a timeout after sending, a
  dropped connection, a 5xx) has succeeded: the earlier attempt deleted the page.
- **A create is never blindly retried.** It is retried only when the request certainly was not
  processed: a 429, or a connection that was never made (``ConnectError``, ``ConnectTimeout``,
  ``PoolTimeout``). After anything that may have reached the server (a timeout or an error after
  sending, a dropped connection, a 5xx) it raises `OutcomeUnknown`: the caller must then
  `find_by_slug` and adopt the page if it exists, else create again.
- **Deadlines.** httpx's ``timeout`` bounds each read, not a whole answer: a server dripping a byte
  every few seconds never trips it. So every attempt must bring its complete answer within
  ``attempt_deadline`` seconds, and one logical request (all its attempts and the backoff between
  them) within ``deadline`` seconds. Time spent waiting for a parallelism slot or the rate limiter is
  our own queueing and does not count. An attempt past its deadline is a timeout like any other: a
  GET, PUT or DELETE is retried while the total allows, a create raises `OutcomeUnknown` (it may have
  been processed, so the caller's find-by-slug adoption applies). When the total runs out, or the next
  backoff would overrun it, the request fails with `DeadlineExceeded`.
- **Errors.** Every failure leaves this module as a `provisioner.errors.ApiError`: `NotFound` for a
  404, `OutcomeUnknown` as above, `DeadlineExceeded` as above, plain `ApiError` (with ``status`` and the
  API's ``type``) for other error answers, exhausted retries, and answers that are not the expected
  page JSON ("unexpected response"). Messages name the method, the path, the status and the API's
  message.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Container, Mapping, Sequence
from typing import Any, NamedTuple

import httpx
from pydantic import SecretStr, ValidationError

from provisioner.apis.http import ClientStats, HttpClient, Params, failure_text, json_of, scrub
from provisioner.apis.listing import read_to_end
from provisioner.apis.nylas_v2 import model
from provisioner.errors import ApiError

__all__ = ["LIST_LIMIT", "PAGES_PATH", "Batch", "ClientStats", "SchedulerClient"]

PAGES_PATH = "/manage/pages"
LIST_LIMIT = 100
"""Page size when listing; the list ends at the first short page (as the official SDKs do)."""


class Batch(NamedTuple):
    """One answer of the account's list (`SchedulerClient.list_batch`)."""

    pages: list[model.Page]  # the pages kept (all, or those asked for)
    size: int  # how many pages the answer held
    first: int | None  # the id of its first page (None: empty, or not an id)


class SchedulerClient(HttpClient):
    """Async client of the Scheduler API's page-management endpoints (see the module docstring).

    Use as ``async with SchedulerClient(url) as client: ...``. The constructor is `HttpClient`'s:
    ``sleep`` and ``rng`` are injected so that tests run the retry logic without waiting and with
    reproducible jitter. ``limits`` builds a `RateLimiter` on the real clock; pass ``limiter`` instead
    to share one or to inject its clock. ``timeout`` is httpx's (per connect, read, write);
    ``attempt_deadline`` and ``deadline`` bound a whole attempt and a whole request (see the module
    docstring; ``None`` turns one off).
    """

    noun = "page"

    # --- endpoints -------------------------------------------------------------------------------

    async def create_page(
        self,
        access_tokens: Sequence[SecretStr],
        *,
        name: str | None,
        slug: str,
        config: model.Config | Mapping[str, Any],
    ) -> model.Page:
        """``POST /manage/pages``: create a page owned by ``access_tokens`` (bearer: the first).

        Raises `OutcomeUnknown` when the page may or may not have been created (see module docs).
        """
        if not access_tokens:
            raise ValueError("a page needs at least one access token")
        body = model.PageCreate(
            access_tokens=list(access_tokens), name=name, slug=slug, config=_config(config)
        ).model_dump(mode="json", context=model.WIRE, exclude_none=True)
        where = f"POST {PAGES_PATH} (slug {slug!r})"
        response = await self._send(
            "POST", PAGES_PATH, access_tokens[0], where=where, body=body, secrets=access_tokens
        )
        return self._page(response, where, access_tokens)

    async def get_page(self, page_id: int, token: SecretStr, *, account: SecretStr | None = None) -> model.Page:
        """``GET /manage/pages/{id}``; `NotFound` when the page is gone.

        ``account`` (an access token of the page) names the account the rate limiter charges, when the
        bearer is the page's edit token: the API's limits are per account, not per token."""
        path = _page_path(page_id)
        response = await self._send("GET", path, token, account=account)
        return self._page(response, f"GET {path}", [token])

    async def get_calendars(self, page_id: int, token: SecretStr) -> list[dict[str, Any]]:
        """``GET /manage/pages/{id}/calendars``: per account of the page, ``{id, name, email, calendars}``."""
        path = f"{_page_path(page_id)}/calendars"
        response = await self._send("GET", path, token)
        accounts = self._json(response, f"GET {path}")
        if not (isinstance(accounts, list) and all(isinstance(a, dict) and "id" in a for a in accounts)):
            raise ApiError(f"GET {path}: unexpected response", status=response.status_code)
        return accounts

    async def update_page(
        self,
        page_id: int,
        token: SecretStr,
        *,
        name: str | None,
        slug: str,
        config: model.Config | Mapping[str, Any],
        access_tokens: Sequence[SecretStr] | None = None,
    ) -> model.Page:
        """``PUT /manage/pages/{id}`` with the complete slug and config (and name unless ``None``).

        Sending everything is correct whether the server merges or replaces; ``access_tokens`` is
        sent only when given (changing the page's hosts).
        """
        path = _page_path(page_id)
        update = model.PageUpdate(
            name=name,
            slug=slug,
            config=_config(config),
            access_tokens=list(access_tokens) if access_tokens is not None else None,
        )
        body = update.model_dump(mode="json", context=model.WIRE, exclude_none=True)
        body["config"] = model.dump_config(update.config or model.Config())  # present even if empty
        secrets = [token, *(access_tokens or [])]
        response = await self._send("PUT", path, token, body=body, secrets=secrets)
        return self._page(response, f"PUT {path}", secrets)

    async def delete_page(self, page_id: int, token: SecretStr) -> None:
        """``DELETE /manage/pages/{id}``; `NotFound` when the page did not exist.

        A 404 after an earlier attempt that may have been processed counts as success.
        """
        await self._send("DELETE", _page_path(page_id), token, gone_ok_after_ambiguous=True)

    async def list_pages(self, access_token: SecretStr) -> list[model.Page]:
        """Every page of the account behind ``access_token``, in server order, without duplicates."""
        return await read_to_end(self.page_batches(access_token), lambda page: page.id)

    async def page_batches(
        self, access_token: SecretStr, keep: Container[Any] | None = None
    ) -> AsyncGenerator[list[model.Page], None]:
        """The account's list one request at a time (`list_batch` at offsets 0, 100, ...) until a short
        answer: per answer, its pages whose id is in ``keep`` (all without it). An answer that starts
        with the page the previous one started with (a server ignoring ``offset``: the list would never
        end) is an error, as v3's repeated cursor is. The caller may stop early."""
        offset, first = 0, None
        while True:
            batch = await self.list_batch(access_token, offset, keep)
            if batch.first is not None and batch.first == first:
                raise ApiError(f"GET {PAGES_PATH}?offset={offset}&limit={LIST_LIMIT}: unexpected response (the same "
                               f"pages as at offset {offset - LIST_LIMIT}: the server ignores offset)", status=200)
            yield batch.pages
            if batch.size < LIST_LIMIT:
                return
            offset, first = offset + LIST_LIMIT, batch.first

    async def list_batch(self, access_token: SecretStr, offset: int, keep: Container[Any] | None = None) -> Batch:
        """``GET /manage/pages?offset=&limit=100`` with the account's ``access_token`` (the account the
        rate limiter charges): the pages of that slice whose id is in ``keep`` (all without it), how
        many the answer held (fewer than `LIST_LIMIT`: the list ends here) and its first page's id.
        Pages left out by ``keep`` are never validated: listing an account of many other pages costs no
        model per page."""
        params = {"offset": offset, "limit": LIST_LIMIT}
        where = f"GET {PAGES_PATH}?offset={offset}&limit={LIST_LIMIT}"
        response = await self._send("GET", PAGES_PATH, access_token, where=where, params=params)
        return self._page_list(response, where, [access_token], keep)

    async def count_pages(self, access_token: SecretStr) -> int | None:
        """``GET /manage/pages?view=count``: how many pages the account's list holds (one request,
        charged to the account); None when the server refuses the view (HTTP 400) or ignores it (it
        answers the list itself: the caller then lists batch by batch)."""
        where = f"GET {PAGES_PATH}?view=count"
        try:
            response = await self._send("GET", PAGES_PATH, access_token, where=where, params={"view": "count"})
        except ApiError as exc:
            if exc.status == 400:
                return None
            raise
        data = self._json(response, where)
        if isinstance(data, list):
            return None
        count = data.get("count") if isinstance(data, dict) else None
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            raise ApiError(f"{where}: unexpected response (expected {{\"count\": N}})", status=response.status_code)
        return count

    async def find_by_slug(self, access_tokens: Sequence[SecretStr], slug: str) -> model.Page | None:
        """The page with ``slug`` among the pages of any of ``access_tokens`` (tried in order), or None.

        This is how a create with an unknown outcome is resolved: a page found here was created.
        """
        for token in access_tokens:
            for page in await self.list_pages(token):
                if page.slug == slug:
                    return page
        return None

    # --- the one request loop (provisioner.apis.http) --------------------------------------------

    async def _send(
        self,
        method: str,
        path: str,
        token: SecretStr,
        *,
        where: str | None = None,
        body: dict[str, Any] | None = None,
        params: Params | None = None,
        secrets: Sequence[SecretStr] = (),
        gone_ok_after_ambiguous: bool = False,
        account: SecretStr | None = None,
    ) -> httpx.Response:
        """Send one logical request with retries (`HttpClient.send`) with ``token`` as the bearer.

        ``where`` names the request in messages (default ``"METHOD path"``); ``account`` is the
        account the rate limiter charges (default: the token's).
        """
        where = where or f"{method} {path}"
        bad = model.token_problem(token.get_secret_value())
        if bad:  # httpx and h11 would refuse the header with an error quoting it
            raise ApiError(f"{where}: {bad}")
        return await self.send(
            method, path, auth=f"Bearer {token.get_secret_value()}", rate_key=account or token, where=where,
            secrets=[token, *secrets], body=body, params=params, gone_ok_after_ambiguous=gone_ok_after_ambiguous,
        )

    def failure(self, response: httpx.Response) -> tuple[str, str | None]:
        return _failure(response)

    # --- translation -----------------------------------------------------------------------------

    @staticmethod
    def _json(response: httpx.Response, where: str) -> Any:
        return json_of(response, where)

    def _page(self, response: httpx.Response, where: str, secrets: Sequence[SecretStr]) -> model.Page:
        # Parsed and validated in one pass by pydantic-core (the hot path of a plan: one per page).
        try:
            return model.Page.model_validate_json(response.content)
        except ValidationError as exc:
            if not any(error["type"] == "json_invalid" for error in exc.errors(include_input=False)):
                raise _unexpected(response, where, exc, secrets) from None
        # Not JSON to pydantic-core: Python's reader decides (another charset, NaN), as it always did.
        data = self._json(response, where)
        try:
            return model.Page.model_validate(data)
        except ValidationError as exc:
            raise _unexpected(response, where, exc, secrets) from None

    def _page_list(
        self, response: httpx.Response, where: str, secrets: Sequence[SecretStr], keep: Container[Any] | None = None
    ) -> Batch:
        data = self._json(response, where)
        if not isinstance(data, list):
            raise ApiError(
                f"{where}: unexpected response (expected a JSON array of pages, got {type(data).__name__})",
                status=response.status_code,
            )
        kept = data if keep is None else [item for item in data if isinstance(item, dict) and _id_of(item) in keep]
        try:
            pages = [model.Page.model_validate(item) for item in kept]
        except ValidationError as exc:
            raise _unexpected(response, where, exc, secrets) from None
        return Batch(pages, len(data), _id_of(data[0]) if data and isinstance(data[0], dict) else None)


def _id_of(item: dict[str, Any]) -> int | None:
    """A listed page's id as the model reads it (an int, or a string of ASCII digits), before validation;
    None for anything else (``str.isdigit`` alone accepts ``"²"``, which ``int`` refuses)."""
    value = item.get("id")
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return int(value) if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 19 else None


def _page_path(page_id: int) -> str:
    # An int keeps the path (and so every message) free of anything a caller did not mean to send.
    return f"{PAGES_PATH}/{int(page_id)}"


def _config(config: model.Config | Mapping[str, Any]) -> model.Config:
    return config if isinstance(config, model.Config) else model.Config.model_validate(config)


def _failure(response: httpx.Response) -> tuple[str, str | None]:
    """An error answer as text (``HTTP 409 conflict: message``) and the API's ``type``.

    Reads the API's ``{"message", "type"}`` body, tolerating any other (a proxy's HTML page).
    """
    try:
        data = response.json()
    except ValueError:
        data = None
    if not isinstance(data, dict):
        data = {}
    message, kind = data.get("message"), data.get("type")
    message = message if isinstance(message, str) else None
    kind = kind if isinstance(kind, str) else None
    return failure_text(response.status_code, kind, message), kind


def _unexpected(
    response: httpx.Response, where: str, exc: ValidationError, secrets: Sequence[SecretStr]
) -> ApiError:
    # errors(include_input=False): the input is the page, whose edit_token must not be printed.
    problems = [
        f"{'.'.join(str(part) for part in error['loc']) or '(root)'}: {error['msg']}"
        for error in exc.errors(include_input=False, include_url=False)
    ]
    shown = "; ".join(problems[:3]) + (f"; and {len(problems) - 3} more" if len(problems) > 3 else "")
    return ApiError(
        scrub(f"{where}: unexpected response (not a valid page: {shown})", secrets),
        status=response.status_code,
    )
