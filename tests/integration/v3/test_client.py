"""The v3 client against the in-process v3 emulator: CRUD, PUT semantics, pagination, typed errors,
retries and unknown outcomes under injected faults, deadlines, and no API key in any message.

Backoff sleeps are recorded by a fake sleep (no waiting); faults are the emulator's own, seeded.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from provisioner.apis.nylas_v3.client import LIST_LIMIT, ConfigurationsClient, LiveConfiguration
from provisioner.emulator import Emulator, FaultConfig, RateLimitConfig
from provisioner.errors import ApiError, DeadlineExceeded, NotFound, OutcomeUnknown, SlugTaken
from provisioner.ratelimit import RateLimiter, RateLimits
from provisioner.retry import RetryPolicy
from tests.integration.v3.conftest import API_KEY, BASE_URL, GRANT, config, session

pytestmark = pytest.mark.anyio

KEY = SecretStr(API_KEY)


class FakeSleep:
    """Records each backoff delay and returns at once."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


@pytest.fixture
def sleep() -> FakeSleep:
    return FakeSleep()


@pytest.fixture
async def v3(emulator: Emulator, sleep: FakeSleep) -> AsyncIterator[ConfigurationsClient]:
    async with ConfigurationsClient(BASE_URL, api_key=KEY, transport=emulator.transport(), parallelism=8,
                                    sleep=sleep, rng=random.Random(7),
                                    retry=RetryPolicy(max_attempts=8)) as client:
        yield client


def numbered(i: int) -> dict[str, Any]:
    return config(slug=f"page-{i:04d}", name=f"Page {i}")


async def test_create_get_update_delete_round_trip(v3: ConfigurationsClient) -> None:
    created = await v3.create_configuration(GRANT, config(slug="intro", name="Intro"))
    assert isinstance(created, LiveConfiguration)
    assert (created.slug, created.name) == ("intro", "Intro")
    assert created.config["event_booking"]["title"] == "Intro call"
    assert created.config["scheduler"]["available_days_in_future"] == 30  # server default filled in
    assert "id" not in created.config and "slug" not in created.config

    assert await v3.get_configuration(GRANT, created.id) == created
    assert await v3.list_configurations(GRANT) == [created]

    # PUT: the nested object sent replaces the stored one whole; omitted top-level fields stay.
    updated = await v3.update_configuration(GRANT, created.id, {"event_booking": {"title": "Renamed"}})
    assert updated.config["event_booking"] == {"title": "Renamed", "booking_type": "booking",
                                               "disable_emails": False, "hide_participants": False,
                                               "notify_participants": False}
    assert (updated.slug, updated.name) == ("intro", "Intro")
    assert updated.config["availability"] == created.config["availability"]
    assert await v3.get_configuration(GRANT, created.id) == updated

    await v3.delete_configuration(GRANT, created.id)
    with pytest.raises(NotFound) as gone:
        await v3.get_configuration(GRANT, created.id)
    assert gone.value.status == 404 and gone.value.type == "not_found_error"
    with pytest.raises(NotFound):
        await v3.delete_configuration(GRANT, created.id)
    assert await v3.list_configurations(GRANT) == []


async def test_wire_form_creates_the_same_configuration(v3: ConfigurationsClient) -> None:
    first = await v3.create_configuration(GRANT, config(slug="first", name="First"))
    copy = await v3.create_configuration(GRANT, first.wire() | {"slug": "second", "id": first.id})
    assert copy.id != first.id and copy.config == first.config


async def test_a_configuration_is_reached_only_under_its_grant(v3: ConfigurationsClient) -> None:
    created = await v3.create_configuration(GRANT, config(slug="mine"))
    with pytest.raises(NotFound):
        await v3.get_configuration("grant-other", created.id)
    assert await v3.list_configurations("grant-other") == []


