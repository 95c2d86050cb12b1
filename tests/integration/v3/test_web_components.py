"""What Nylas's web components call beyond the spec, in-process: ``ui-settings``, a grant's calendars,
the editor's extra configuration fields, the slot references a booking carries, and CORS. (The
components themselves run in ``tests/browser/v3``.)"""

from __future__ import annotations

import httpx
import pytest

from provisioner.apis.nylas_v3 import choices
from provisioner.emulator import Emulator, FaultConfig
from tests.integration.v3.conftest import GRANT, MON_0900, book, config, configs_url, create, error, session

pytestmark = pytest.mark.anyio
# What these tests exchange is, on purpose, beyond the spec: choices.EXTENSION_ENDPOINTS, the editor's
# extra fields, CORS preflights.
beyond_the_spec = pytest.mark.v3_contract_exempt("the web components' calls that the spec does not list ([choice]s)")

@beyond_the_spec
async def test_ui_settings_of_a_public_configuration(client: httpx.AsyncClient, anon: httpx.AsyncClient) -> None:
    made = await create(client, config(slug="intro", name="Intro", appearance={"color": "#123456"},
                                       scheduler={"available_days_in_future": 7, "cancellation_policy": "24h"}))
    answer = await anon.get("/v3/scheduling/ui-settings", params={"configuration_id": made["id"]})
    assert answer.status_code == 200, answer.text
    assert set(answer.json()) == {"request_id", "data"}
    data = answer.json()["data"]
    assert data["configuration_id"] == made["id"] and data["app_client_id"] == choices.APPLICATION_ID
    assert (data["name"], data["slug"], data["booking_type"]) == ("Intro", "intro", "booking")
    assert data["organizer"] == {"name": "Alice", "email": "alice@example.com"}
    assert data["appearance"] == {"color": "#123456"}
    assert data["scheduler"] == made["scheduler"]  # as stored, server defaults included
    assert data["scheduler"]["min_booking_notice"] == 60
    by_slug = await anon.get("/v3/scheduling/ui-settings", params={"slug": "intro", "client_id": "anything"})
    assert by_slug.json()["data"]["configuration_id"] == made["id"]


@beyond_the_spec
async def test_ui_settings_is_authorised_as_availability(client: httpx.AsyncClient, anon: httpx.AsyncClient) -> None:
    made = await create(client, config(requires_session_auth=True))
    error(await anon.get("/v3/scheduling/ui-settings", params={"configuration_id": made["id"]}), 401)
    error(await anon.get("/v3/scheduling/ui-settings"), 401)
    sid = await session(client, made["id"])
    answer = await anon.get("/v3/scheduling/ui-settings", headers={"Authorization": f"Bearer {sid}"})
    assert answer.json()["data"]["configuration_id"] == made["id"]
    error(await anon.get("/v3/scheduling/ui-settings", params={"configuration_id": "nope"}), 404)


@beyond_the_spec
async def test_ui_settings_with_a_booking_prefills_the_form(client: httpx.AsyncClient, anon: httpx.AsyncClient) -> None:
    made = await create(client, config(scheduler={"additional_fields": {
        "company": {"label": "Company", "type": "text", "required": False}}}))
    other = await create(client, config(slug="other"))
    booked = await book(anon, made["id"], MON_0900, timezone="Europe/Paris", additional_fields={"company": "ACME"})
    booking_id = booked.json()["data"]["booking_id"]
    answer = await anon.get("/v3/scheduling/ui-settings", params={"configuration_id": made["id"],
                                                                  "booking_id": booking_id})
    booking = answer.json()["data"]["booking"]
    assert booking["guest"] == {"email": "guest@example.org", "name": "Guest"}
    assert booking["additional_fields"] == {"company": "ACME"} and booking["timezone"] == "Europe/Paris"
    assert booking["event_data"]["when"]["start_time"] == MON_0900
    error(await anon.get("/v3/scheduling/ui-settings", params={"configuration_id": other["id"],
                                                               "booking_id": booking_id}), 404)


async def test_a_booking_may_carry_the_slots_calendar_id(client: httpx.AsyncClient, anon: httpx.AsyncClient) -> None:
    made = await create(client)
    slots = (await anon.get("/v3/scheduling/availability", params={
        "configuration_id": made["id"], "start_time": MON_0900, "end_time": MON_0900 + 3600})).json()["data"]
    calendar_id = slots["time_slots"][0]["calendar_id"]
    booked = await book(anon, made["id"], MON_0900, calendar_id=calendar_id)
    assert booked.status_code == 200, booked.text
    assert "unknown field" in error(await book(anon, made["id"], MON_0900 + 1800, calendar=calendar_id), 400)


