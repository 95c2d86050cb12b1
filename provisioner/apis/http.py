"""The HTTP core both API clients share: one retry loop, one attempt, deadlines, limits, scrubbing.

`HttpClient` is the base of `provisioner.apis.nylas_v2.client.SchedulerClient` and
`provisioner.apis.nylas_v3.client.ConfigurationsClient`; what differs between the APIs (the bearer,
the error body, which answers are typed errors) is theirs, passed in or overridden:

- `HttpClient.send` sends one logical request: retries with jittered backoff (`provisioner.retry`),
  ``Retry-After`` honoured, the attempt and total deadlines (`Budget`), the optional rate limiter
  (`provisioner.ratelimit`) taken before a parallelism slot, a create (``POST``) never re-sent once
  it may have been processed (`OutcomeUnknown`), and a DELETE's 404 after an ambiguous attempt
  counted as success. The contract is the v2 client's module docstring, which both clients follow.
- A subclass says how an error answer reads (`HttpClient.failure`: text and the API's ``type``) and
  which `ApiError` class it becomes (`HttpClient.error_class`); ``noun`` names what a create makes
  (in the "outcome unknown" message).
- `scrub` removes every secret from a message, whatever a server echoed; every message leaving
  `send` has been through it.
"""

from __future__ import annotations

import asyncio
import os
import random
import ssl
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Self

import httpx
from pydantic import SecretStr

from provisioner.errors import ApiError, DeadlineExceeded, NotFound, OutcomeUnknown, ProvisionerError
from provisioner.ratelimit import RateLimiter, RateLimits
from provisioner.retry import ATTEMPT_DEADLINE, REQUEST_DEADLINE, Budget, RetryPolicy

# Raised before any byte of the request left this process: even a create may be retried.
NEVER_SENT: tuple[type[Exception], ...] = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# Transient transport trouble worth another attempt (for requests that may be retried at all).
# Others (UnsupportedProtocol, LocalProtocolError, ProxyError) will fail the same way again.
TRANSIENT: tuple[type[Exception], ...] = (
    httpx.TimeoutException,
    httpx.NetworkError,
    httpx.RemoteProtocolError,
)
MASK = "**********"

Params = Mapping[str, int | str]


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


def _tls(base_url: str) -> ssl.SSLContext | bool:
    """httpx's default TLS settings (the system's trusted CAs) for an https API. A plain-http one (the
    emulator on loopback) never uses TLS: every request is under ``base_url`` and redirects are not
    followed. There, a context that trusts no certificate (so any TLS would fail closed) spares loading
    every CA, ~40 ms before the first request."""
    return True if httpx.URL(base_url).scheme == "https" else ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


def _proxy_variables() -> str:
    """The proxy variables set (names only: their values may hold a password)."""
    names = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")
    return ", ".join(n for n in (*names, *(n.lower() for n in names)) if os.environ.get(n)) or "none set"


