"""`provisioner emulator serve` as a real process on 127.0.0.1, for tests whose clients are not ours
(the official SDKs, a browser): they talk to exactly what a user runs."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

READY_WITHIN_S = 30.0
NOW = "2024-03-01T12:00"
"""The served emulator's pinned clock: a Friday noon (UTC)."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def served_emulator(db: Path, now: str | None = NOW) -> Iterator[str]:
    """Run ``provisioner emulator serve`` over `db` (its clock pinned at `now`) until the block ends;
    yields its base URL once it answers."""
    port = free_port()
    command = [sys.executable, "-c", "from provisioner.cli import main; main()", "emulator", "serve",
               "--host", "127.0.0.1", "--port", str(port), "--db", str(db)]
    if now is not None:
        command += ["--now", now]
    log = db.with_suffix(".log")
    with log.open("wb") as err:
        server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=err)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + READY_WITHIN_S  # a bound on start-up, not a timing assertion
        while True:
            assert server.poll() is None, log.read_text()
            try:
                httpx.get(f"{url}/_emulator/clock", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the emulator did not start"
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


def require(available: bool, what: str) -> None:
    """Fail when `what` is missing: nothing is skipped, `.ci/run` installs every prerequisite."""
    if not available:
        pytest.fail(f"{what} is missing: run `bash .ci/run`, which installs it")
