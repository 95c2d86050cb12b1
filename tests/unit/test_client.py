"""The HTTP client against `httpx.MockTransport`: auth, bodies, retries, concurrency, error translation.

Deterministic: a fake sleep records the backoff delays instead of waiting, the jitter comes from a
seeded rng, and concurrency is observed with asyncio events inside the mock server.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from provisioner.apis.nylas_v2 import model
from provisioner.apis.nylas_v2.client import LIST_LIMIT, SchedulerClient
from provisioner.errors import ApiError, NotFound, OutcomeUnknown
from provisioner.retry import RetryPolicy

BASE = "http://scheduler.test"
TOKEN = "tok-SECRET-4f9a1c7e2b"  # distinctive: scanned for in every error
TOKEN_B = "tok-SECRET-bravo-88d1e0"
EDIT = "editSECRET7b3c9d0e1f2a3b4c5d6e7f80"
PAGE_ID = 4242

Handler = Callable[[httpx.Request], Awaitable[httpx.Response] | httpx.Response]


def page_json(page_id: int = PAGE_ID, slug: str = "sales-demo", **extra: Any) -> dict[str, Any]:
    page = {
        "id": page_id,
        "edit_token": EDIT,
        "name": "Sales demo",
        "slug": slug,
        "config": {"timezone": "Europe/Paris", "event": {"duration": 30}},
        "access_token_infos": [{"account_email": "host@example.com", "account_name": "Host"}],
        "app_client_id": "client",
        "app_organization_id": 1,
        "created_at": "2024-05-01",
        "modified_at": "2024-05-02",
    }
    page.update(extra)
    return page


class FakeSleep:
    """Records each backoff delay and returns at once."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


class CeilingRng(random.Random):
    def uniform(self, a: float, b: float) -> float:
        return b


class Server:
    """A scripted mock API: answers come from a queue of steps (a Response, an exception, or a
    callable), then from ``default``; every request is recorded."""

    def __init__(self, *steps: Any, default: Any = None) -> None:
        self.steps = list(steps)
        self.default = default
        self.requests: list[httpx.Request] = []

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        step = self.steps.pop(0) if self.steps else self.default
        if callable(step):
            step = step(request)
            if asyncio.iscoroutine(step):
                step = await step
        if isinstance(step, BaseException):
            raise step
        assert isinstance(step, httpx.Response), f"no answer scripted for {request.method} {request.url}"
        return step

    @property
    def methods(self) -> list[str]:
        return [r.method for r in self.requests]


def ok(data: Any = None, status: int = 200, **headers: str) -> httpx.Response:
    return httpx.Response(status, json=page_json() if data is None else data, headers=headers)


def fail(status: int, message: str = "boom", type: str = "api_error", **headers: str) -> httpx.Response:
    return httpx.Response(status, json={"message": message, "type": type}, headers=headers)


def client_for(handler: Handler, **kwargs: Any) -> SchedulerClient:
    kwargs.setdefault("sleep", FakeSleep())
    kwargs.setdefault("rng", random.Random(7))
    return SchedulerClient(BASE, transport=httpx.MockTransport(handler), **kwargs)


def run(handler: Handler, call: Callable[[SchedulerClient], Awaitable[Any]], **kwargs: Any) -> Any:
    async def main() -> Any:
        async with client_for(handler, **kwargs) as client:
            return await call(client)

    return asyncio.run(main())


def raises(handler: Handler, call: Callable[[SchedulerClient], Awaitable[Any]], **kwargs: Any) -> ApiError:
    with pytest.raises(ApiError) as info:
        run(handler, call, **kwargs)
    return info.value


def tok(value: str = TOKEN) -> SecretStr:
    return SecretStr(value)


def get(client: SchedulerClient) -> Awaitable[model.Page]:
    return client.get_page(PAGE_ID, tok(EDIT))


def create(client: SchedulerClient) -> Awaitable[model.Page]:
    return client.create_page([tok(), tok(TOKEN_B)], name="Sales demo", slug="sales-demo",
                              config={"timezone": "Europe/Paris"})


def delete(client: SchedulerClient) -> Awaitable[None]:
    return client.delete_page(PAGE_ID, tok(EDIT))


def put(client: SchedulerClient) -> Awaitable[model.Page]:
    return client.update_page(PAGE_ID, tok(EDIT), name="N", slug="sales-demo", config={})


REQ = httpx.Request("GET", BASE)  # httpx exceptions want a request; ours are raised in the mock


