"""What the official v2 SDKs send that the emulator once refused: Basic auth with the token as user
name (Node SDK 6), the provider availability calls, list views, undefined additional values."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from provisioner.apis.nylas_v2.emulator.auth import request_token
from provisioner.emulator import Emulator, RateLimitConfig, account_id_for

pytestmark = pytest.mark.anyio

TOKEN = "token-basic-auth-0123456789"
OTHER = "token-basic-other-0123456"


def basic(token: str, password: str = "") -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{token}:{password}".encode()).decode()}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize(("header", "token"), [
    ("Bearer abc", "abc"),
    ("bearer  abc ", "abc"),
    ("Basic " + base64.b64encode(b"abc:").decode(), "abc"),
    ("BASIC " + base64.b64encode(b"abc:ignored").decode(), "abc"),
    ("Basic " + base64.b64encode(b"abc").decode(), "abc"),
    ("Basic YWJj\nOg==\n", "abc"),  # Ruby's Base64.encode64 wraps lines
    ("Basic " + base64.b64encode(b":secret").decode(), None),
    ("Basic not*base64", None),
    ("Basic " + base64.b64encode(b"\xff\xfe:").decode(), None),
    ("Digest abc", None),
    ("Bearer", None),
    ("", None),
])
def test_request_token_reads_bearer_and_basic(header: str, token: str | None) -> None:
    assert request_token({"authorization": header}) == token


async def test_basic_auth_works_on_every_authenticated_endpoint(emu_client: httpx.AsyncClient) -> None:
    created = await emu_client.post("/manage/pages", headers=basic(TOKEN),
                                    json={"access_tokens": [TOKEN], "slug": "basic"})
    assert created.status_code == 201, created.text
    page = created.json()
    url = f"/manage/pages/{page['id']}"
    for auth in (basic(TOKEN), basic(page["edit_token"])):
        assert (await emu_client.get("/manage/pages", headers=auth)).json()[0]["id"] == page["id"]
        assert (await emu_client.get(url, headers=auth)).status_code == 200
        assert (await emu_client.put(url, headers=auth, json={"name": "Basic"})).json()["name"] == "Basic"
        calendars = (await emu_client.get(f"{url}/calendars", headers=auth)).json()
        assert [c["id"] for c in calendars] == [account_id_for(TOKEN)]
        upload = await emu_client.put(f"{url}/upload-image", headers=auth,
                                      json={"contentType": "image/png", "objectName": "logo.png"})
        assert upload.status_code == 200, upload.text
        assert (await emu_client.get("/schedule/availability/google", headers=auth)).status_code == 200
    denied = await emu_client.get(url, headers=basic(OTHER))
    assert denied.status_code == 401 and OTHER not in denied.text
    assert (await emu_client.delete(url, headers=basic(page["edit_token"]))).json() == {"success": True}
    for path in ("/manage/pages", "/schedule/availability/google"):  # the editor tells "deleted" from "wrong"
        gone = await emu_client.get(path, headers=basic(page["edit_token"]))
        assert gone.status_code == 404 and gone.json()["message"] == "The page of this edit token was deleted"
    assert (await emu_client.get("/manage/pages", headers=basic("never-seen-token"))).json() == []


async def test_rate_limits_key_on_the_token_whether_bearer_or_basic(emu_clock: Any) -> None:
    now = [0.0]
    emulator = Emulator(":memory:", clock=emu_clock, rate_limits=RateLimitConfig(per_account=1, per_application=None),
                        monotonic=lambda: now[0])
    try:
        async with httpx.AsyncClient(transport=emulator.transport(), base_url="http://emulator.local") as client:
            assert (await client.get("/manage/pages", headers=bearer(TOKEN))).status_code == 200
            limited = await client.get("/manage/pages", headers=basic(TOKEN))
            assert limited.status_code == 429 and limited.headers["Retry-After"] == "1"
            assert (await client.get("/manage/pages", headers=basic(OTHER))).status_code == 200
            now[0] += 1.0
            assert (await client.get("/manage/pages", headers=basic(TOKEN))).status_code == 200
            assert (await client.get("/manage/pages", headers=bearer(TOKEN))).status_code == 429
    finally:
        emulator.close()


async def test_list_views_count_and_ids(emu_client: httpx.AsyncClient) -> None:
    ids = []
    for slug in ("v1", "v2", "v3"):
        created = await emu_client.post("/manage/pages", json={"access_tokens": [TOKEN], "slug": slug})
        ids.append(created.json()["id"])
    count = await emu_client.get("/manage/pages", params={"view": "count", "limit": 1}, headers=basic(TOKEN))
    assert count.json() == {"count": 3}
    listed = await emu_client.get("/manage/pages", params={"view": "ids", "offset": 1}, headers=basic(TOKEN))
    assert listed.json() == ids[1:]
    none = await emu_client.get("/manage/pages", params={"view": "count"}, headers=basic(OTHER))
    assert none.json() == {"count": 0}


async def test_provider_availability_lists_busy_times_of_the_callers_accounts(
    emu_client: httpx.AsyncClient, emu_clock: Any
) -> None:
    page = (await emu_client.post("/manage/pages", json={"access_tokens": [TOKEN, OTHER], "slug": "busy"})).json()
    account = account_id_for(TOKEN)
    day = int(datetime(2024, 3, 4, tzinfo=UTC).timestamp())
    past = int(datetime(2024, 2, 1, tzinfo=UTC).timestamp())
    far = int(datetime(2024, 6, 1, tzinfo=UTC).timestamp())
    for start in (day + 3600, day, past, far):
        added = await emu_client.post(f"/_emulator/accounts/{account}/events",
                                      json={"start": start, "end": start + 1800})
        assert added.status_code == 201, added.text
    for provider in ("google", "o365"):
        mine = (await emu_client.get(f"/schedule/availability/{provider}", headers=bearer(TOKEN))).json()
        assert mine == [{"name": page["access_token_infos"][0]["account_name"],
                         "email": page["access_token_infos"][0]["account_email"],
                         "busy": [{"start": day, "end": day + 1800}, {"start": day + 3600, "end": day + 5400}]}]
    by_page = (await emu_client.get("/schedule/availability/google", headers=basic(page["edit_token"]))).json()
    assert [a["email"] for a in by_page] == [i["account_email"] for i in page["access_token_infos"]]
    assert by_page[1]["busy"] == []
    assert (await emu_client.get("/schedule/availability/google")).status_code == 401
    assert (await emu_client.get("/schedule/availability/o365", headers=bearer("never-seen"))).status_code == 401
    assert (await emu_client.get("/schedule/availability/outlook", headers=bearer(TOKEN))).status_code == 404


async def test_the_request_shapes_of_the_ruby_and_java_sdks(emu_client: httpx.AsyncClient) -> None:
    """Read from nylas-ruby 5.17 and nylas-java 1.22 (not runnable here): Java's Gson sends every list
    field, empty or not, and save() sends the read-only fields back; Ruby's update sends only the keys
    it changes; both book with a locale like ``en_US`` and values the page does not define."""
    java_field = {"label": "Notes", "name": "notes", "type": "text", "order": 1, "required": False,
                  "dropdown_options": [], "multi_select_options": []}
    config = {"timezone": "UTC", "reminders": [],
              "booking": {"additional_fields": [java_field], "opening_hours": [
                  {"account_id": account_id_for(TOKEN), "days": ["M", "T", "W", "R", "F"], "start": "09:00",
                   "end": "17:00"}]},
              "calendar_ids": {account_id_for(TOKEN): {"availability": []}}}
    created = await emu_client.post("/manage/pages", json={"access_tokens": [TOKEN], "name": "Java SDK Example",
                                                           "slug": "java_example_1636728347", "config": config})
    assert created.status_code == 201, created.text
    page = created.json()
    url, auth = f"/manage/pages/{page['id']}", bearer(TOKEN)
    java_save = {k: page[k] for k in ("app_client_id", "edit_token", "app_organization_id", "created_at",
                                      "modified_at", "slug", "config")} | {"name": "Updated Java SDK Name"}
    assert (await emu_client.put(url, headers=auth, json=java_save)).json()["name"] == "Updated Java SDK Name"
    ruby_update = await emu_client.put(url, headers=auth, json={"name": "Updated name"})
    assert ruby_update.json()["name"] == "Updated name" and ruby_update.json()["config"] == page["config"]

    slots = (await emu_client.get("/schedule/java_example_1636728347/timeslots")).json()
    for values, slot in (({"important": True}, slots[-1]), ({"important": "true"}, slots[0])):
        booked = await emu_client.post("/schedule/java_example_1636728347/timeslots", json={
            "additional_values": values, "additional_emails": [], "email": "recipient@example.com",
            "locale": "en_US", "name": "John Doe", "timezone": "America/New_York", "slot": slot})
        assert booked.status_code == 200, booked.text
        assert booked.json()["additional_field_values"] == values
        cancelled = await emu_client.post(f"/schedule/java_example_1636728347/{booked.json()['edit_hash']}/cancel",
                                          json={"reason": "This was a test."})
        assert cancelled.json() == {"success": True}
