"""Configurations over the in-process transport: envelope, defaults, auth, pagination, PUT semantics,
delete refused while sessions are active, and 400 (never 500) for bad input."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from provisioner.apis.nylas_v3 import choices
from provisioner.emulator import Emulator
from tests.integration.v3.conftest import API_KEY, BASE_URL, GRANT, advance, config, configs_url, create, error, session

pytestmark = pytest.mark.anyio


async def test_create_answers_the_envelope_with_id_and_server_defaults(client: httpx.AsyncClient) -> None:
    response = await client.post(configs_url(), json=config(slug="intro"))
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"request_id", "data"}
    data = body["data"]
    uuid.UUID(data["id"])
    assert data["slug"] == "intro"
    assert data["scheduler"]["available_days_in_future"] == 30
    assert data["scheduler"]["min_booking_notice"] == 60
    assert data["availability"]["round_to"] == 15
    assert data["availability"]["availability_rules"]["availability_method"] == "collective"
    assert data["event_booking"]["booking_type"] == "booking"
    got = await client.get(f"{configs_url()}/{data['id']}")
    assert got.status_code == 200 and got.json()["data"] == data


async def test_a_configuration_lives_under_its_grant(client: httpx.AsyncClient) -> None:
    made = await create(client)
    error(await client.get(f"{configs_url('someone-else')}/{made['id']}"), 404)
    error(await client.delete(f"{configs_url('someone-else')}/{made['id']}"), 404)
    listed = (await client.get(configs_url("someone-else"))).json()
    assert listed["data"] == [] and listed["next_cursor"] is None


async def test_list_pages_with_limit_and_cursor(client: httpx.AsyncClient) -> None:
    ids = [(await create(client, config(slug=f"page-{i}")))["id"] for i in range(5)]
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 2} | ({"page_token": cursor} if cursor else {})
        body = (await client.get(configs_url(), params=params)).json()
        assert set(body) == {"request_id", "data", "next_cursor"}
        seen += [c["id"] for c in body["data"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == ids and pages == 3
    everything = (await client.get(configs_url())).json()
    assert [c["id"] for c in everything["data"]] == ids and everything["next_cursor"] is None


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 201}, {"limit": "ten"}, {"page_token": "nope"},
                                    {"page_token": "djNjOng"}])
async def test_bad_list_parameters_are_400(client: httpx.AsyncClient, params: dict[str, Any]) -> None:
    error(await client.get(configs_url(), params=params), 400)


async def test_limit_200_is_accepted(client: httpx.AsyncClient) -> None:
    assert (await client.get(configs_url(), params={"limit": 200})).status_code == 200


async def test_put_leaves_omitted_top_level_fields_and_replaces_nested_objects_whole(client: httpx.AsyncClient) -> None:
    made = await create(client, config(name="First", scheduler={"available_days_in_future": 10,
                                                                "min_booking_notice": 5}))
    url = f"{configs_url()}/{made['id']}"
    response = await client.put(url, json={"scheduler": {"min_booking_notice": 15}})
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert data["name"] == "First"  # omitted: untouched
    assert data["participants"] == made["participants"]
    assert data["scheduler"]["min_booking_notice"] == 15
    assert data["scheduler"]["available_days_in_future"] == 30  # the nested object was replaced whole
    assert (await client.get(url)).json()["data"] == data


async def test_put_null_resets_a_nullable_field_to_its_default(client: httpx.AsyncClient) -> None:
    made = await create(client, config(requires_session_auth=True, appearance={"color": "blue"}))
    data = (await client.put(f"{configs_url()}/{made['id']}",
                             json={"requires_session_auth": None, "appearance": None})).json()["data"]
    assert data["requires_session_auth"] is False and "appearance" not in data


@pytest.mark.parametrize("field", ["name", "scheduler", "availability", "event_booking", "participants"])
async def test_null_for_a_field_the_spec_does_not_make_nullable_is_refused(client: httpx.AsyncClient,
                                                                           field: str) -> None:
    assert field not in choices.NULLABLE_TOP_LEVEL
    made = await create(client, config(name="Named", scheduler={"min_booking_notice": 5}))
    url = f"{configs_url()}/{made['id']}"
    assert f"{field}: may not be null" in error(await client.put(url, json={field: None}), 400)
    assert (await client.get(url)).json()["data"] == made
    assert f"{field}: may not be null" in error(await client.post(configs_url(), json=config(**{field: None})), 400)


async def test_put_of_an_empty_scheduler_brings_back_its_defaults(client: httpx.AsyncClient) -> None:
    made = await create(client, config(scheduler={"min_booking_notice": 5, "available_days_in_future": 7}))
    data = (await client.put(f"{configs_url()}/{made['id']}", json={"scheduler": {}})).json()["data"]
    assert data["scheduler"]["min_booking_notice"] == 60 and data["scheduler"]["available_days_in_future"] == 30


async def test_invalid_put_changes_nothing(client: httpx.AsyncClient) -> None:
    made = await create(client)
    url = f"{configs_url()}/{made['id']}"
    message = error(await client.put(url, json={"availability": {"interval_minutes": 15}}), 400)
    assert "availability.duration_minutes" in message
    assert (await client.get(url)).json()["data"] == made


async def test_put_sending_back_the_read_only_id_is_accepted(client: httpx.AsyncClient) -> None:
    made = await create(client)
    response = await client.put(f"{configs_url()}/{made['id']}", json=made | {"name": "Renamed"})
    assert response.status_code == 200 and response.json()["data"]["name"] == "Renamed"


async def test_slugs_are_unique_per_application(client: httpx.AsyncClient) -> None:
    await create(client, config(slug="taken"))
    error(await client.post(configs_url("another-grant"), json=config(slug="taken")), 400)
    other = await create(client, config(slug="free"))
    error(await client.put(f"{configs_url()}/{other['id']}", json={"slug": "taken"}), 400)


async def test_delete_is_refused_while_a_session_is_active(client: httpx.AsyncClient) -> None:
    made = await create(client)
    url = f"{configs_url()}/{made['id']}"
    await session(client, made["id"], ttl=10)
    assert "active sessions" in error(await client.delete(url), 400)
    await advance(client, 10)  # the session expires on the emulator's clock
    deleted = await client.delete(url)
    assert deleted.status_code == 200 and set(deleted.json()) == {"request_id"}
    error(await client.get(url), 404)


async def test_delete_is_allowed_once_the_session_is_deleted(client: httpx.AsyncClient) -> None:
    made = await create(client)
    session_id = await session(client, made["id"])
    error(await client.delete(f"{configs_url()}/{made['id']}"), 400)
    assert (await client.delete(f"/v3/scheduling/sessions/{session_id}")).status_code == 200
    assert (await client.delete(f"{configs_url()}/{made['id']}")).status_code == 200


@pytest.mark.parametrize(("body", "field"), [
    (config(colour="red"), "colour: unknown field"),
    (config(availability={"duration_minutes": 30, "availability_rules": {"default_open_hours": [
        {"days": [7], "start": "09:00", "end": "17:00"}]}}), "default_open_hours[0].days[0]"),
    (config(availability={"duration_minutes": 30, "availability_rules": {"default_open_hours": [
        {"days": [1], "start": "9:00", "end": "17:00"}]}}), "default_open_hours[0].start"),
    (config(availability={"duration_minutes": 30, "availability_rules": {"default_open_hours": [
        {"days": [1], "start": "09:00", "end": "17:00", "timezone": "Mars/Base"}]}}), "timezone"),
    (config(availability={"duration_minutes": 30, "availability_rules": {"availability_method": "fairness"}}),
     "availability_method"),
    (config(event_booking={"description": "no title"}), "event_booking.title"),
    (config(appearance={"color": "x" * 551}), "appearance.color"),
    (config(scheduler={"additional_fields": {"size": {"label": "Size", "type": "dropdown", "required": True}}}),
     "needs options"),
    (config(scheduler={"additional_fields": {"code": {"label": "Code", "type": "text", "required": False,
                                                      "pattern": "(a+)+$"}}}), "must not repeat"),
    (config(participants=[]), "participants"),
])
async def test_invalid_configurations_are_400_naming_the_field(client: httpx.AsyncClient, body: dict[str, Any],
                                                               field: str) -> None:
    assert field in error(await client.post(configs_url(), json=body), 400)


async def test_group_configurations_are_not_supported_yet(client: httpx.AsyncClient) -> None:
    body = {"type": "group", "name": "Class", "group_booking": {"calendar_id": "primary"}}
    assert choices.GROUP_NOT_SUPPORTED in error(await client.post(configs_url(), json=body), 400)


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b"", b'"text"', b"[" * 100_000])
async def test_malformed_bodies_are_400(client: httpx.AsyncClient, raw: bytes) -> None:
    error(await client.post(configs_url(), content=raw, headers={"content-type": "application/json"}), 400)


async def test_oversized_bodies_are_refused(client: httpx.AsyncClient) -> None:
    body = config(name="x" * (choices.MAX_BODY_BYTES + 1))
    assert "too large" in error(await client.post(configs_url(), json=body), 400)


async def test_requests_without_an_api_key_are_401(anon: httpx.AsyncClient) -> None:
    error(await anon.get(configs_url()), 401)
    error(await anon.post(configs_url(), json=config()), 401)
    error(await anon.get(configs_url(), headers={"Authorization": "Basic abc"}), 401)


@pytest.mark.parametrize("v3_api_key", [API_KEY])
async def test_a_set_api_key_is_the_only_one_accepted(client: httpx.AsyncClient, anon: httpx.AsyncClient) -> None:
    assert (await client.get(configs_url())).status_code == 200
    message = error(await anon.get(configs_url(), headers={"Authorization": "Bearer wrong"}), 401)
    assert "wrong" not in message


async def test_any_api_key_is_accepted_by_default(anon: httpx.AsyncClient) -> None:
    assert (await anon.get(configs_url(), headers={"Authorization": "Bearer whatever"})).status_code == 200


async def test_unknown_paths_and_methods_answer_the_v3_error_shape(client: httpx.AsyncClient) -> None:
    error(await client.get("/v3/scheduling/nothing-here"), 404)
    error(await client.patch(configs_url()), 405)


async def test_grant_ids_are_bounded(client: httpx.AsyncClient) -> None:
    error(await client.get(configs_url("g" * 300)), 400)


async def test_v2_and_v3_share_one_server(emulator: Any) -> None:
    async with httpx.AsyncClient(transport=emulator.transport(), base_url=BASE_URL) as c:
        v2 = await c.get("/manage/pages", headers={"Authorization": "Bearer some-v2-token"})
        v3 = await c.get(configs_url(GRANT), headers={"Authorization": "Bearer some-key"})
    assert v2.status_code == 200 and v2.json() == []
    assert v3.status_code == 200 and v3.json()["data"] == []


async def test_the_me_grant_needs_an_access_token(client: httpx.AsyncClient) -> None:
    assert "'me'" in error(await client.get(configs_url("me")), 400)


async def test_configurations_persist_in_a_database_shared_with_v2(tmp_path: Any) -> None:
    db = tmp_path / "emulator.db"
    first = Emulator(db)
    try:
        async with httpx.AsyncClient(transport=first.transport(), base_url=BASE_URL,
                                     headers={"Authorization": f"Bearer {API_KEY}"}) as c:
            made = await create(c, config(slug="kept"))
    finally:
        first.close()
    second = Emulator(db)  # a new process on the same file: both APIs' tables are there
    try:
        async with httpx.AsyncClient(transport=second.transport(), base_url=BASE_URL,
                                     headers={"Authorization": f"Bearer {API_KEY}"}) as c:
            assert (await c.get(f"{configs_url()}/{made['id']}")).json()["data"] == made
            assert (await c.get("/manage/pages")).status_code == 200
    finally:
        second.close()


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/v3/grants/g/scheduling/configurations/c/group-events"),
    ("POST", "/v3/grants/g/scheduling/configurations/c/group-events"),
    ("PUT", "/v3/grants/g/scheduling/configurations/c/group-events/e"),
    ("DELETE", "/v3/grants/g/scheduling/configurations/c/group-events/e"),
    ("POST", "/v3/scheduling/configurations/c/import-group-events"),
    ("POST", "/v3/scheduling/configurations/c/group-events/validate-timeslot"),
])
async def test_group_event_operations_are_not_supported_yet(client: httpx.AsyncClient, method: str,
                                                            path: str) -> None:
    assert choices.GROUP_NOT_SUPPORTED in error(await client.request(method, path), 400)
