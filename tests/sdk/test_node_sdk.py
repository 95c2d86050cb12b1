"""Every Scheduler call of the official v2 Node SDK (``nylas@6.11.1``, the last v2 release; it sends
``Authorization: Basic base64("<token>:")``), unchanged but for its base URL, against
``provisioner emulator serve``. The calls are in ``node_v2/scheduler_calls.js``, run with Node as a
subprocess; ``.ci/run`` installs its packages with ``npm ci``."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from provisioner.emulator import account_id_for
from tests.emulator_process import NOW, require

NODE_DIR = Path(__file__).resolve().parent / "node_v2"
TOKEN = "token-node-sdk-0123456789"
SLUG = "node-sdk"
NOON = int(datetime.fromisoformat(NOW + "+00:00").timestamp())


def run_calls(url: str) -> dict[str, dict[str, Any]]:
    node = shutil.which("node")
    require(node is not None, "Node.js")
    require((NODE_DIR / "node_modules" / "nylas" / "package.json").exists(),
            "the Node SDK (npm ci --prefix tests/sdk/node_v2)")
    env = {**os.environ, "EMULATOR_URL": url, "EMULATOR_TOKEN": TOKEN, "EMULATOR_SLUG": SLUG}
    done = subprocess.run([str(node), "scheduler_calls.js"], cwd=NODE_DIR, env=env, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    calls = json.loads(done.stdout)["calls"]
    names = [c["name"] for c in calls]
    assert len(names) == len(set(names)), names
    return {c["name"]: c for c in calls}


def value(calls: dict[str, dict[str, Any]], name: str) -> Any:
    result = calls[name]
    assert result["ok"], f"{name}: {result['error']}"
    return result["value"]


def error(calls: dict[str, dict[str, Any]], name: str) -> dict[str, Any]:
    result = calls[name]
    assert not result["ok"], f"{name} succeeded: {result['value']}"
    return result["error"]


def test_the_node_sdk_sends_basic_auth() -> None:
    # What nylas-connection.js builds (the emulator must read it as the token).
    header = "Basic " + base64.b64encode(f"{TOKEN}:".encode()).decode()
    from provisioner.apis.nylas_v2.emulator.auth import request_token
    assert request_token({"authorization": header}) == TOKEN


def test_every_scheduler_call_of_the_node_sdk(sdk_server: str) -> None:
    calls = run_calls(sdk_server)
    assert "script" not in calls, calls.get("script")

    created = value(calls, "save (create)")
    page_id = created["id"]
    assert created["slug"] == SLUG and len(created["edit_token"]) == 32
    assert created["config"]["booking"]["additional_fields"][0]["order"] == 1
    updated = value(calls, "save (update)")
    assert updated["name"] == "Renamed" and updated["config"]["event"]["duration"] == 45
    assert updated["config"]["reminders"] == created["config"]["reminders"]
    assert value(calls, "find")["name"] == "Renamed"
    assert [p["id"] for p in value(calls, "list")] == [page_id]
    assert value(calls, "list (offset, limit)") == value(calls, "list (view ids)") == [page_id]
    assert value(calls, "first") == page_id and value(calls, "count") == 1
    assert value(calls, "forEach") == [page_id]

    (account,) = value(calls, "getAvailableCalendars")
    assert account["id"] == account_id_for(TOKEN) and account["calendars"][0]["name"] == "Calendar"
    assert value(calls, "uploadImage")["originalFilename"] == "logo.png"
    busy = [{"name": account["name"], "email": account["email"], "busy": []}]
    assert value(calls, "getGoogleAvailability") == value(calls, "getOffice365Availability") == busy
    assert value(calls, "getPageBySlug")["id"] == page_id

    slots = value(calls, "getAvailableTimeSlots")
    assert slots[0]["start"] == NOON and slots[0]["end"] == NOON + 45 * 60  # the updated duration
    booking = value(calls, "bookTimeSlot")
    assert booking["is_confirmed"] is False and booking["recipient_name"] == "John Doe"  # the SDK's toJSON()
    assert booking["additional_field_values"] == {"food": "tea", "important": True}
    assert booking["start_time"] == NOON
    out_of_range = error(calls, "bookTimeSlot (slot via constructor)")
    assert out_of_range["status"] == 400 and "slot.start" in out_of_range["message"]
    assert value(calls, "confirmBooking")["is_confirmed"] is True
    assert value(calls, "cancelBooking") == {"success": True}
    assert error(calls, "confirmBooking (cancelled)")["status"] == 400

    assert value(calls, "list (edit token)") == [page_id]
    assert value(calls, "find (edit token)") == "Renamed"
    assert value(calls, "delete") == {"success": True}
    assert error(calls, "find (deleted)")["status"] == 404
    assert value(calls, "count (after delete)") == 0
    assert all(c["ok"] for name, c in calls.items() if name not in {
        "bookTimeSlot (slot via constructor)", "confirmBooking (cancelled)", "find (deleted)"})

    bookings = [b for b in httpx.get(f"{sdk_server}/_emulator/bookings").json() if b["page_id"] == page_id]
    assert [(b["status"], b["cancel_reason"]) for b in bookings] == [("cancelled", "Was just a test.")]
