"""The emulator's API endpoints 1-5 through the in-process transport: shapes, auth, errors."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from provisioner.apis.nylas_v2 import model, spec
from provisioner.apis.nylas_v2.emulator import choices
from provisioner.emulator import Emulator, account_id_for

pytestmark = pytest.mark.anyio

TOKEN_A = "token-alice-0123456789"
TOKEN_B = "token-bob-0123456789"
TOKEN_C = "token-carol-0123456789"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def create(client: httpx.AsyncClient, *tokens: str, **fields: Any) -> dict[str, Any]:
    response = await client.post("/manage/pages", json={"access_tokens": list(tokens or [TOKEN_A]), **fields})
    assert response.status_code == 201, response.text
    return response.json()


def assert_error(response: httpx.Response, status: int, error_type: str, *secrets: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"message", "type"}
    assert body["type"] == error_type
    assert isinstance(body["message"], str) and body["message"]
    for secret in secrets:
        assert secret not in response.text
    return body["message"]


# --- the guide's create request ------------------------------------------------------------------

SERVER_ASSIGNED = {"id", "edit_token", "created_at", "modified_at", "app_client_id", "app_organization_id"}


def assert_same(actual: Any, expected: Any, path: str = "") -> None:
    """Same keys at every level and same values of the same JSON types."""
    assert type(actual) is type(expected), f"{path}: {type(actual).__name__} != {type(expected).__name__}"
    if isinstance(expected, dict):
        assert set(actual) == set(expected), f"{path}: keys {sorted(actual)} != {sorted(expected)}"
        for key in expected:
            assert_same(actual[key], expected[key], f"{path}.{key}")
    elif isinstance(expected, list):
        assert len(actual) == len(expected), f"{path}: length"
        for i, (a, e) in enumerate(zip(actual, expected, strict=True)):
            assert_same(a, e, f"{path}[{i}]")
    else:
        assert actual == expected, f"{path}: {actual!r} != {expected!r}"


async def test_guide_create_request_gets_the_guide_response(
    emu_client: httpx.AsyncClient, emu_guide_request: dict[str, Any], emu_guide_response: dict[str, Any]
) -> None:
    response = await emu_client.post("/manage/pages", json=emu_guide_request)
    assert response.status_code == 201, response.text
    page = response.json()
    assert set(page) == set(emu_guide_response)
    for key in set(emu_guide_response) - SERVER_ASSIGNED - {"access_token_infos"}:
        assert_same(page[key], emu_guide_response[key], key)
    # access_token_infos: same shape, the emulator's own account e-mail and name
    expected_infos = emu_guide_response["access_token_infos"]
    assert [set(i) for i in page["access_token_infos"]] == [set(i) for i in expected_infos]
    account = account_id_for("<ACCESS_TOKEN>")
    assert page["access_token_infos"] == [
        {"account_email": choices.account_email_for(account),
         "account_name": choices.account_name_for(account)}
    ]
    # server-assigned values: right types and formats
    assert isinstance(page["id"], int) and page["id"] > 0
    assert re.fullmatch(r"[A-Za-z0-9]{32}", page["edit_token"])
    assert page["created_at"] == page["modified_at"] == "2024-03-01"
    assert isinstance(page["app_client_id"], str)
    assert isinstance(page["app_organization_id"], int)
    model.Page.model_validate(page)


# --- create ----------------------------------------------------------------------------------------


async def test_create_without_slug_or_config_gets_generated_slug_and_defaults(
    emu_client: httpx.AsyncClient,
) -> None:
    page = await create(emu_client)
    assert model.SLUG_RE.match(page["slug"])
    assert page["config"] == spec.fill_server_defaults({})
    assert "name" not in page
    other = await create(emu_client)
    assert other["slug"] != page["slug"]
    assert other["id"] > page["id"]
    assert other["edit_token"] != page["edit_token"]


async def test_create_lists_one_account_info_per_token_in_order(emu_client: httpx.AsyncClient) -> None:
    page = await create(emu_client, TOKEN_B, TOKEN_A)
    emails = [i["account_email"] for i in page["access_token_infos"]]
    assert emails == [choices.account_email_for(account_id_for(t)) for t in (TOKEN_B, TOKEN_A)]
    assert TOKEN_A not in str(page) and TOKEN_B not in str(page)


async def test_account_identity_is_stable_and_distinct() -> None:
    assert account_id_for(TOKEN_A) == account_id_for(TOKEN_A)
    assert account_id_for(TOKEN_A) != account_id_for(TOKEN_B)
    assert re.fullmatch(r"[0-9a-z]{25}", account_id_for(TOKEN_A))
    assert TOKEN_A not in choices.token_hash(TOKEN_A)


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"access_tokens": [TOKEN_A], "colour": "red"}, "colour"),
        ({"access_tokens": [TOKEN_A], "config": {"booking": {"interval_minutes": 7}}}, "config.booking"),
        ({"access_tokens": [TOKEN_A], "config": {"event": {"duration": 0}}}, "config.event.duration"),
        ({"access_tokens": [TOKEN_A], "config": {"appearance": {"colour": "#fff000"}}},
         "config.appearance.colour"),
        ({"access_tokens": [TOKEN_A], "config": {"reminders": [{"delivery_method": "sms"}]}},
         "config.reminders[0].delivery_method"),
        ({"access_tokens": [TOKEN_A], "slug": "Not A Slug"}, "slug"),
        ({"access_tokens": []}, "access_tokens"),
        ({"name": "no tokens"}, "access_tokens"),
        ({"access_tokens": [TOKEN_A, TOKEN_A]}, "access_tokens[1]"),
        ({"access_tokens": [""]}, "access_tokens[0]"),
    ],
)
async def test_invalid_create_is_400_naming_the_field(
    emu_client: httpx.AsyncClient, body: dict[str, Any], named: str
) -> None:
    response = await emu_client.post("/manage/pages", json=body)
    message = assert_error(response, 400, "invalid_request_error", TOKEN_A)
    assert named in message
    listed = await emu_client.get("/manage/pages", headers=bearer(TOKEN_A))
    assert listed.json() == []


async def test_malformed_json_and_non_object_bodies_are_400(emu_client: httpx.AsyncClient) -> None:
    for content in (b"{not json", b"[1, 2]", b"", b'"text"'):
        response = await emu_client.post("/manage/pages", content=content,
                                         headers={"Content-Type": "application/json"})
        assert_error(response, 400, "invalid_request_error")


async def test_duplicate_slug_is_refused_with_the_service_message(emu_client: httpx.AsyncClient) -> None:
    await create(emu_client, slug="taken")
    response = await emu_client.post("/manage/pages", json={"access_tokens": [TOKEN_B], "slug": "taken"})
    message = assert_error(response, 400, "invalid_request_error", TOKEN_B)
    assert message == "Sorry, the page slug you provided is already taken"


async def test_read_only_fields_on_create_are_ignored(emu_client: httpx.AsyncClient) -> None:
    sent = {"id": 4242, "edit_token": "x" * 32, "created_at": "1999-01-01", "app_client_id": "mine",
            "app_organization_id": 7, "modified_at": "1999-01-01", "access_token_infos": []}
    page = await create(emu_client, slug="ro", **sent)
    assert page["id"] != 4242
    assert page["edit_token"] != "x" * 32
    assert page["created_at"] == "2024-03-01"
    assert page["app_client_id"] == choices.APP_CLIENT_ID
    assert len(page["access_token_infos"]) == 1


# --- auth ------------------------------------------------------------------------------------------


async def test_page_scoped_calls_accept_the_edit_token_and_every_access_token(
    emu_client: httpx.AsyncClient,
) -> None:
    page = await create(emu_client, TOKEN_A, TOKEN_B, slug="shared")
    for token in (page["edit_token"], TOKEN_A, TOKEN_B):
        response = await emu_client.get(f"/manage/pages/{page['id']}", headers=bearer(token))
        assert response.status_code == 200
        assert response.json() == page


async def test_missing_or_malformed_or_unknown_token_is_401(emu_client: httpx.AsyncClient) -> None:
    page = await create(emu_client)
    url = f"/manage/pages/{page['id']}"
    token = page["edit_token"]
    for headers in ({}, {"Authorization": token}, {"Authorization": f"Basic {token}"},
                    {"Authorization": "Bearer "}, bearer("never-seen-token")):
        for method in ("GET", "PUT", "DELETE"):
            response = await emu_client.request(method, url, headers=headers, json={"name": "x"})
            assert_error(response, 401, "unauthorized", page["edit_token"], "never-seen-token")
    # also for a page that does not exist: no token says nothing about which pages exist
    assert_error(await emu_client.get("/manage/pages/999"), 401, "unauthorized")
    assert (await emu_client.get(url, headers=bearer(page["edit_token"]))).json().get("name") != "x"


async def test_another_pages_edit_token_is_403_and_changes_nothing(emu_client: httpx.AsyncClient) -> None:
    mine = await create(emu_client, slug="mine", name="Mine")
    theirs = await create(emu_client, slug="theirs")
    url = f"/manage/pages/{mine['id']}"
    for method in ("GET", "PUT", "DELETE"):
        response = await emu_client.request(method, url, headers=bearer(theirs["edit_token"]),
                                            json={"name": "hijacked"})
        assert_error(response, 403, "forbidden", theirs["edit_token"], mine["edit_token"])
    after = await emu_client.get(url, headers=bearer(mine["edit_token"]))
    assert after.json() == mine


async def test_an_account_not_on_the_page_is_403(emu_client: httpx.AsyncClient) -> None:
    page = await create(emu_client, TOKEN_A)
    await create(emu_client, TOKEN_C)  # TOKEN_C is now a known account
    for method in ("GET", "PUT", "DELETE"):
        response = await emu_client.request(method, f"/manage/pages/{page['id']}", headers=bearer(TOKEN_C),
                                            json={})
        assert_error(response, 403, "forbidden", TOKEN_C)


async def test_unknown_page_id_with_a_valid_token_is_404(emu_client: httpx.AsyncClient) -> None:
    page = await create(emu_client)
    for page_id in ("999", "abc", "0", "-1", "99999999999999999999999"):
        for method in ("GET", "PUT", "DELETE"):
            response = await emu_client.request(method, f"/manage/pages/{page_id}",
                                                headers=bearer(page["edit_token"]), json={})
            assert_error(response, 404, "not_found_error", page["edit_token"])


async def test_unknown_route_and_method_are_json_errors(emu_client: httpx.AsyncClient) -> None:
    assert_error(await emu_client.get("/manage/nothing"), 404, "not_found_error")
    assert_error(await emu_client.patch("/manage/pages"), 405, "invalid_request_error")


# --- list ------------------------------------------------------------------------------------------


async def test_list_returns_the_bearers_pages_with_offset_and_limit(emu_client: httpx.AsyncClient) -> None:
    mine = [await create(emu_client, TOKEN_A, slug=f"a-{i}") for i in range(5)]
    await create(emu_client, TOKEN_B, slug="b-only")
    shared = await create(emu_client, TOKEN_B, TOKEN_A, slug="shared")
    mine.append(shared)

    async def listed(**params: int) -> list[dict[str, Any]]:
        response = await emu_client.get("/manage/pages", params=params, headers=bearer(TOKEN_A))
        assert response.status_code == 200
        return response.json()

    assert await listed() == mine  # full page objects, edit tokens included, by id
    assert await listed(limit=2) == mine[:2]
    assert await listed(offset=2, limit=3) == mine[2:5]
    assert await listed(offset=5, limit=10) == mine[5:]
    assert await listed(offset=6) == []
    assert [p["slug"] for p in (await emu_client.get("/manage/pages", headers=bearer(TOKEN_B))).json()] == [
        "b-only", "shared"]


async def test_list_default_limit_is_bounded(emu_client: httpx.AsyncClient) -> None:
    for i in range(choices.DEFAULT_LIST_LIMIT + 1):
        await create(emu_client, slug=f"p{i}")
    response = await emu_client.get("/manage/pages", headers=bearer(TOKEN_A))
    assert len(response.json()) == choices.DEFAULT_LIST_LIMIT


async def test_list_auth_and_bad_parameters(emu_client: httpx.AsyncClient) -> None:
    page = await create(emu_client)
    assert_error(await emu_client.get("/manage/pages"), 401, "unauthorized")
    own = await emu_client.get("/manage/pages", headers=bearer(page["edit_token"]))  # the Schedule Editor's way
    assert own.status_code == 200 and [p["id"] for p in own.json()] == [page["id"]]
    unknown = await emu_client.get("/manage/pages", headers=bearer("fresh-account-token"))
    assert unknown.status_code == 200 and unknown.json() == []
    for params in ({"limit": "x"}, {"offset": "-1"}, {"limit": str(choices.MAX_LIST_LIMIT + 1)}, {"view": "x"}):
        response = await emu_client.get("/manage/pages", params=params, headers=bearer(TOKEN_A))
        assert_error(response, 400, "invalid_request_error")


# --- update ----------------------------------------------------------------------------------------


async def test_put_keeps_left_out_keys_and_replaces_a_sent_config_whole(
    emu_client: httpx.AsyncClient, emu_clock: Any
) -> None:
    config = {"event": {"title": "Intro", "duration": 45}, "timezone": "Europe/Paris"}
    page = await create(emu_client, slug="intro", name="Intro", config=config)
    url, auth = f"/manage/pages/{page['id']}", bearer(page["edit_token"])
    emu_clock.now = datetime(2024, 3, 9, tzinfo=UTC)

    renamed = (await emu_client.put(url, headers=auth, json={"name": "Intro call"})).json()
    assert renamed["name"] == "Intro call"
    assert renamed["slug"] == "intro" and renamed["config"] == page["config"]
    assert renamed["created_at"] == "2024-03-01" and renamed["modified_at"] == "2024-03-09"
    assert renamed["edit_token"] == page["edit_token"] and renamed["id"] == page["id"]

    replaced = (await emu_client.put(url, headers=auth, json={"config": {"event": {"title": "New"}}})).json()
    assert replaced["config"] == spec.fill_server_defaults({"event": {"title": "New"}})
    assert "timezone" not in replaced["config"]
    assert replaced["name"] == "Intro call"
    assert (await emu_client.get(url, headers=auth)).json() == replaced


async def test_put_of_the_whole_object_as_read_ignores_read_only_fields(
    emu_client: httpx.AsyncClient,
) -> None:
    page = await create(emu_client, slug="roundtrip", name="Round trip")
    url, auth = f"/manage/pages/{page['id']}", bearer(TOKEN_A)
    sent = {**page, "name": "Round trip 2", "id": 1234, "edit_token": "y" * 32, "created_at": "2000-01-01"}
    response = await emu_client.put(url, headers=auth, json=sent)
    assert response.status_code == 200, response.text
    assert response.json() == {**page, "name": "Round trip 2"}


async def test_put_refuses_unknown_fields_and_taken_slugs(emu_client: httpx.AsyncClient) -> None:
    await create(emu_client, slug="first")
    page = await create(emu_client, slug="second")
    url, auth = f"/manage/pages/{page['id']}", bearer(page["edit_token"])
    message = assert_error(await emu_client.put(url, headers=auth, json={"nickname": "x"}), 400,
                           "invalid_request_error")
    assert "nickname" in message
    message = assert_error(await emu_client.put(url, headers=auth, json={"slug": "first"}), 400,
                           "invalid_request_error")
    assert message == choices.SLUG_TAKEN_MESSAGE
    assert_error(await emu_client.put(url, headers=auth, content=b"{oops"), 400, "invalid_request_error")
    same = await emu_client.put(url, headers=auth, json={"slug": "second"})
    assert same.status_code == 200 and same.json()["slug"] == "second"
    moved = await emu_client.put(url, headers=auth, json={"slug": "third"})
    assert moved.json()["slug"] == "third"
    assert (await emu_client.post("/manage/pages", json={"access_tokens": [TOKEN_A], "slug": "second"})
            ).status_code == 201


async def test_put_access_tokens_replaces_the_pages_accounts(emu_client: httpx.AsyncClient) -> None:
    page = await create(emu_client, TOKEN_A)
    url = f"/manage/pages/{page['id']}"
    response = await emu_client.put(url, headers=bearer(TOKEN_A), json={"access_tokens": [TOKEN_B, TOKEN_C]})
    assert [i["account_email"] for i in response.json()["access_token_infos"]] == [
        choices.account_email_for(account_id_for(t)) for t in (TOKEN_B, TOKEN_C)]
    assert_error(await emu_client.get(url, headers=bearer(TOKEN_A)), 403, "forbidden")
    assert (await emu_client.get(url, headers=bearer(TOKEN_C))).status_code == 200
    assert (await emu_client.get("/manage/pages", headers=bearer(TOKEN_A))).json() == []


# --- delete ----------------------------------------------------------------------------------------


async def test_delete_answers_success_and_the_page_is_gone(emu_client: httpx.AsyncClient) -> None:
    page = await create(emu_client, slug="short-lived")
    url = f"/manage/pages/{page['id']}"
    response = await emu_client.delete(url, headers=bearer(page["edit_token"]))
    assert response.status_code == 200 and response.json() == {"success": True}
    assert_error(await emu_client.get(url, headers=bearer(TOKEN_A)), 404, "not_found_error")
    # [choice] the deleted page's own edit token answers 404 (gone), not 401 (never seen)
    assert_error(await emu_client.get(url, headers=bearer(page["edit_token"])), 404, "not_found_error")
    assert (await emu_client.get("/manage/pages", headers=bearer(TOKEN_A))).json() == []
    recreated = await create(emu_client, slug="short-lived")  # the slug is free again
    assert recreated["id"] != page["id"]


async def test_delete_with_an_account_token(emu_emulator: Emulator, emu_client: httpx.AsyncClient) -> None:
    page = await create(emu_client, TOKEN_A, TOKEN_B)
    response = await emu_client.delete(f"/manage/pages/{page['id']}", headers=bearer(TOKEN_B))
    assert response.json() == {"success": True}
    assert emu_emulator.store.get_page(page["id"]) is None


async def test_an_internal_failure_is_a_500_in_the_error_shape(
    emu_emulator: Emulator, emu_client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = await create(emu_client)

    def broken(page_id: int) -> None:
        raise RuntimeError(f"disk on fire while reading {page['edit_token']}")

    monkeypatch.setattr(emu_emulator.store, "get_page", broken)
    response = await emu_client.get(f"/manage/pages/{page['id']}", headers=bearer(page["edit_token"]))
    assert_error(response, 500, "api_error", page["edit_token"], "disk on fire")