# --- requests on the wire --------------------------------------------------------------------------


def test_create_posts_the_tokens_and_config_with_the_first_token_as_bearer() -> None:
    server = Server(ok(status=201))
    page = run(server, create)
    (request,) = server.requests
    assert (request.method, request.url.path) == ("POST", "/manage/pages")
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert json.loads(request.content) == {
        "access_tokens": [TOKEN, TOKEN_B],
        "name": "Sales demo",
        "slug": "sales-demo",
        "config": {"timezone": "Europe/Paris"},
    }
    assert isinstance(page, model.Page) and page.id == PAGE_ID
    assert page.edit_token.get_secret_value() == EDIT


def test_create_accepts_a_config_model_and_omits_left_out_fields() -> None:
    server = Server(ok(status=201))
    config = model.Config(event=model.Event(duration=30))
    run(server, lambda c: c.create_page([tok()], name=None, slug="s", config=config))
    assert json.loads(server.requests[0].content) == {
        "access_tokens": [TOKEN], "slug": "s", "config": {"event": {"duration": 30}}}


def test_create_needs_a_token() -> None:
    with pytest.raises(ValueError):
        run(Server(), lambda c: c.create_page([], name=None, slug="s", config={}))


def test_get_uses_the_edit_token_and_the_page_path() -> None:
    server = Server(ok())
    page = run(server, get)
    (request,) = server.requests
    assert (request.method, request.url.path) == ("GET", f"/manage/pages/{PAGE_ID}")
    assert request.headers["authorization"] == f"Bearer {EDIT}"
    assert page.slug == "sales-demo" and page.config.event is not None


def test_update_always_sends_complete_name_slug_and_config() -> None:
    server = Server(ok())
    run(server, put)
    (request,) = server.requests
    assert (request.method, request.url.path) == ("PUT", f"/manage/pages/{PAGE_ID}")
    assert request.headers["authorization"] == f"Bearer {EDIT}"
    # An empty config is still sent, so that a replacing server resets it to defaults.
    assert json.loads(request.content) == {"name": "N", "slug": "sales-demo", "config": {}}


def test_update_sends_access_tokens_only_when_given() -> None:
    server = Server(ok())
    run(server, lambda c: c.update_page(PAGE_ID, tok(EDIT), name="N", slug="s",
                                        config={"locale": "fr"}, access_tokens=[tok(TOKEN_B)]))
    assert json.loads(server.requests[0].content) == {
        "name": "N", "slug": "s", "config": {"locale": "fr"}, "access_tokens": [TOKEN_B]}
    assert server.requests[0].headers["authorization"] == f"Bearer {EDIT}"


def test_delete() -> None:
    server = Server(ok({"success": True}))
    assert run(server, delete) is None
    assert (server.requests[0].method, server.requests[0].url.path) == ("DELETE", f"/manage/pages/{PAGE_ID}")


# --- listing ---------------------------------------------------------------------------------------


def paged_server(pages_by_token: dict[str, list[dict[str, Any]]]) -> Server:
    def answer(request: httpx.Request) -> httpx.Response:
        token = request.headers["authorization"].removeprefix("Bearer ")
        offset, limit = int(request.url.params["offset"]), int(request.url.params["limit"])
        return ok(pages_by_token.get(token, [])[offset:offset + limit])

    return Server(default=answer)


@pytest.mark.parametrize(("count", "requests"), [(0, 1), (7, 1), (LIST_LIMIT, 2), (230, 3)])
def test_list_pages_pages_until_a_short_page(count: int, requests: int) -> None:
    server = paged_server({TOKEN: [page_json(i, f"p-{i}") for i in range(count)]})
    pages = run(server, lambda c: c.list_pages(tok()))
    assert [p.id for p in pages] == list(range(count))
    assert [r.url.params["offset"] for r in server.requests] == [str(LIST_LIMIT * i) for i in range(requests)]
    assert {r.url.params["limit"] for r in server.requests} == {str(LIST_LIMIT)}
    assert {r.headers["authorization"] for r in server.requests} == {f"Bearer {TOKEN}"}


def test_list_pages_drops_a_page_repeated_by_shifting_offsets() -> None:
    first = [page_json(i, f"p-{i}") for i in range(LIST_LIMIT)]
    second = [page_json(LIST_LIMIT - 1, f"p-{LIST_LIMIT - 1}"), page_json(500, "late")]
    pages = run(Server(ok(first), ok(second)), lambda c: c.list_pages(tok()))
    assert [p.id for p in pages] == [*range(LIST_LIMIT), 500]


