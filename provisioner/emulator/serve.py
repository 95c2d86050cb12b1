"""Serving the emulator over real HTTP with uvicorn.

`serve` blocks (for ``provisioner emulator serve``); `serve_in_thread` runs a server on a background
thread for tests and benchmarks and yields its base URL.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import uvicorn

from provisioner.emulator import Emulator
from provisioner.emulator.faults import ASGIApp, ConnectionDropped, FaultConfig, Receive, Scope, Send
from provisioner.emulator.ratelimit import config_from_flags

DEFAULT_DB = ".provisioner/emulator.db"
STARTUP_TIMEOUT_S = 10.0


def asgi_for_server(app: ASGIApp) -> ASGIApp:
    """`app` for a real server: a `ConnectionDropped` ends the call with the answer incomplete, so
    uvicorn closes the socket (logging "ASGI callable returned without completing response")."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await app(scope, receive, send)
        except ConnectionDropped:
            return

    return wrapped


def serve(host: str = "127.0.0.1", port: int = 8000, db: str | Path = DEFAULT_DB,
          faults: FaultConfig | None = None, log_level: str = "info",
          rate_limit_account: float | None = None, rate_limit_app: float | None = None,
          now: datetime | None = None, v3_api_key: str | None = None) -> None:
    """Run the emulator on ``http://host:port`` over `db` until interrupted (Ctrl-C).

    Rate limits (requests/s per bearer, per application) are enforced only when given. `now` (for a
    ``--now`` flag; naive means UTC) pins the emulator's clock there; ``PUT /_emulator/clock`` moves it.
    `v3_api_key`: the only API key the v3 API accepts (None: any).
    """
    emulator = Emulator(db, faults, rate_limits=config_from_flags(rate_limit_account, rate_limit_app),
                        v3_api_key=v3_api_key)
    if now is not None:
        emulator.clock.set(now)
    try:
        uvicorn.run(asgi_for_server(emulator.app), host=host, port=port, log_level=log_level)
    finally:
        emulator.close()


@contextmanager
def serve_in_thread(emulator: Emulator, host: str = "127.0.0.1", log_level: str = "warning") -> Iterator[str]:
    """Serve `emulator` on a free port of `host` in a background thread; yields the base URL.

    Ready when yielded: the listening socket is bound first, then the server's start is awaited by
    polling its flag and a test connection. Stops the server on exit (the emulator stays open).
    """
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets whose proto says TCP; without it
    # Nagle and delayed ACKs add ~40 ms to every answer on loopback.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(asgi_for_server(emulator.app), log_level=log_level, lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True,
                              name=f"emulator-{port}")
    thread.start()
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the emulator server did not start")
            time.sleep(0.005)  # polling the start flag, not waiting a fixed time
        with socket.create_connection((host, port), timeout=STARTUP_TIMEOUT_S):
            pass
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=STARTUP_TIMEOUT_S)
        sock.close()
