"""Sessions (time to live on the emulator's clock) and availability (session, API key or public)."""

from __future__ import annotations

import httpx
import pytest

from tests.integration.v3.conftest import (
    GRANT,
    HOUR,
    MON_0900,
    advance,
    config,
    create,
    error,
    session,
    slots,
)

pytestmark = pytest.mark.anyio


def starts(data: dict) -> list[int]:
    return [s["start_time"] for s in data["time_slots"]]


async def test_a_session_opens_availability_until_its_time_to_live_ends(client: httpx.AsyncClient,
                                                                       anon: httpx.AsyncClient) -> None:
    made = await create(client, config(requires_session_auth=True))
    session_id = await session(client, made["id"])  # default time to live: 5 minutes
    bearer = {"Authorization": f"Bearer {session_id}"}
    params = {"start_time": MON_0900, "end_time": MON_0900 + HOUR}
    assert (await anon.get("/v3/scheduling/availability", params=params, headers=bearer)).status_code == 200
    await advance(client, 4)
    assert (await anon.get("/v3/scheduling/availability", params=params, headers=bearer)).status_code == 200
    await advance(client, 1)
    assert "expired" in error(await anon.get("/v3/scheduling/availability", params=params, headers=bearer), 401)


async def test_a_deleted_session_no_longer_works(client: httpx.AsyncClient, anon: httpx.AsyncClient) -> None:
    made = await create(client, config(requires_session_auth=True))
    session_id = await session(client, made["id"], ttl=30)
    deleted = await client.delete(f"/v3/scheduling/sessions/{session_id}")
    assert deleted.status_code == 200 and set(deleted.json()) == {"request_id"}
    params = {"start_time": MON_0900, "end_time": MON_0900 + HOUR}
    error(await anon.get("/v3/scheduling/availability", params=params,
                         headers={"Authorization": f"Bearer {session_id}"}), 401)
    error(await client.delete(f"/v3/scheduling/sessions/{session_id}"), 400)


async def test_a_session_can_be_made_by_slug(client: httpx.AsyncClient) -> None:
    await create(client, config(slug="by-slug"))
    response = await client.post("/v3/scheduling/sessions", json={"slug": "by-slug", "time_to_live": 1.5})
    assert response.status_code == 200 and set(response.json()["data"]) == {"session_id"}


@pytest.mark.parametrize("body", [{"time_to_live": 5}, {"configuration_id": "none"}, {"slug": "none"},
                                  {"configuration_id": 7}])
async def test_session_requests_naming_no_configuration_are_400(client: httpx.AsyncClient, body: dict) -> None:
    await create(client, config(slug="real"))
    error(await client.post("/v3/scheduling/sessions", json=body), 400)


@pytest.mark.parametrize("extra", [{"CONFIG": True}, {"time_to_live": 31}, {"time_to_live": 0},
                                   {"time_to_live": "5"}, {"time_to_live": True}, {"slug": "other"}])
async def test_bad_session_requests_are_400(client: httpx.AsyncClient, extra: dict) -> None:
    made = await create(client, config(slug="real"))
    await create(client, config(slug="other"))
    error(await client.post("/v3/scheduling/sessions", json={"configuration_id": made["id"]} | extra), 400)


async def test_sessions_need_the_api_key(anon: httpx.AsyncClient, client: httpx.AsyncClient) -> None:
    made = await create(client)
    error(await anon.post("/v3/scheduling/sessions", json={"configuration_id": made["id"]}), 401)


async def test_public_configuration_needs_no_bearer_but_a_private_one_does(client: httpx.AsyncClient,
                                                                          anon: httpx.AsyncClient) -> None:
    public = await create(client, config(slug="public"))
    private = await create(client, config(slug="private", requires_session_auth=True))
    assert starts(await slots(anon, public["id"], hours=1)) == [MON_0900, MON_0900 + 1800]
    error(await anon.get("/v3/scheduling/availability", params={
        "start_time": MON_0900, "end_time": MON_0900 + HOUR, "configuration_id": private["id"]}), 401)
    # The API key (what the official SDKs send) may read any configuration's availability.
    assert len((await slots(client, private["id"], hours=1))["time_slots"]) == 2


async def test_availability_by_slug_and_the_order_field(anon: httpx.AsyncClient, client: httpx.AsyncClient) -> None:
    await create(client, config(slug="sluggy"))
    response = await anon.get("/v3/scheduling/availability", params={
        "start_time": MON_0900, "end_time": MON_0900 + HOUR, "slug": "sluggy"})
    data = response.json()["data"]
    assert data["order"] == ["alice@example.com"]
    assert data["time_slots"][0] == {"emails": ["alice@example.com"], "start_time": MON_0900,
                                     "end_time": MON_0900 + 1800, "calendar_id": "primary"}