def test_find_by_slug_looks_through_each_token() -> None:
    server = paged_server({TOKEN: [page_json(1, "one")],
                           TOKEN_B: [page_json(2, "two"), page_json(3, "three")]})
    found = run(server, lambda c: c.find_by_slug([tok(), tok(TOKEN_B)], "three"))
    assert found is not None and found.id == 3
    assert [r.headers["authorization"] for r in server.requests] == [f"Bearer {TOKEN}", f"Bearer {TOKEN_B}"]


def test_find_by_slug_stops_at_the_first_match_and_returns_none_when_absent() -> None:
    server = paged_server({TOKEN: [page_json(1, "one")], TOKEN_B: [page_json(2, "one")]})
    assert run(server, lambda c: c.find_by_slug([tok(), tok(TOKEN_B)], "one")).id == 1
    assert len(server.requests) == 1
    assert run(server, lambda c: c.find_by_slug([tok(), tok(TOKEN_B)], "nope")) is None


# --- retries of idempotent requests ----------------------------------------------------------------


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
@pytest.mark.parametrize("call", [get, put, delete], ids=["GET", "PUT", "DELETE"])
def test_idempotent_requests_are_retried_on_retryable_statuses(status: int, call: Any) -> None:
    server = Server(fail(status), fail(status), ok())
    sleep = FakeSleep()
    run(server, call, sleep=sleep)
    assert len(server.requests) == 3 and len(set(server.methods)) == 1
    assert len(sleep.delays) == 2


@pytest.mark.parametrize(
    "error",
    [httpx.ReadTimeout("t", request=REQ), httpx.ConnectTimeout("t", request=REQ),
     httpx.ConnectError("refused", request=REQ), httpx.ReadError("reset", request=REQ),
     httpx.RemoteProtocolError("peer closed", request=REQ), httpx.WriteTimeout("t", request=REQ)],
    ids=lambda e: type(e).__name__,
)
@pytest.mark.parametrize("call", [get, put, delete], ids=["GET", "PUT", "DELETE"])
def test_idempotent_requests_are_retried_on_transport_errors(error: Exception, call: Any) -> None:
    server = Server(error, ok())
    run(server, call)
    assert len(server.requests) == 2


def test_client_errors_are_not_retried() -> None:
    for status in (400, 401, 403, 404, 409, 422):
        server = Server(fail(status), default=ok())
        raises(server, get)
        assert len(server.requests) == 1, status


def test_a_transport_error_that_will_not_go_away_is_not_retried() -> None:
    server = Server(httpx.UnsupportedProtocol("no such scheme", request=REQ), default=ok())
    error = raises(server, get)
    assert len(server.requests) == 1 and not isinstance(error, OutcomeUnknown)


def test_retry_after_seconds_is_honoured() -> None:
    sleep = FakeSleep()
    run(Server(fail(429, **{"Retry-After": "7"}), ok()), get, sleep=sleep)
    assert len(sleep.delays) == 1 and sleep.delays[0] >= 7.0


def test_retry_after_http_date_is_honoured() -> None:
    sleep = FakeSleep()
    answer = fail(503, **{"Retry-After": "Wed, 21 Oct 2015 07:28:12 GMT",
                          "Date": "Wed, 21 Oct 2015 07:28:00 GMT"})
    run(Server(answer, ok()), get, sleep=sleep)
    assert sleep.delays[0] >= 12.0


def test_max_attempts_then_an_error_with_the_last_answer() -> None:
    sleep = FakeSleep()
    server = Server(default=lambda r: fail(503, "overloaded", "service_unavailable"))
    error = raises(server, get, sleep=sleep)
    assert type(error) is ApiError
    assert len(server.requests) == 5 and len(sleep.delays) == 4
    assert error.status == 503 and error.type == "service_unavailable"
    text = str(error)
    assert f"GET /manage/pages/{PAGE_ID}" in text and "5 attempt" in text
    assert "503" in text and "overloaded" in text


def test_max_attempts_is_taken_from_the_policy() -> None:
    server = Server(default=lambda r: httpx.ReadTimeout("t", request=r))
    error = raises(server, get, retry=RetryPolicy(max_attempts=2))
    assert len(server.requests) == 2 and error.status is None and "ReadTimeout" in str(error)


