"""The official clients as judges (issue 12, point 7): Nylas's Python SDK 6.x and Node SDK 8.x, changed
only in their base URL, drive the v3 emulator served by ``provisioner emulator serve`` as a real process.

Each SDK runs a script (`python_v3/exercise_nylas6.py`, `node_v3/exercise.mjs`) in its own runtime: the
Python SDK in ``.venv-nylas6`` (the v2 tests import nylas 5.14.1 under the same name), the Node SDK
from ``tests/sdk/node_v3/node_modules``. ``.ci/run`` installs both; outside CI a missing one is installed
on first use (from the pinned ``requirements.txt`` / ``package-lock.json``). The SDK's traffic passes
through a judging proxy (`tests.v3conformance.recorder.judging_proxy`), so every exchange is also held
to the OpenAPI contract.
"""

from __future__ import annotations

import json
import os
import queue
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from provisioner.emulator.serve import serve_in_thread
from tests.v3conformance.recorder import ASGIApp, Recorder, judging_proxy

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
NYLAS6_VENV = REPO / ".venv-nylas6"
NODE_DIR = HERE / "node_v3"
API_KEY = "nyk_sdk_judge_key"
GRANT = "grant-sdk-judge"
NOW = "2026-03-02T06:00"  # a Monday morning; the configurations' default hours are 09:00-17:00 UTC
START = int(datetime(2026, 3, 2, 9, 0, tzinfo=UTC).timestamp())
READY_WITHIN_S = 60.0  # bounds on start-up and on a script's run, not timing assertions
SCRIPT_WITHIN_S = 300.0
LISTENING = re.compile(r"Uvicorn running on (http://127\.0\.0\.1:\d+)")


def _installed_or_install(what: str, ready: bool, command: list[list[str]], cwd: Path) -> None:
    """Install `what` by running `command`s unless `ready`; in CI it must already be there."""
    if ready:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{what} is missing: .ci/run installs it before the tests")
    for step in command:
        done = subprocess.run(step, cwd=cwd, capture_output=True, text=True, timeout=600, check=False)
        assert done.returncode == 0, f"installing {what}: {' '.join(step)}\n{done.stdout}\n{done.stderr}"


@pytest.fixture(scope="session")
def nylas6_python() -> Path:
    """The interpreter of the environment holding the Python SDK 6.x."""
    python = NYLAS6_VENV / "bin" / "python"
    _installed_or_install("the nylas 6.x environment (.venv-nylas6)", python.exists(), [
        [sys.executable, "-m", "venv", str(NYLAS6_VENV)],
        [str(python), "-m", "pip", "install", "--quiet", "-r", str(HERE / "python_v3" / "requirements.txt")],
    ], REPO)
    return python


@pytest.fixture(scope="session")
def node() -> str:
    """The node executable, with the Node SDK 8.x installed beside the script."""
    found = shutil.which("node")
    if found is None:
        pytest.fail("node is not on PATH: the Node SDK judge needs node 20 or later")
    installed = (NODE_DIR / "node_modules" / "nylas").is_dir()
    _installed_or_install("the Node SDK 8.x (tests/sdk/node_v3/node_modules)", installed,
                          [["npm", "ci", "--no-audit", "--no-fund"]], NODE_DIR)
    return found


@dataclass
class _App:
    app: ASGIApp  # what serve_in_thread serves


