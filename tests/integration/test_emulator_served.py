"""The emulator over real HTTP (uvicorn on 127.0.0.1): plain httpx, dropped connections, official SDK."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from nylas.client import restful_model_collection
from nylas.client.errors import NylasApiError, RateLimitError

from provisioner.emulator import Emulator, FaultConfig
from tests.integration.conftest import sdk_scheduler

TOKEN = "token-served-0123456789"
OTHER = "token-served-other-0123"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def emu_http(emu_served: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=emu_served, timeout=10) as client:
        yield client


def test_crud_over_http(emu_http: httpx.Client) -> None:
    created = emu_http.post("/manage/pages", json={"access_tokens": [TOKEN], "slug": "served", "name": "S"})
    assert created.status_code == 201
    page = created.json()
    url, auth = f"/manage/pages/{page['id']}", {"Authorization": f"Bearer {page['edit_token']}"}
    assert emu_http.get(url, headers=auth).json() == page
    assert emu_http.put(url, headers=auth, json={"name": "T"}).json()["name"] == "T"
    assert [p["id"] for p in emu_http.get("/manage/pages", headers=AUTH).json()] == [page["id"]]
    assert emu_http.delete(url, headers=auth).json() == {"success": True}
    missing = emu_http.get(url, headers=AUTH)
    assert missing.status_code == 404 and set(missing.json()) == {"message", "type"}
    assert emu_http.get(url).status_code == 401


def test_dropped_connections_over_http(emu_emulator: Emulator, emu_http: httpx.Client) -> None:
    emu_emulator.faults = FaultConfig(drop_before_rate=1.0, methods=("POST",))
    # The fault layer reads the request body before cutting, so the close is always clean (an
    # incomplete answer), never a reset from body bytes meeting a closed socket (ReadError).
    with pytest.raises(httpx.RemoteProtocolError):
        emu_http.post("/manage/pages", json={"access_tokens": [TOKEN], "slug": "before"})
    assert emu_http.get("/manage/pages", headers=AUTH).json() == []

    emu_emulator.faults = FaultConfig(drop_after_rate=1.0, methods=("POST",))
    with pytest.raises(httpx.RemoteProtocolError):
        emu_http.post("/manage/pages", json={"access_tokens": [TOKEN], "slug": "after"})
    assert [p["slug"] for p in emu_http.get("/manage/pages", headers=AUTH).json()] == ["after"]


def test_faults_set_over_http_give_429_and_5xx(emu_http: httpx.Client) -> None:
    faults = {"rate_limit_rate": 1.0, "retry_after": 3}
    assert emu_http.put("/_emulator/faults", json=faults).status_code == 200
    limited = emu_http.get("/manage/pages", headers=AUTH)
    assert limited.status_code == 429
    assert (limited.headers["retry-after"], limited.headers["x-ratelimit-reset"]) == ("3", "3")
    emu_http.put("/_emulator/faults", json={"error_rate": 1.0})
    failed = emu_http.get("/manage/pages", headers=AUTH)
    assert failed.status_code >= 500 and failed.json()["type"] == "api_error"
    assert emu_http.get("/_emulator/stats").json()["requests"] == {"GET": 2}


# --- the official Python SDK (nylas 5.14.1), a client no one here wrote -----------------------------


@pytest.fixture
def emu_sdk(emu_served: str) -> Any:
    """One scheduler collection pointed at the served emulator."""
    return sdk_scheduler(emu_served, TOKEN)


GUIDE_LIKE_CONFIG = {
    "event": {"title": "Coffee", "duration": 30, "participants": [{"email": "host@example.com"}]},
    "booking": {"additional_fields": [{"name": "food", "label": "Food", "type": "text", "order": 1}]},
    "timezone": "America/Los_Angeles",
}


def test_sdk_create_get_save_all_delete(emu_sdk: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    page = emu_sdk.create()
    page.access_tokens = [TOKEN]
    page.name = "SDK page"
    page.slug = "sdk-page"
    page.config = GUIDE_LIKE_CONFIG
    page.save()
    assert isinstance(page.id, int) and len(page.edit_token) == 32
    assert page.config["event"]["participants"][0]["status"] == "noreply"

    got = emu_sdk.get(page.id)  # bearer: the account's access token
    assert (got.slug, got.name, got.created_at.isoformat()) == ("sdk-page", "SDK page", "2024-03-01")
    got.name = "SDK page, renamed"
    got.config["timezone"] = "Europe/Paris"
    got.save()  # PUTs the whole object back, read-only fields included
    again = emu_sdk.get(page.id)
    assert again.name == "SDK page, renamed" and again.config["timezone"] == "Europe/Paris"
    assert again.edit_token == page.edit_token

    for i in range(4):
        extra = emu_sdk.create()
        extra.access_tokens = [TOKEN]
        extra.slug = f"sdk-extra-{i}"
        extra.save()
    monkeypatch.setattr(restful_model_collection, "CHUNK_SIZE", 2)  # make all() page through
    assert [p.slug for p in emu_sdk.all()] == ["sdk-page"] + [f"sdk-extra-{i}" for i in range(4)]

    emu_sdk.delete(page.id)
    with pytest.raises(NylasApiError) as raised:
        emu_sdk.get(page.id)
    assert raised.value.response.status_code == 404
    assert len(emu_sdk.all()) == 4


def test_sdk_sees_errors_in_its_own_shapes(emu_emulator: Emulator, emu_sdk: Any) -> None:
    page = emu_sdk.create()
    page.access_tokens = [OTHER]
    page.slug = "not-yours"
    page.save()
    with pytest.raises(NylasApiError) as unknown:
        emu_sdk.get(page.id)  # the SDK's token is no account the emulator knows yet
    assert unknown.value.response.status_code == 401
    mine = emu_sdk.create()
    mine.access_tokens = [TOKEN]
    mine.save()
    with pytest.raises(NylasApiError) as forbidden:
        emu_sdk.get(page.id)  # now a known account, but not on this page
    assert forbidden.value.response.status_code == 403
    assert "Nylas Error Type: forbidden" in str(forbidden.value)
    assert TOKEN not in str(forbidden.value)

    duplicate = emu_sdk.create()
    duplicate.access_tokens = [TOKEN]
    duplicate.slug = "not-yours"
    with pytest.raises(NylasApiError, match="already taken"):
        duplicate.save()

    emu_emulator.faults = FaultConfig(rate_limit_rate=1.0, retry_after=2)
    with pytest.raises(RateLimitError) as limited:
        emu_sdk.all()
    assert (limited.value.rate_limit, limited.value.rate_limit_reset) == (50, 2)