def test_backoff_grows_and_is_capped() -> None:
    sleep = FakeSleep()
    policy = RetryPolicy(max_attempts=9, base_delay=0.5, multiplier=2, max_delay=5.0)
    raises(Server(default=lambda r: fail(502)), get, sleep=sleep, rng=CeilingRng(), retry=policy)
    assert sleep.delays == [0.5, 1.0, 2.0, 4.0, 5.0, 5.0, 5.0, 5.0]


def test_jittered_backoff_is_reproducible_and_within_bounds() -> None:
    def delays(seed: int) -> list[float]:
        sleep = FakeSleep()
        raises(Server(default=lambda r: fail(500)), get, sleep=sleep, rng=random.Random(seed))
        return sleep.delays

    policy = RetryPolicy()
    first = delays(3)
    assert first == delays(3) and first != delays(4)
    assert all(0 <= d <= policy.ceiling(n) for n, d in enumerate(first))


def test_stats_count_requests_by_method_and_retries() -> None:
    async def main() -> SchedulerClient:
        server = Server(fail(503), ok(), ok(), ok({"success": True}))
        async with client_for(server) as client:
            await get(client)
            await put(client)
            await delete(client)
            return client

    stats = asyncio.run(main()).stats
    assert stats.requests == 4 and stats.retries == 1
    assert stats.by_method == {"GET": 2, "PUT": 1, "DELETE": 1}
    assert stats.backoff_seconds > 0 and stats.peak_in_flight == 1


# --- create: never blindly retried -----------------------------------------------------------------


@pytest.mark.parametrize(
    "answer",
    [fail(500), fail(502), fail(503), fail(504),
     httpx.ReadTimeout("timed out", request=REQ), httpx.ReadError("reset", request=REQ),
     httpx.RemoteProtocolError("peer closed", request=REQ), httpx.WriteTimeout("t", request=REQ),
     httpx.WriteError("broken pipe", request=REQ)],
    ids=lambda a: str(a.status_code) if isinstance(a, httpx.Response) else type(a).__name__,
)
def test_create_that_may_have_been_processed_is_outcome_unknown(answer: Any) -> None:
    server = Server(answer, default=ok(status=201))
    error = raises(server, create)
    assert isinstance(error, OutcomeUnknown)
    assert len(server.requests) == 1
    assert "POST /manage/pages" in str(error) and "sales-demo" in str(error)
    if isinstance(answer, httpx.Response):
        assert error.status == answer.status_code


@pytest.mark.parametrize(
    "answer",
    [fail(429, **{"Retry-After": "2"}), httpx.ConnectError("refused", request=REQ),
     httpx.ConnectTimeout("t", request=REQ), httpx.PoolTimeout("t", request=REQ)],
    ids=["429", "ConnectError", "ConnectTimeout", "PoolTimeout"],
)
def test_create_that_certainly_was_not_processed_is_retried(answer: Any) -> None:
    server = Server(answer, ok(status=201))
    sleep = FakeSleep()
    page = run(server, create, sleep=sleep)
    assert page.id == PAGE_ID and server.methods == ["POST", "POST"]
    assert len(sleep.delays) == 1
    if isinstance(answer, httpx.Response):
        assert sleep.delays[0] >= 2.0


def test_create_rate_limited_to_the_end_is_a_plain_error() -> None:
    server = Server(default=lambda r: fail(429, "slow down", "rate_limit_error"))
    error = raises(server, create)
    assert type(error) is ApiError and error.status == 429 and len(server.requests) == 5


def test_create_after_connect_errors_then_a_5xx_is_outcome_unknown() -> None:
    server = Server(httpx.ConnectError("refused", request=REQ), fail(502), default=ok(status=201))
    assert isinstance(raises(server, create), OutcomeUnknown)
    assert len(server.requests) == 2


def test_create_refused_is_a_plain_error() -> None:
    taken = fail(400, "Sorry, the page slug you provided is already taken", "invalid_request_error")
    error = raises(Server(taken), create)
    assert type(error) is ApiError and error.status == 400 and "already taken" in str(error)


# --- delete after an ambiguous attempt -------------------------------------------------------------


@pytest.mark.parametrize(
    "first",
    [fail(503), fail(500), httpx.ReadTimeout("t", request=REQ), httpx.RemoteProtocolError("x", request=REQ)],
    ids=["503", "500", "ReadTimeout", "RemoteProtocolError"],
)
def test_delete_404_after_an_ambiguous_attempt_is_success(first: Any) -> None:
    server = Server(first, fail(404, "page not found", "not_found"))
    assert run(server, delete) is None
    assert server.methods == ["DELETE", "DELETE"]