async def test_listing_reads_every_page_of_many_configurations(emulator: Emulator, v3: ConfigurationsClient) -> None:
    count = 2 * LIST_LIMIT + 57
    made = await asyncio.gather(*(v3.create_configuration(GRANT, numbered(i)) for i in range(count)))
    await v3.create_configuration("grant-elsewhere", numbered(9999))
    before = v3.stats.by_method.get("GET", 0)

    listed = await v3.list_configurations(GRANT)

    assert sorted(c.id for c in listed) == sorted(c.id for c in made)
    assert len({c.id for c in listed}) == count
    assert v3.stats.by_method["GET"] - before == 3  # 200 + 200 + 57
    assert [c.slug for c in await v3.list_configurations("grant-elsewhere")] == ["page-9999"]


async def test_find_by_slug_lists_the_grant(v3: ConfigurationsClient) -> None:
    wanted = await v3.create_configuration(GRANT, config(slug="wanted"))
    await v3.create_configuration(GRANT, config(slug="other"))
    assert await v3.find_by_slug(GRANT, "wanted") == wanted
    assert await v3.find_by_slug(GRANT, "missing") is None
    assert await v3.find_by_slug("grant-other", "wanted") is None


async def test_a_used_slug_is_a_typed_error_across_grants(v3: ConfigurationsClient) -> None:
    first = await v3.create_configuration(GRANT, config(slug="taken"))
    other = await v3.create_configuration("grant-two", config(slug="free"))
    with pytest.raises(SlugTaken) as create:
        await v3.create_configuration("grant-two", config(slug="taken"))
    assert create.value.status == 400
    with pytest.raises(SlugTaken):
        await v3.update_configuration("grant-two", other.id, {"slug": "taken"})
    assert await v3.get_configuration(GRANT, first.id) == first


async def test_an_invalid_body_is_a_plain_api_error_with_the_server_message(v3: ConfigurationsClient) -> None:
    with pytest.raises(ApiError) as refused:
        await v3.create_configuration(GRANT, config(availability={"duration_minutes": 1}))
    assert type(refused.value) is ApiError
    assert refused.value.status == 400 and refused.value.type == "invalid_request_error"
    assert "availability.duration_minutes" in str(refused.value)
    assert v3.stats.by_method == {"POST": 1}


async def test_delete_is_refused_while_a_session_is_active(v3: ConfigurationsClient,
                                                           client: httpx.AsyncClient) -> None:
    created = await v3.create_configuration(GRANT, config(slug="busy"))
    await session(client, created.id)
    with pytest.raises(ApiError) as refused:
        await v3.delete_configuration(GRANT, created.id)
    assert refused.value.status == 400 and "sessions" in str(refused.value)


# --- faults ----------------------------------------------------------------------------------------


async def test_reads_updates_and_deletes_are_retried_through_server_errors(
        emulator: Emulator, v3: ConfigurationsClient, sleep: FakeSleep) -> None:
    made = [await v3.create_configuration(GRANT, numbered(i)) for i in range(12)]
    emulator.faults = FaultConfig(error_rate=0.4, seed=3)
    got = await asyncio.gather(*(v3.get_configuration(GRANT, c.id) for c in made))
    assert got == made
    updated = await asyncio.gather(*(v3.update_configuration(GRANT, c.id, {"name": "Renamed"}) for c in made))
    assert {u.name for u in updated} == {"Renamed"}
    await asyncio.gather(*(v3.delete_configuration(GRANT, c.id) for c in made))
    emulator.faults = FaultConfig()
    assert await v3.list_configurations(GRANT) == []
    assert v3.stats.retries > 0 and len(sleep.delays) == v3.stats.retries
    assert emulator.stats()["faults"]["error"] == v3.stats.retries


async def test_rate_limits_are_retried_after_the_servers_retry_after(
        emulator: Emulator, v3: ConfigurationsClient, sleep: FakeSleep) -> None:
    created = await v3.create_configuration(GRANT, config(slug="limited"))
    emulator.faults = FaultConfig(rate_limit_rate=0.6, retry_after=4, seed=1)
    for _ in range(5):
        assert await v3.get_configuration(GRANT, created.id) == created
    assert sleep.delays and all(delay >= 4 for delay in sleep.delays)