class HttpClient:
    """An ``httpx.AsyncClient`` with the shared retry loop (see the module docstring).

    ``sleep`` and ``rng`` are injected so that tests run the retry logic without waiting and with
    reproducible jitter. ``limits`` builds a `RateLimiter` on the real clock; pass ``limiter``
    instead to share one or to inject its clock. ``timeout`` is httpx's (per connect, read, write);
    ``attempt_deadline`` and ``deadline`` bound a whole attempt and a whole request (``None`` turns
    one off).
    """

    noun = "page"
    """What a create makes, in the "outcome unknown" message."""

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
        try:
            self._http = httpx.AsyncClient(
                base_url=base_url,
                transport=transport,
                timeout=timeout,
                # At most `parallelism` attempts are in flight, so as many kept-alive connections serve every
                # one of them (httpx's default of 20 would reconnect for each request above 20).
                limits=httpx.Limits(max_connections=None, max_keepalive_connections=parallelism),
                follow_redirects=False,
                verify=_tls(base_url),
                headers={"Accept": "application/json", "User-Agent": "provisioner"},
            )
        except ImportError as exc:  # a SOCKS proxy needs httpx's extra socksio
            raise ProvisionerError(f"the proxy set in the environment ({_proxy_variables()}) cannot be used: "
                                   f"{exc}") from None
        except (ValueError, httpx.InvalidURL):  # a proxy URL httpx cannot parse (not repeated: it may hold a password)
            raise ProvisionerError(f"the proxy set in the environment ({_proxy_variables()}) is not a proxy URL "
                                   f"such as http://HOST:PORT") from None
        except OSError as exc:  # the certificates SSL_CERT_FILE or SSL_CERT_DIR name cannot be read
            named = ", ".join(f"{v}={os.environ[v]}" for v in ("SSL_CERT_FILE", "SSL_CERT_DIR") if v in os.environ)
            raise ProvisionerError(f"cannot load the trusted certificates ({named or 'the system store'}): "
                                   f"{exc.strerror or exc}") from None
        # What AsyncClient.build_request would merge into every request, merged once (a plan's hot path).
        self._root = str(self._http.base_url).rstrip("/") + "/"
        self._headers = list(self._http.headers.raw)
        self._timeout = self._http.timeout.as_dict()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.base_url!r}, parallelism={self.parallelism})"

    async def __aenter__(self) -> Self:
        await self._http.__aenter__()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # --- what each API says differently ----------------------------------------------------------

    def failure(self, response: httpx.Response) -> tuple[str, str | None]:
        """An error answer as text (``HTTP 409 conflict: message``) and the API's ``type``."""
        return f"HTTP {response.status_code} {httpx.codes.get_reason_phrase(response.status_code)}", None

    def error_class(self, response: httpx.Response, kind: str | None, text: str) -> type[ApiError]:
        """The error a final, non-retried error answer becomes (`NotFound` for a 404)."""
        return NotFound if response.status_code == 404 else ApiError

    # --- the one request loop --------------------------------------------------------------------

    async def send(
        self,
        method: str,
        path: str,
        *,
        auth: str,
        rate_key: SecretStr,
        where: str,
        secrets: Sequence[SecretStr],
        body: Any = None,
        params: Params | None = None,
        gone_ok_after_ambiguous: bool = False,
    ) -> httpx.Response:
        """Send one logical request with retries; the 2xx response (or, with
        ``gone_ok_after_ambiguous``, the 404 that shows an earlier attempt succeeded).

        ``auth`` is the ``Authorization`` header's value, ``rate_key`` the account the rate limiter
        charges, ``where`` names the request in messages, ``secrets`` are scrubbed from every message.
        """
        create = method == "POST"
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
                await self.limiter.acquire(rate_key)  # outside the parallelism slot: see module docs
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
                failure = describe(exc)
                never_sent = isinstance(exc, NEVER_SENT)
                if create and not never_sent:
                    raise self._unknown(where, failure, secrets) from None
                if not isinstance(exc, TRANSIENT):
                    raise ApiError(scrub(f"{where}: {failure}", secrets)) from None
                ambiguous = ambiguous or not never_sent
                last_failure, last_status, last_type, retry_headers = failure, None, None, None
                continue
            except httpx.HTTPError as exc:  # decoding errors and the like: not worth retrying
                raise ApiError(scrub(f"{where}: {describe(exc)}", secrets)) from None

            status = response.status_code
            if self.limiter is not None:
                self.limiter.observe(rate_key, status, response.headers)
            if 200 <= status < 300:
                return response
            if status == 404 and gone_ok_after_ambiguous and ambiguous:
                return response
            if self.retry.retries_status(status):
                last_failure, kind = self._failure(response, secrets)
                if create and status != 429:
                    raise self._unknown(where, last_failure, secrets, status=status)
                ambiguous = ambiguous or status != 429
                last_status, last_type, retry_headers = status, kind, response.headers
                continue
            raise self._error(response, where, secrets)

        raise ApiError(
            scrub(f"{where}: gave up after {self.retry.max_attempts} attempt(s); last: {last_failure}", secrets),
            status=last_status,
            type=last_type,
        )

    def _request(self, method: str, path: str, auth: str, body: Any, params: Params | None) -> httpx.Request:
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
                    response = await self._http.send(request)
            except TimeoutError:
                if scope.expired():
                    raise _Expired(limit or 0.0) from None
                raise
            finally:
                budget.spent += loop.time() - started
                self._in_flight -= 1
        if method == "GET":  # a read's answer can wait one turn (a write's is recorded at once)
            # The request waiting for this slot goes out before this answer is decoded and compared: at 16
            # requests in flight, each answer's work would otherwise delay the next request of its slot.
            await asyncio.sleep(0)
        return response

    async def _backoff(self, delay: float) -> None:
        self.stats.retries += 1
        self.stats.backoff_seconds += delay
        await self._sleep(delay)

    # --- translation -----------------------------------------------------------------------------

    def _unknown(
        self, where: str, failure: str, secrets: Sequence[SecretStr], *, status: int | None = None
    ) -> OutcomeUnknown:
        return OutcomeUnknown(
            scrub(f"{where}: outcome unknown after {failure}; the {self.noun} may or may not have been "
                  "created (look it up by slug before creating it again)", secrets),
            status=status,
        )

    @staticmethod
    def _late(
        where: str, budget: Budget, attempts: int, last_failure: str, secrets: Sequence[SecretStr],
        status: int | None, kind: str | None,
    ) -> DeadlineExceeded:
        return DeadlineExceeded(
            scrub(f"{where}: no answer within the {budget.total:g} s deadline ({attempts} attempt(s); "
                  f"last: {last_failure})", secrets),
            status=status,
            type=kind,
        )

    def _failure(self, response: httpx.Response, secrets: Sequence[SecretStr]) -> tuple[str, str | None]:
        """`failure`, scrubbed: the API's ``type`` is carried by the error, so it is a message too."""
        failure, kind = self.failure(response)
        return scrub(failure, secrets), (scrub(kind, secrets) if kind is not None else None)

    def _error(self, response: httpx.Response, where: str, secrets: Sequence[SecretStr]) -> ApiError:
        failure, kind = self._failure(response, secrets)
        text = scrub(f"{where}: {failure}", secrets)
        return self.error_class(response, kind, failure)(text, status=response.status_code, type=kind)


def json_of(response: httpx.Response, where: str) -> Any:
    """The response's JSON, or `ApiError` ("unexpected response") when it is not JSON."""
    try:
        return response.json()
    except ValueError:
        raise ApiError(
            f"{where}: unexpected response (HTTP {response.status_code}, not JSON)",
            status=response.status_code,
        ) from None


def failure_text(status: int, kind: str | None, message: str | None) -> str:
    """``HTTP 409 conflict: message`` (the reason phrase when the API gave no message)."""
    text = f"HTTP {status}" + (f" {kind}" if kind else "")
    return text + (f": {message}" if message else f" {httpx.codes.get_reason_phrase(status)}")


def describe(exc: Exception) -> str:
    text = str(exc).rstrip(".")
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def scrub(text: str, secrets: Sequence[SecretStr]) -> str:
    """Defence in depth: no message leaves here with a secret in it, whatever a server echoed."""
    for secret in secrets:
        value = secret.get_secret_value()
        if value:
            text = text.replace(value, MASK)
    return text