@pytest.mark.parametrize(
    "first",
    [None, fail(429), httpx.ConnectError("refused", request=REQ)],
    ids=["first", "429", "ConnectError"],
)
def test_delete_404_without_an_ambiguous_attempt_is_not_found(first: Any) -> None:
    steps = [first] if first is not None else []
    error = raises(Server(*steps, fail(404, "page not found", "not_found")), delete)
    assert isinstance(error, NotFound) and error.status == 404


def test_get_404_after_an_ambiguous_attempt_is_still_not_found() -> None:
    assert isinstance(raises(Server(fail(503), fail(404)), get), NotFound)


# --- concurrency -----------------------------------------------------------------------------------


def test_concurrency_is_bounded_by_parallelism() -> None:
    parallelism, total = 3, 10

    async def main() -> tuple[int, int, int]:
        in_flight = peak = 0
        full, release = asyncio.Event(), asyncio.Event()

        async def answer(request: httpx.Request) -> httpx.Response:
            nonlocal in_flight, peak
            in_flight += 1
            peak = max(peak, in_flight)
            if in_flight == parallelism:
                full.set()
            await release.wait()
            in_flight -= 1
            return ok()

        async with client_for(Server(default=answer), parallelism=parallelism) as client:
            tasks = [asyncio.create_task(get(client)) for _ in range(total)]
            await asyncio.wait_for(full.wait(), timeout=5)
            for _ in range(20):  # let every other task run as far as it can
                await asyncio.sleep(0)
            held = in_flight
            release.set()
            await asyncio.gather(*tasks)
            return held, peak, client.stats.requests

    held, peak, requests = asyncio.run(main())
    assert held == parallelism and peak == parallelism and requests == total


def test_a_request_waiting_to_retry_does_not_hold_a_slot() -> None:
    async def main() -> list[str]:
        order: list[str] = []
        sleeping, wake = asyncio.Event(), asyncio.Event()

        async def sleep(seconds: float) -> None:
            sleeping.set()
            await wake.wait()

        def answer(request: httpx.Request) -> httpx.Response:
            page_id = request.url.path.rsplit("/", 1)[1]
            order.append(page_id)
            if page_id == "1" and order.count("1") == 1:
                return fail(503)
            return ok(page_json(int(page_id)))

        async with client_for(Server(default=answer), parallelism=1, sleep=sleep) as client:
            retrying = asyncio.create_task(client.get_page(1, tok(EDIT)))
            await asyncio.wait_for(sleeping.wait(), timeout=5)
            # With the only slot free during the backoff, another request goes through.
            other = await asyncio.wait_for(client.get_page(2, tok(EDIT)), timeout=5)
            assert other.id == 2
            wake.set()
            assert (await retrying).id == 1
        return order

    assert asyncio.run(main()) == ["1", "2", "1"]


# --- error translation -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "kind"), [(400, "invalid_request_error"), (401, "authentication_error"), (403, "forbidden")]
)
def test_error_answers_carry_status_type_and_message(status: int, kind: str) -> None:
    error = raises(Server(fail(status, "The slug must be lowercase", kind)), put)
    assert type(error) is ApiError
    assert (error.status, error.type) == (status, kind)
    text = str(error)
    assert f"PUT /manage/pages/{PAGE_ID}" in text and str(status) in text
    assert "The slug must be lowercase" in text


def test_404_is_not_found() -> None:
    error = raises(Server(fail(404, "page not found", "not_found")), get)
    assert isinstance(error, NotFound) and error.status == 404 and "page not found" in str(error)


def test_an_error_without_the_api_body_still_names_the_status() -> None:
    error = raises(Server(httpx.Response(403, text="<html>denied</html>")), get)
    assert error.status == 403 and error.type is None and "403 Forbidden" in str(error)


@pytest.mark.parametrize(
    "answer",
    [httpx.Response(200, text="not json"), ok({"id": "x"}), ok(page_json(extra_field=1)), ok([page_json()])],
    ids=["not-json", "missing-fields", "unknown-field", "array"],
)
def test_an_answer_that_is_not_a_page_is_an_unexpected_response(answer: httpx.Response) -> None:
    error = raises(Server(answer), get)
    assert type(error) is ApiError and "unexpected response" in str(error)
    assert f"GET /manage/pages/{PAGE_ID}" in str(error)