@beyond_the_spec
async def test_a_grant_lists_its_primary_calendar(client: httpx.AsyncClient, anon: httpx.AsyncClient) -> None:
    answer = await client.get(f"/v3/grants/{GRANT}/calendars", params={"limit": 50})
    assert answer.status_code == 200
    assert answer.json()["next_cursor"] is None
    [calendar] = answer.json()["data"]
    assert calendar["id"] == choices.primary_calendar_id_for(GRANT) and calendar["is_primary"] is True
    assert calendar["grant_id"] == GRANT
    error(await anon.get(f"/v3/grants/{GRANT}/calendars"), 401)
    error(await client.get(f"/v3/grants/{GRANT}/calendars", params={"limit": 0}), 400)


@beyond_the_spec
async def test_the_editors_extra_fields_are_taken_and_dropped(client: httpx.AsyncClient) -> None:
    made = await create(client)
    body = config()
    body["version"] = "1.0.0"
    body["availability"]["availability_rules"]["round_robin_group_id"] = ""
    body["availability"]["duration_minutes"] = 45
    body["event_booking"]["conferencing"] = {}
    body["scheduler"] = {"email_template": {"organizer_locale": "en", "show_nylas_branding": True}}
    answer = await client.put(f"{configs_url()}/{made['id']}", json={"id": made["id"], **body})
    assert answer.status_code == 200, answer.text
    live = answer.json()["data"]
    assert "version" not in live and "conferencing" not in live["event_booking"]
    assert "round_robin_group_id" not in live["availability"]["availability_rules"]
    assert live["scheduler"]["email_template"] == {"show_nylas_branding": True}
    assert live["availability"]["duration_minutes"] == 45
    body["event_booking"]["conferencing"] = {"autocreate": {}}  # not empty: still needs its provider
    error(await client.put(f"{configs_url()}/{made['id']}", json=body), 400)
    assert "unknown field" in error(await client.post(configs_url(), json=config(versions="1")), 400)


@beyond_the_spec
async def test_cors_preflight_and_answers(anon: httpx.AsyncClient) -> None:
    preflight = await anon.options("/v3/scheduling/availability", headers={
        "Origin": "http://127.0.0.1:8080", "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization,x-source"})
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert preflight.headers["access-control-max-age"] == str(choices.CORS_MAX_AGE_S)
    assert "authorization" in preflight.headers["access-control-allow-headers"].lower()
    refused = await anon.get("/v3/scheduling/availability", headers={"Origin": "http://127.0.0.1:8080"})
    assert refused.status_code == 401 and refused.headers["access-control-allow-origin"] == "*"
    assert "retry-after" in refused.headers["access-control-expose-headers"].lower()


@beyond_the_spec
async def test_injected_faults_and_rate_limits_carry_cors_too(emulator: Emulator, anon: httpx.AsyncClient) -> None:
    origin = {"Origin": "http://127.0.0.1:8080"}
    emulator.faults = FaultConfig(error_rate=1.0)
    faulted = await anon.get("/v3/scheduling/availability", headers=origin)
    assert faulted.status_code == 503 and faulted.headers["access-control-allow-origin"] == "*"
    emulator.faults = FaultConfig(rate_limit_rate=1.0, retry_after=2)
    limited = await anon.get("/v3/scheduling/availability", headers=origin)
    assert limited.status_code == 429 and limited.headers["access-control-allow-origin"] == "*"
    assert [v for k, v in limited.headers.multi_items() if k == "access-control-allow-origin"] == ["*"]


async def test_the_booking_components_cancel_and_reschedule_bodies(client: httpx.AsyncClient,
                                                                   anon: httpx.AsyncClient) -> None:
    made = await create(client)
    booking_id = (await book(anon, made["id"], MON_0900)).json()["data"]["booking_id"]
    url = f"/v3/scheduling/bookings/{booking_id}"
    params = {"configuration_id": made["id"]}
    moved = await anon.patch(url, params=params, json={
        "start_time": MON_0900 + 1800, "end_time": MON_0900 + 3600, "timezone": "UTC", "additional_fields": {},
        "guest": {"name": "Guest", "email": "guest@example.org"}, "additional_guests": [],
        "participants": [{"email": "alice@example.com"}], "email_language": "en"})
    assert moved.status_code == 200, moved.text
    assert "unknown field" in error(await anon.patch(url, params=params, json={
        "start_time": MON_0900, "end_time": MON_0900 + 1800, "color": "red"}), 400)
    error(await anon.request("DELETE", url, params=params, json={"action": "delete"}), 400)
    cancelled = await anon.request("DELETE", url, params=params, json={"action": "cancel", "cancellation_reason": "x"})
    assert cancelled.status_code == 200, cancelled.text