async def test_a_rate_limited_create_is_retried_it_was_not_processed(
        emulator: Emulator, v3: ConfigurationsClient) -> None:
    emulator.faults = FaultConfig(rate_limit_rate=0.5, seed=2)
    made = [await v3.create_configuration(GRANT, numbered(i)) for i in range(6)]
    emulator.faults = FaultConfig()
    assert len(await v3.list_configurations(GRANT)) == len(made) == 6
    assert v3.stats.by_method["POST"] > 6  # some were refused with 429 and sent again


async def test_listing_survives_faults_between_pages(emulator: Emulator, v3: ConfigurationsClient) -> None:
    made = await asyncio.gather(*(v3.create_configuration(GRANT, numbered(i)) for i in range(LIST_LIMIT + 5)))
    emulator.faults = FaultConfig(error_rate=0.3, rate_limit_rate=0.2, drop_before_rate=0.1, seed=5)
    listed = await v3.list_configurations(GRANT)
    assert sorted(c.id for c in listed) == sorted(c.id for c in made)


@pytest.mark.parametrize("fault", [FaultConfig(error_rate=1.0), FaultConfig(drop_after_rate=1.0),
                                   FaultConfig(drop_before_rate=1.0)], ids=["5xx", "drop-after", "drop-before"])
async def test_a_create_that_may_have_been_processed_is_never_sent_again(
        emulator: Emulator, v3: ConfigurationsClient, fault: FaultConfig) -> None:
    emulator.faults = fault
    with pytest.raises(OutcomeUnknown) as unknown:
        await v3.create_configuration(GRANT, config(slug="maybe"))
    assert "configuration may or may not have been created" in str(unknown.value)
    assert v3.stats.by_method == {"POST": 1}
    emulator.faults = FaultConfig()
    found = await v3.find_by_slug(GRANT, "maybe")
    if fault.drop_after_rate:  # processed, then the answer was cut: the lookup adopts it
        assert found is not None and found.slug == "maybe"
    else:  # refused before processing: nothing there, creating again is safe
        assert found is None
        assert (await v3.create_configuration(GRANT, config(slug="maybe"))).slug == "maybe"
    assert [c.slug for c in await v3.list_configurations(GRANT)] == ["maybe"]


class CutFirst(httpx.AsyncBaseTransport):
    """The emulator, but the first request of ``method`` is processed and its answer lost."""

    def __init__(self, inner: httpx.AsyncBaseTransport, method: str) -> None:
        self.inner, self.method, self.cut = inner, method, 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.method == self.method and not self.cut:
            self.cut += 1
            raise httpx.RemoteProtocolError("peer closed connection without sending complete message body")
        return response


async def test_a_delete_whose_answer_was_cut_counts_as_done(emulator: Emulator, sleep: FakeSleep) -> None:
    transport = CutFirst(emulator.transport(), "DELETE")
    async with ConfigurationsClient(BASE_URL, api_key=KEY, transport=transport, sleep=sleep) as v3:
        created = await v3.create_configuration(GRANT, config(slug="cut"))
        await v3.delete_configuration(GRANT, created.id)  # deleted by the cut attempt; the retry's 404 is success
        assert transport.cut == 1 and v3.stats.by_method["DELETE"] == 2
        assert await v3.find_by_slug(GRANT, "cut") is None


async def test_an_update_whose_answer_was_cut_is_sent_again(emulator: Emulator, sleep: FakeSleep) -> None:
    transport = CutFirst(emulator.transport(), "PUT")
    async with ConfigurationsClient(BASE_URL, api_key=KEY, transport=transport, sleep=sleep) as v3:
        created = await v3.create_configuration(GRANT, config(slug="again"))
        updated = await v3.update_configuration(GRANT, created.id, {"name": "Twice"})
        assert transport.cut == 1 and v3.stats.by_method["PUT"] == 2 and v3.stats.retries == 1
        assert updated.name == "Twice" and await v3.get_configuration(GRANT, created.id) == updated