@pytest.fixture
def served(tmp_path: Path, v3_contract: Recorder) -> Iterator[str]:
    """``provisioner emulator serve --port 0`` as a process, behind a judging proxy; yields the proxy's URL."""
    command = [sys.executable, "-c", "from provisioner.cli import main; main()", "emulator", "serve",
               "--host", "127.0.0.1", "--port", "0", "--db", str(tmp_path / "emulator.db"), "--now", NOW,
               "--v3-api-key-env", "NYLAS_API_KEY"]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                              env={**os.environ, "NYLAS_API_KEY": API_KEY})
    lines: queue.Queue[str | None] = queue.Queue()

    def drain() -> None:  # read the server's log to its end, so its pipe never fills
        assert server.stderr is not None
        for line in server.stderr:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=drain, daemon=True).start()
    try:
        log: list[str] = []
        while (match := LISTENING.search("".join(log))) is None:
            line = lines.get(timeout=READY_WITHIN_S)
            assert line is not None, "the emulator exited:\n" + "".join(log)
            log.append(line)
        with serve_in_thread(_App(judging_proxy(match.group(1), v3_contract))) as url:  # type: ignore[arg-type]
            yield url
    finally:
        server.terminate()
        server.wait(timeout=READY_WITHIN_S)


def _run(command: list[str], cwd: Path) -> dict[str, Any]:
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=SCRIPT_WITHIN_S, check=False,
                          env={**os.environ, "NYLAS_API_KEY": API_KEY})
    assert done.returncode == 0, f"{command[1]} failed:\n{done.stderr}"
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_the_python_sdk_6_manages_configurations_sessions_and_bookings(nylas6_python: Path, served: str,
                                                                       v3_contract: Recorder) -> None:
    out = _run([str(nylas6_python), str(HERE / "python_v3" / "exercise_nylas6.py"), served, GRANT, str(START)], REPO)
    assert out["sdk"].startswith("6.")
    config_id = out["created"]["id"]
    assert out["created"] == {"id": config_id, "request_id": out["created"]["request_id"], "slug": "sdk-judge-python",
                              "duration": 30, "booking_type": "organizer-confirmation"}
    assert out["found"] == {"id": config_id, "title": "Python SDK call"}
    assert out["updated"] == {"duration": 60, "title": "Python SDK call"}  # PUT replaced availability only
    assert out["listed"] == {"ids": [config_id], "next_cursor": None}
    assert out["session"] == {"has_id": True}
    assert out["booked"] == {"status": "pending", "title": "Python SDK call", "organizer": "host@example.com"}
    assert out["found_booking"]["id"] and out["confirmed"] == {"status": "booked"}
    assert out["rescheduled"] == {"status": "booked", "id": out["found_booking"]["id"]}
    assert out["cancelled"] == {"request_id": True}
    assert out["destroy_with_session"] == {"status": 400, "type": "invalid_request_error"}
    assert out["session_destroyed"] is True and out["destroyed"] is True
    assert out["found_after_destroy"] == {"status": 404, "type": "not_found_error"}
    assert v3_contract.judged == 15  # every SDK call went through the judging proxy


def test_the_node_sdk_8_manages_configurations_sessions_bookings_and_availability(node: str, served: str,
                                                                                  v3_contract: Recorder) -> None:
    out = _run([node, str(NODE_DIR / "exercise.mjs"), served, GRANT, str(START)], NODE_DIR)
    config_id = out["created"]["id"]
    assert out["created"] == {"id": config_id, "requestId": True, "slug": "sdk-judge-node", "duration": 30,
                              "bookingType": "organizer-confirmation"}
    assert out["found"] == {"id": config_id, "title": "Node SDK call"}
    assert out["updated"] == {"title": "Renamed", "duration": 30}
    assert out["listed"] == {"ids": [config_id]}
    assert out["session"] == {"hasId": True}
    assert out["availability"] == {"starts": [START + 1800 * i for i in range(4)], "emails": ["host@example.com"]}
    assert out["booked"] == {"status": "pending", "title": "Renamed", "organizer": "host@example.com"}
    assert out["foundBooking"]["id"] and out["confirmed"] == {"status": "booked"}
    assert out["rescheduled"] == {"status": "booked", "id": out["foundBooking"]["id"]}
    assert out["cancelled"] == {"requestId": True}
    assert out["destroyWithSession"] == {"status": 400, "type": "invalid_request_error"}
    assert out["sessionDestroyed"] is True and out["destroyed"] is True
    assert out["foundAfterDestroy"] == {"status": 404, "type": "not_found_error"}
    assert v3_contract.judged == 15
