"""The client builds its requests itself (once-merged defaults, a plan's hot path); they must stay what
``httpx.AsyncClient`` would send: base path kept, default headers, query, JSON body, the server's cookies."""

from __future__ import annotations

import asyncio
import json
import ssl

import httpx
import pytest
from pydantic import SecretStr

from provisioner.apis.nylas_v2.client import SchedulerClient
from provisioner.errors import ProvisionerError
from tests.unit.test_client import EDIT, PAGE_ID, TOKEN, page_json


def test_requests_keep_the_base_path_the_default_headers_the_query_and_the_body() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.method == "GET" and request.url.path.endswith("/manage/pages"):
            return httpx.Response(200, json=[])
        return httpx.Response(200, json=page_json())

    async def main() -> None:
        async with SchedulerClient("https://api.example.test/v2", transport=httpx.MockTransport(handler)) as client:
            await client.get_page(PAGE_ID, SecretStr(EDIT))
            await client.list_pages(SecretStr(TOKEN))
            await client.update_page(PAGE_ID, SecretStr(EDIT), name="N", slug="s", config={})

    asyncio.run(main())
    get, listing, put = seen
    assert str(get.url) == f"https://api.example.test/v2/manage/pages/{PAGE_ID}"
    assert str(listing.url) == "https://api.example.test/v2/manage/pages?offset=0&limit=100"
    for request in seen:
        assert request.headers["accept"] == "application/json"
        assert request.headers["user-agent"] == "provisioner"
        assert request.headers["host"] == "api.example.test"
    assert get.headers["authorization"] == f"Bearer {EDIT}"
    assert listing.headers["authorization"] == f"Bearer {TOKEN}"
    assert put.headers["content-type"] == "application/json"
    assert json.loads(put.content) == {"name": "N", "slug": "s", "config": {}}


def test_a_cookie_the_server_sets_is_sent_back() -> None:
    cookies: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        cookies.append(request.headers.get("cookie"))
        return httpx.Response(200, json=page_json(), headers={"set-cookie": "lb=node-3; Path=/"})

    async def main() -> None:
        async with SchedulerClient("https://api.example.test", transport=httpx.MockTransport(handler)) as client:
            for _ in range(2):
                await client.get_page(PAGE_ID, SecretStr(EDIT))

    asyncio.run(main())
    assert cookies == [None, "lb=node-3"]


def _trusted_cas(client: SchedulerClient) -> int:
    context = client._http._transport._pool._ssl_context  # type: ignore[attr-defined]
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname  # TLS, if any, is verified
    return int(context.cert_store_stats()["x509_ca"])


def test_only_an_https_api_loads_the_trusted_certificates() -> None:
    """Loading every CA costs ~40 ms before a plan's first request; a plain-http API (the emulator on
    loopback) never uses TLS, so its client trusts no certificate: TLS there would fail closed."""
    assert _trusted_cas(SchedulerClient("https://api.example.test/v2")) > 0
    assert _trusted_cas(SchedulerClient("http://127.0.0.1:8080")) == 0


def test_a_read_waiting_for_a_slot_is_sent_before_the_answer_before_it_is_processed() -> None:
    """At parallelism 1, the second read goes out as soon as the first answer is in, before the first
    caller gets that answer back to decode and compare: answers' work never delays the next request."""
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        return httpx.Response(200, json=page_json())

    async def main() -> list[int]:
        async with SchedulerClient("https://api.example.test/v2", transport=httpx.MockTransport(handler),
                                   parallelism=1) as client:

            async def read() -> int:
                await client.get_page(PAGE_ID, SecretStr(EDIT))
                return len(seen)  # requests sent when this caller got its answer

            return list(await asyncio.gather(read(), read()))

    assert asyncio.run(main())[0] == 2


@pytest.mark.parametrize(("variable", "value", "message"), [
    ("ALL_PROXY", "socks5://127.0.0.1:9",
     "the proxy set in the environment (ALL_PROXY) cannot be used: Using SOCKS proxy"),
    ("ALL_PROXY", "http://[::1", "the proxy set in the environment (ALL_PROXY) is not a proxy URL"),
    ("HTTPS_PROXY", "ftp://user:pr0xy-secret@proxy.example", "the proxy set in the environment (HTTPS_PROXY) is not a"),
    ("SSL_CERT_FILE", "/nonexistent/ca.pem",
     "cannot load the trusted certificates (SSL_CERT_FILE=/nonexistent/ca.pem): No such file or directory"),
])
def test_an_environment_the_http_client_cannot_use_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    """Not an ImportError or a bare OSError, which the CLI shows as a bug or without naming the cause."""
    for name in ("SSL_CERT_DIR", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(variable, value)
    with pytest.raises(ProvisionerError) as caught:
        SchedulerClient("https://api.example.test/v2")
    assert str(caught.value).startswith(message)
    assert "secret" not in str(caught.value)  # a proxy URL's password is never repeated
