"""The small commands of PRODUCT.md §2: keygen, schema, and the emulator served as its own process."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time

import httpx

from provisioner.secrets import Sealer

from .conftest import Project

READY_WITHIN_S = 30.0


def test_keygen_prints_a_fresh_usable_key(project: Project):
    first, second = project.run("keygen").output.strip(), project.run("keygen").output.strip()
    assert first != second
    Sealer(first)  # a valid PROVISIONER_LOCK_KEY


def test_schema_describes_a_page_file(project: Project):
    result = project.run("schema")
    assert result.exit_code == 0
    schema = json.loads(result.output)
    assert {"slug", "access_tokens", "config"} <= set(schema["properties"])
    assert schema["required"] == ["slug", "access_tokens"]
    booking = schema["$defs"]["Booking"]["properties"]["scheduling_method"]
    assert "round-robin-maximize-fairness" in json.dumps(booking)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_emulator_serve_runs_the_api_over_http(tmp_path):
    port = _free_port()
    command = [sys.executable, "-c", "from provisioner.cli import main; main()", "emulator", "serve",
               "--host", "127.0.0.1", "--port", str(port), "--db", str(tmp_path / "served.db")]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + READY_WITHIN_S  # a bound on start-up, not a timing assertion
        while True:
            assert server.poll() is None, server.stderr.read().decode() if server.stderr else ""
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/manage/pages",
                                   headers={"Authorization": "Bearer tok-served"}, timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the emulator did not start"
        assert answer.status_code == 200 and answer.json() == []
        created = httpx.post(f"http://127.0.0.1:{port}/manage/pages", json={"access_tokens": ["tok-served"]})
        assert created.status_code == 201 and len(created.json()["edit_token"]) == 32
        missing = httpx.get(f"http://127.0.0.1:{port}/manage/pages")
        assert missing.status_code == 401 and set(missing.json()) == {"message", "type"}
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert (tmp_path / "served.db").exists()