async def test_a_busy_block_and_buffers_remove_slots(client: httpx.AsyncClient) -> None:
    made = await create(client, config(availability={"duration_minutes": 30, "availability_rules": {
        "buffer": {"before": 15, "after": 0}}}))
    added = await client.post(f"/_emulator/v3/grants/{GRANT}/events",
                              json={"start": MON_0900 + HOUR, "end": MON_0900 + 2 * HOUR})
    assert added.status_code == 201
    free = starts(await slots(client, made["id"], hours=3))
    # 10:00-11:00 busy; 11:00 needs 15 minutes free before it, so the first slot after is 11:30.
    assert free == [MON_0900, MON_0900 + 1800, MON_0900 + 2 * HOUR + 1800]


async def test_round_to_and_interval_set_the_slot_grid(client: httpx.AsyncClient) -> None:
    made = await create(client, config(availability={
        "duration_minutes": 30, "interval_minutes": 20, "round_to": 10, "availability_rules": {
            "default_open_hours": [{"days": [1], "start": "09:05", "end": "10:30", "timezone": "UTC"}]}}))
    free = starts(await slots(client, made["id"], hours=2))
    # Opens 09:05, rounded up to 09:10, then every 20 minutes while the slot ends by 10:30.
    assert free == [MON_0900 + 600, MON_0900 + 1800, MON_0900 + 3000]


async def test_notice_and_horizon_come_from_the_scheduler(client: httpx.AsyncClient) -> None:
    made = await create(client, config(scheduler={"min_booking_notice": 240, "available_days_in_future": 1}))
    free = starts(await slots(client, made["id"], start=MON_0900 - 3 * HOUR, hours=48))
    assert free[0] == MON_0900 + HOUR  # now 06:00 + 4 hours of notice = 10:00
    assert max(free) < MON_0900 - 3 * HOUR + 24 * HOUR  # within one day of now


@pytest.mark.parametrize("params", [{"start_time": "soon", "end_time": 1}, {"start_time": 10, "end_time": 5},
                                    {"end_time": 5}, {"start_time": 1, "end_time": 10**12}])
async def test_bad_availability_windows_are_400(client: httpx.AsyncClient, params: dict) -> None:
    made = await create(client)
    error(await client.get("/v3/scheduling/availability", params=params | {"configuration_id": made["id"]}), 400)


async def test_availability_of_an_unknown_configuration_is_404(client: httpx.AsyncClient) -> None:
    error(await client.get("/v3/scheduling/availability", params={
        "start_time": MON_0900, "end_time": MON_0900 + HOUR, "configuration_id": "missing"}), 404)


async def test_open_hours_of_a_participant_replace_the_defaults(client: httpx.AsyncClient) -> None:
    organizer = config()["participants"][0] | {"availability": {"calendar_ids": ["primary"], "open_hours": [
        {"days": [1], "start": "13:00", "end": "14:00", "timezone": "UTC"}]}}
    made = await create(client, config(participants=[organizer]))
    assert starts(await slots(client, made["id"])) == [MON_0900 + 4 * HOUR, MON_0900 + 4 * HOUR + 1800]


async def test_exdates_close_a_day(client: httpx.AsyncClient) -> None:
    made = await create(client, config(availability={"duration_minutes": 60, "availability_rules": {
        "default_open_hours": [{"days": [1, 2], "start": "09:00", "end": "10:00", "timezone": "UTC",
                                "exdates": ["2026-03-02"]}]}}))
    assert starts(await slots(client, made["id"], hours=48)) == [MON_0900 + 24 * HOUR]



async def test_specific_time_availability_adds_or_replaces_weekly_hours(client: httpx.AsyncClient) -> None:
    saturday = "2026-03-07"
    specific = [{"date": saturday, "start": "10:00", "end": "11:00", "timezone": "UTC"}]
    added = await create(client, config(availability={"duration_minutes": 60, "availability_rules": {
        "default_specific_time_availability": specific}}))
    window = await slots(client, added["id"], start=MON_0900, hours=5 * 24 + 2)
    assert MON_0900 in starts(window) and MON_0900 + 5 * 24 * HOUR + HOUR in starts(window)
    only = await create(client, config(availability={"duration_minutes": 60, "availability_rules": {
        "default_specific_time_availability": specific, "only_specific_time_availability": True}}))
    assert starts(await slots(client, only["id"], start=MON_0900, hours=5 * 24 + 2)) == [MON_0900 + 121 * HOUR]