def test_a_list_that_is_not_an_array_is_an_unexpected_response() -> None:
    error = raises(Server(ok({"pages": []})), lambda c: c.list_pages(tok()))
    assert "unexpected response" in str(error) and "GET /manage/pages" in str(error)


def test_no_httpx_error_escapes() -> None:
    def broken(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"\x1f\x8b garbage", headers={"content-encoding": "gzip"})

    error = raises(Server(broken), get)
    assert not isinstance(error, httpx.HTTPError) and "GET" in str(error)


# --- secrets never leak ----------------------------------------------------------------------------


def _every_text(error: BaseException) -> Iterator[str]:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield str(current)
        yield repr(current)
        yield from (repr(arg) for arg in current.args)
        yield repr(vars(current))
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)


def _echo(request: httpx.Request) -> str:
    """What a careless server might say: everything it received, the credentials included."""
    return f"rejected {request.headers['authorization']} with {request.content.decode()}"


def _leak_scenarios() -> list[tuple[str, Server, Callable[[SchedulerClient], Awaitable[Any]]]]:
    bad_page = page_json(slug="Not A Slug")
    return [
        ("401 echoing the request", Server(lambda r: fail(401, _echo(r))), get),
        ("403 on create echoing the request", Server(lambda r: fail(403, _echo(r))), create),
        ("404", Server(lambda r: fail(404, _echo(r))), delete),
        ("400 on update", Server(lambda r: fail(400, _echo(r))), lambda c: c.update_page(
            PAGE_ID, tok(EDIT), name="N", slug="s", config={}, access_tokens=[tok(), tok(TOKEN_B)])),
        ("exhausted 503", Server(default=lambda r: fail(503, _echo(r))), put),
        ("exhausted transport", Server(default=lambda r: httpx.ConnectError(_echo(r), request=r)), get),
        ("create outcome unknown", Server(lambda r: httpx.ReadTimeout(_echo(r), request=r)), create),
        ("create 5xx", Server(lambda r: fail(500, _echo(r))), create),
        ("create rate limited", Server(default=lambda r: fail(429, _echo(r))), create),
        ("unexpected page", Server(ok(bad_page)), get),
        ("unexpected list", Server(ok([bad_page])), lambda c: c.list_pages(tok())),
        ("non-transient transport", Server(lambda r: httpx.UnsupportedProtocol(_echo(r), request=r)), get),
    ]


@pytest.mark.parametrize(("name", "server", "call"), _leak_scenarios(), ids=[s[0] for s in _leak_scenarios()])
def test_no_token_in_any_error(name: str, server: Server, call: Any) -> None:
    error = raises(server, call)
    for text in _every_text(error):
        for secret in (TOKEN, TOKEN_B, EDIT):
            assert secret not in text, f"{name}: {secret} leaked in {text!r}"
    for request in server.requests:
        for secret in (TOKEN, TOKEN_B, EDIT):
            assert secret not in str(request.url)


def test_no_token_in_the_client_or_page_repr() -> None:
    async def main() -> tuple[str, str]:
        async with client_for(Server(ok())) as client:
            page = await get(client)
            return repr(client), repr(page) + str(page)

    for text in asyncio.run(main()):
        assert EDIT not in text and TOKEN not in text


def test_real_dropped_connections_on_loopback_are_translated_without_tokens() -> None:
    """httpx's own exception texts (from a real socket, not a mock) carry no URL or token."""

    async def main() -> list[ApiError]:
        async def drop(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.read(1)
            writer.close()

        server = await asyncio.start_server(drop, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        errors: list[ApiError] = []
        try:
            async with SchedulerClient(f"http://127.0.0.1:{port}", sleep=FakeSleep(),
                                       retry=RetryPolicy(max_attempts=2)) as client:
                for call in (get, create):
                    with pytest.raises(ApiError) as info:
                        await call(client)
                    errors.append(info.value)
                assert client.stats.by_method == {"GET": 2, "POST": 1}
        finally:
            server.close()
            await server.wait_closed()
        return errors

    exhausted, unknown = asyncio.run(main())
    assert type(exhausted) is ApiError and "gave up after 2 attempt" in str(exhausted)
    assert isinstance(unknown, OutcomeUnknown)
    for error in (exhausted, unknown):
        for text in _every_text(error):
            assert TOKEN not in text and EDIT not in text and "127.0.0.1" not in text
