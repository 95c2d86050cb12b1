"""The Scheduler API client: the only code in provisioner that speaks HTTP.

One async implementation on `httpx.AsyncClient`; the transport is the I/O seam (a real network, an
``httpx.ASGITransport`` around the embedded emulator, an ``httpx.MockTransport`` in tests).

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

import asyncio
import random
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
from pydantic import SecretStr, ValidationError

from provisioner.apis.nylas_v2 import model
from provisioner.errors import ApiError, DeadlineExceeded, NotFound, OutcomeUnknown
from provisioner.ratelimit import RateLimiter, RateLimits
from provisioner.retry import ATTEMPT_DEADLINE, REQUEST_DEADLINE, Budget, RetryPolicy

PAGES_PATH = "/manage/pages"
LIST_LIMIT = 100
"""Page size when listing; the list ends at the first short page (as the official SDKs do)."""

# Raised before any byte of the request left this process: even a create may be retried.
_NEVER_SENT: tuple[type[Exception], ...] = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# Transient transport trouble worth another attempt (for requests that may be retried at all).
# Others (UnsupportedProtocol, LocalProtocolError, ProxyError) will fail the same way again.
_TRANSIENT: tuple[type[Exception], ...] = (
    httpx.TimeoutException,
    httpx.NetworkError,
    httpx.RemoteProtocolError,
)
_MASK = "**********"

class _Expired(Exception):
    """An attempt ran past its deadline (``seconds``); never leaves this module."""

    def __init__(self, seconds: float) -> None:
        super().__init__(seconds)
        self.seconds = seconds


@dataclass
class ClientStats:
    """Counters for benchmarks and debugging; only ever incremented."""

    requests: int = 0
    """HTTP attempts sent (every retry counts)."""
    by_method: dict[str, int] = field(default_factory=dict)
    retries: int = 0
    """Attempts that were a retry of an earlier one."""
    backoff_seconds: float = 0.0
    """Total time spent (or asked to be spent) sleeping between attempts."""
    peak_in_flight: int = 0


class SchedulerClient:
    """Async client of the Scheduler API's page-management endpoints (see the module docstring).

    Use as ``async with SchedulerClient(url) as client: ...``. ``sleep`` and ``rng`` are injected so
    that tests run the retry logic without waiting and with reproducible jitter. ``limits`` builds a
    `RateLimiter` on the real clock; pass ``limiter`` instead to share one or to inject its clock.
    ``timeout`` is httpx's (per connect, read, write); ``attempt_deadline`` and ``deadline`` bound a
    whole attempt and a whole request (see the module docstring; ``None`` turns one off).
    """

    def __init__(
        self,
        base_url: str,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        parallelism: int = 8,
        timeout: httpx.Timeout | float = 30.0,
        retry: RetryPolicy = RetryPolicy(),  # noqa: B008 - frozen, so a shared default is safe
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
        limits: RateLimits | None = None,
        limiter: RateLimiter | None = None,
        attempt_deadline: float | None = ATTEMPT_DEADLINE,
        deadline: float | None = REQUEST_DEADLINE,
    ):
        if parallelism < 1:
            raise ValueError(f"parallelism must be at least 1, got {parallelism}")
        for name, value in (("attempt_deadline", attempt_deadline), ("deadline", deadline)):
            if value is not None and not value > 0:
                raise ValueError(f"{name} must be a positive number of seconds or None, got {value!r}")
        if limits is not None and limiter is not None:
            raise ValueError("give limits or a limiter, not both")
        self.limiter = limiter if limits is None else RateLimiter(limits)
        self.base_url = base_url
        self.parallelism = parallelism
        self.retry = retry
        self.attempt_deadline = attempt_deadline
        self.deadline = deadline
        self.stats = ClientStats()
        self._sleep = sleep
        self._rng = rng if rng is not None else random.Random()
        self._slots = asyncio.Semaphore(parallelism)
        self._in_flight = 0
        self._http = httpx.AsyncClient(
            base_url=base_url,
            transport=transport,
            timeout=timeout,
            # At most `parallelism` attempts are in flight, so as many kept-alive connections serve every
            # one of them (httpx's default of 20 would reconnect for each request above 20).
            limits=httpx.Limits(max_connections=None, max_keepalive_connections=parallelism),
            follow_redirects=False,
            headers={"Accept": "application/json", "User-Agent": "provisioner"},
        )
        # What AsyncClient.build_request would merge into every request, merged once (a plan's hot path).
        self._root = str(self._http.base_url).rstrip("/") + "/"
        self._headers = list(self._http.headers.raw)
        self._timeout = self._http.timeout.as_dict()

    def __repr__(self) -> str:
        return f"SchedulerClient({self.base_url!r}, parallelism={self.parallelism})"

    async def __aenter__(self) -> SchedulerClient:
        await self._http.__aenter__()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

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
        """Every page of the account behind ``access_token``, in server order, without duplicates.

        Pages through ``GET /manage/pages?offset=&limit=100`` until a short page.
        """
        pages: dict[int, model.Page] = {}
        offset = 0
        while True:
            params = {"offset": offset, "limit": LIST_LIMIT}
            where = f"GET {PAGES_PATH}?offset={offset}&limit={LIST_LIMIT}"
            response = await self._send("GET", PAGES_PATH, access_token, where=where, params=params)
            batch = self._page_list(response, where, [access_token])
            for page in batch:
                # A page created or deleted meanwhile shifts offsets; keep the first copy.
                pages.setdefault(page.id, page)
            if len(batch) < LIST_LIMIT:
                return list(pages.values())
            offset += LIST_LIMIT

    async def find_by_slug(self, access_tokens: Sequence[SecretStr], slug: str) -> model.Page | None:
        """The page with ``slug`` among the pages of any of ``access_tokens`` (tried in order), or None.

        This is how a create with an unknown outcome is resolved: a page found here was created.
        """
        for token in access_tokens:
            for page in await self.list_pages(token):
                if page.slug == slug:
                    return page
        return None

    # --- the one request loop --------------------------------------------------------------------

    async def _send(
        self,
        method: str,
        path: str,
        token: SecretStr,
        *,
        where: str | None = None,
        body: dict[str, Any] | None = None,
        params: Mapping[str, int] | None = None,
        secrets: Sequence[SecretStr] = (),
        gone_ok_after_ambiguous: bool = False,
        account: SecretStr | None = None,
    ) -> httpx.Response:
        """Send one logical request with retries; the 2xx response (or, with
        ``gone_ok_after_ambiguous``, the 404 that shows an earlier attempt succeeded).

        ``where`` names the request in messages (default ``"METHOD path"``).
        """
        where = where or f"{method} {path}"
        secrets = [token, *secrets]
        create = method == "POST"
        bad = model.token_problem(token.get_secret_value())
        if bad:  # httpx and h11 would refuse the header with an error quoting it
            raise ApiError(f"{where}: {bad}")
        auth = f"Bearer {token.get_secret_value()}"
        ambiguous = False  # an earlier attempt may have been processed
        last_failure = ""
        last_status: int | None = None
        last_type: str | None = None
        retry_headers: httpx.Headers | None = None
        budget = Budget(self.attempt_deadline, self.deadline)
        for attempt in range(self.retry.max_attempts):
            if attempt:
                delay = self.retry.delay(attempt - 1, self._rng, headers=retry_headers)
                if budget.exhausted(delay):
                    raise self._late(where, budget, attempt, last_failure, secrets, last_status, last_type)
                await self._backoff(delay)
                budget.spent += delay
            if self.limiter is not None:
                await self.limiter.acquire(account or token)  # outside the parallelism slot: see module docs
            try:
                response = await self._attempt(self._request(method, path, auth, body, params), budget)
            except _Expired as exc:
                failure = f"no complete answer within {exc.seconds:g} s"
                if create:
                    raise self._unknown(where, failure, secrets) from None
                ambiguous = True
                last_failure, last_status, last_type, retry_headers = failure, None, None, None
                if budget.exhausted():
                    raise self._late(where, budget, attempt + 1, last_failure, secrets, None, None) from None
                continue
            except httpx.TransportError as exc:
                failure = _describe(exc)
                never_sent = isinstance(exc, _NEVER_SENT)
                if create and not never_sent:
                    raise self._unknown(where, failure, secrets) from None
                if not isinstance(exc, _TRANSIENT):
                    raise ApiError(_scrub(f"{where}: {failure}", secrets)) from None
                ambiguous = ambiguous or not never_sent
                last_failure, last_status, last_type, retry_headers = failure, None, None, None
                continue
            except httpx.HTTPError as exc:  # decoding errors and the like: not worth retrying
                raise ApiError(_scrub(f"{where}: {_describe(exc)}", secrets)) from None

            status = response.status_code
            if self.limiter is not None:
                self.limiter.observe(account or token, status, response.headers)
            if 200 <= status < 300:
                return response
            if status == 404 and gone_ok_after_ambiguous and ambiguous:
                return response
            if self.retry.retries_status(status):
                last_failure, kind = _failure(response)
                if create and status != 429:
                    raise self._unknown(where, last_failure, secrets, status=status)
                ambiguous = ambiguous or status != 429
                last_status, last_type, retry_headers = status, kind, response.headers
                continue
            raise self._error(response, where, secrets)

        raise ApiError(
            _scrub(f"{where}: gave up after {self.retry.max_attempts} attempt(s); last: {last_failure}",
                   secrets),
            status=last_status,
            type=last_type,
        )

    def _request(
        self, method: str, path: str, auth: str, body: dict[str, Any] | None, params: Mapping[str, int] | None
    ) -> httpx.Request:
        """The request `AsyncClient.build_request` would build, without re-merging the client's defaults."""
        request = httpx.Request(
            method,
            self._root + path.lstrip("/"),
            json=body,
            params=params,
            headers=[*self._headers, (b"Authorization", auth.encode())],
            extensions={"timeout": self._timeout},
        )
        if self._http.cookies.jar:  # a server's cookies go back to it, as AsyncClient would send them
            self._http.cookies.set_cookie_header(request)
        return request

    async def _attempt(self, request: httpx.Request, budget: Budget) -> httpx.Response:
        """One HTTP exchange inside a parallelism slot, within the budget's attempt deadline; the time
        it takes (not the wait for the slot) is charged to the budget. `_Expired` past the deadline."""
        async with self._slots:
            self.stats.requests += 1
            method = request.method
            self.stats.by_method[method] = self.stats.by_method.get(method, 0) + 1
            self._in_flight += 1
            self.stats.peak_in_flight = max(self.stats.peak_in_flight, self._in_flight)
            loop = asyncio.get_running_loop()
            limit = budget.for_attempt()
            started = loop.time()
            try:
                async with asyncio.timeout(limit) as scope:
                    # Not streamed: the body is read here, so read errors happen inside the slot too.
                    return await self._http.send(request)
            except TimeoutError:
                if scope.expired():
                    raise _Expired(limit or 0.0) from None
                raise
            finally:
                budget.spent += loop.time() - started
                self._in_flight -= 1

    async def _backoff(self, delay: float) -> None:
        self.stats.retries += 1
        self.stats.backoff_seconds += delay
        await self._sleep(delay)

    # --- translation -----------------------------------------------------------------------------

    @staticmethod
    def _unknown(
        where: str, failure: str, secrets: Sequence[SecretStr], *, status: int | None = None
    ) -> OutcomeUnknown:
        return OutcomeUnknown(
            _scrub(f"{where}: outcome unknown after {failure}; the page may or may not have been "
                   "created (look it up by slug before creating it again)", secrets),
            status=status,
        )

    @staticmethod
    def _late(
        where: str, budget: Budget, attempts: int, last_failure: str, secrets: Sequence[SecretStr],
        status: int | None, kind: str | None,
    ) -> DeadlineExceeded:
        return DeadlineExceeded(
            _scrub(f"{where}: no answer within the {budget.total:g} s deadline ({attempts} attempt(s); "
                   f"last: {last_failure})", secrets),
            status=status,
            type=kind,
        )

    @staticmethod
    def _error(response: httpx.Response, where: str, secrets: Sequence[SecretStr]) -> ApiError:
        failure, kind = _failure(response)
        text = _scrub(f"{where}: {failure}", secrets)
        cls = NotFound if response.status_code == 404 else ApiError
        return cls(text, status=response.status_code, type=kind)

    @staticmethod
    def _json(response: httpx.Response, where: str) -> Any:
        try:
            return response.json()
        except ValueError:
            raise ApiError(
                f"{where}: unexpected response (HTTP {response.status_code}, not JSON)",
                status=response.status_code,
            ) from None

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
        self, response: httpx.Response, where: str, secrets: Sequence[SecretStr]
    ) -> list[model.Page]:
        data = self._json(response, where)
        if not isinstance(data, list):
            raise ApiError(
                f"{where}: unexpected response (expected a JSON array of pages, got {type(data).__name__})",
                status=response.status_code,
            )
        try:
            return [model.Page.model_validate(item) for item in data]
        except ValidationError as exc:
            raise _unexpected(response, where, exc, secrets) from None


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
    text = f"HTTP {response.status_code}" + (f" {kind}" if kind else "")
    text += f": {message}" if message else f" {httpx.codes.get_reason_phrase(response.status_code)}"
    return text, kind


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
        _scrub(f"{where}: unexpected response (not a valid page: {shown})", secrets),
        status=response.status_code,
    )


def _describe(exc: Exception) -> str:
    text = str(exc).rstrip(".")
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _scrub(text: str, secrets: Sequence[SecretStr]) -> str:
    """Defence in depth: no message leaves here with a token in it, whatever a server echoed."""
    for secret in secrets:
        value = secret.get_secret_value()
        if value:
            text = text.replace(value, _MASK)
    return text