async def test_deadlines_bound_each_attempt_and_the_whole_request(emulator: Emulator, v3: ConfigurationsClient,
                                                                 sleep: FakeSleep) -> None:
    created = await v3.create_configuration(GRANT, config(slug="slow"))
    emulator.faults = FaultConfig(latency_ms=2000)  # far beyond the deadlines below, however busy the machine
    async with ConfigurationsClient(BASE_URL, api_key=KEY, transport=emulator.transport(), sleep=sleep,
                                    attempt_deadline=0.1, deadline=0.3) as hurried:
        with pytest.raises(DeadlineExceeded) as late:
            await hurried.get_configuration(GRANT, created.id)
        assert "0.3 s deadline" in str(late.value)
        with pytest.raises(OutcomeUnknown):  # a create past its deadline may have been processed
            await hurried.create_configuration(GRANT, config(slug="slow-two"))
        assert hurried.stats.by_method["POST"] == 1 and hurried.stats.by_method["GET"] >= 2


class FakeTime:
    """One monotonic clock for the client's limiter and the emulator's: it moves only when the limiter sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


async def test_a_rate_limited_client_gets_no_429_from_an_enforcing_emulator(sleep: FakeSleep) -> None:
    fake = FakeTime()
    limits = RateLimitConfig(per_account=5, per_application=None)
    emulator = Emulator(":memory:", monotonic=fake.clock)
    try:
        async with ConfigurationsClient(BASE_URL, api_key=KEY, transport=emulator.transport(), sleep=sleep) as v3:
            made = [await v3.create_configuration(GRANT, numbered(i)) for i in range(20)]
        emulator.rate_limiter.config = limits
        async with ConfigurationsClient(BASE_URL, api_key=KEY, transport=emulator.transport(),
                                        retry=RetryPolicy(max_attempts=1)) as unpaced:  # control: refused
            with pytest.raises(ApiError) as refused:
                for c in made:
                    await unpaced.get_configuration(GRANT, c.id)
            assert refused.value.status == 429
        emulator.rate_limiter.config = limits  # fresh buckets
        rejected = emulator.rate_limiter.rejected
        limiter = RateLimiter(RateLimits(per_account=5, per_application=None), clock=fake.clock, sleep=fake.sleep)
        async with ConfigurationsClient(BASE_URL, api_key=KEY, transport=emulator.transport(), limiter=limiter,
                                        retry=RetryPolicy(max_attempts=1), parallelism=4) as v3:
            start = fake.now
            for c in made:  # one by one: each reaches the server at the instant its token was taken
                assert await v3.get_configuration(GRANT, c.id) == c
        assert emulator.rate_limiter.rejected == rejected and limiter.stats.throttled == 0
        assert fake.now - start == pytest.approx((20 - 1) / 5)  # paced by the key's bucket (one token of burst)
    finally:
        emulator.close()


# --- secrets and bad answers -----------------------------------------------------------------------


async def test_the_api_key_appears_in_no_message_and_no_repr(sleep: FakeSleep) -> None:
    key = "nyk_SECRET_9c1d7e"

    def echo(request: httpx.Request) -> httpx.Response:  # a hostile server echoing the bearer everywhere
        status = {"GET": 404, "POST": 400, "PUT": 503, "DELETE": 500}[request.method]
        bearer = request.headers["authorization"]
        return httpx.Response(status, json={"request_id": bearer, "error": {
            "type": bearer, "message": f"bad {bearer} slug already used"}})

    messages: list[str] = []
    async with ConfigurationsClient(BASE_URL, api_key=SecretStr(key), transport=httpx.MockTransport(echo),
                                    sleep=sleep, retry=RetryPolicy(max_attempts=2)) as v3:
        messages.append(repr(v3))
        for call in (v3.get_configuration(GRANT, "c1"), v3.create_configuration(GRANT, config()),
                     v3.update_configuration(GRANT, "c1", {"name": "x"}), v3.delete_configuration(GRANT, "c1"),
                     v3.list_configurations(GRANT)):
            with pytest.raises(ApiError) as failed:
                await call
            messages += [str(failed.value), repr(failed.value), str(failed.value.type)]
    assert len(messages) == 16
    assert not [m for m in messages if key in m]


async def test_a_wrong_api_key_is_refused_without_showing_it(sleep: FakeSleep) -> None:
    emulator = Emulator(":memory:", v3_api_key="nyk_the_right_key")
    try:
        async with ConfigurationsClient(BASE_URL, api_key=SecretStr("nyk_a_wrong_key"),
                                        transport=emulator.transport(), sleep=sleep) as v3:
            with pytest.raises(ApiError) as refused:
                await v3.list_configurations(GRANT)
        assert refused.value.status == 401 and "nyk_a_wrong_key" not in str(refused.value)
    finally:
        emulator.close()


@pytest.mark.parametrize("key", ["", "has space", "line\nbreak"])
async def test_a_key_no_header_can_carry_is_refused_before_sending(key: str, sleep: FakeSleep) -> None:
    sent: list[httpx.Request] = []
    async with ConfigurationsClient(BASE_URL, api_key=SecretStr(key),
                                    transport=httpx.MockTransport(lambda r: sent.append(r) or httpx.Response(200)),
                                    sleep=sleep) as v3:
        with pytest.raises(ApiError) as refused:
            await v3.get_configuration(GRANT, "c1")
    assert "API key" in str(refused.value) and not sent
    assert not key or key not in str(refused.value)


@pytest.mark.parametrize("answer", [
    httpx.Response(200, text="<html>proxy</html>"),
    httpx.Response(200, json={"data": []}),
    httpx.Response(200, json={"data": {"slug": "no-id"}}),
    httpx.Response(200, json={"data": {"id": 7}}),
    httpx.Response(200, json=[1, 2]),
], ids=["html", "list", "no-id", "int-id", "array"])
async def test_an_answer_that_is_not_a_configuration_is_an_unexpected_response(answer: httpx.Response,
                                                                               sleep: FakeSleep) -> None:
    async with ConfigurationsClient(BASE_URL, api_key=KEY, transport=httpx.MockTransport(lambda r: answer),
                                    sleep=sleep) as v3:
        with pytest.raises(ApiError) as bad:
            await v3.get_configuration(GRANT, "c1")
    assert "unexpected response" in str(bad.value) and bad.value.status == 200


async def test_a_repeating_cursor_is_an_error_not_a_loop(sleep: FakeSleep) -> None:
    def same_page(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"request_id": "r", "data": [{"id": "c1", "slug": "a"}],
                                         "next_cursor": "again"})

    async with ConfigurationsClient(BASE_URL, api_key=KEY, transport=httpx.MockTransport(same_page),
                                    sleep=sleep) as v3:
        with pytest.raises(ApiError) as looped:
            await v3.list_configurations(GRANT)
    assert "next_cursor repeats" in str(looped.value)


async def test_ids_are_percent_encoded_in_paths(sleep: FakeSleep) -> None:
    paths: list[str] = []

    def record(request: httpx.Request) -> httpx.Response:
        paths.append(request.url.raw_path.decode())
        return httpx.Response(200, json={"request_id": "r", "data": {"id": "a/b?c", "slug": "s"}})

    async with ConfigurationsClient(BASE_URL, api_key=KEY, transport=httpx.MockTransport(record),
                                    sleep=sleep) as v3:
        await v3.get_configuration("me@example.com", "a/b?c")
        with pytest.raises(ApiError):
            await v3.get_configuration("", "x")
    assert paths == ["/v3/grants/me%40example.com/scheduling/configurations/a%2Fb%3Fc"]
