"""What every plan benchmark shares: generated pages and the emulator served on 127.0.0.1.

Also used by the chaos runner and the secrets scan (`tests.system`), which need the same pages.
"""

from __future__ import annotations

import dataclasses
import resource
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

CLI = [sys.executable, "-c", "from provisioner.cli import main; main()"]
ACCOUNTS = 8  # distinct access tokens the pages are spread over


def cpu_time() -> float:
    """CPU seconds of this process and of its children that have ended: a plan loading many page files
    spreads them over forked processes (`provisioner.cores`), whose CPU is the plan's too. (A server
    still running in a child process is not counted until it ends.)"""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


# --- the pages --------------------------------------------------------------------------------------


def page_yaml(i: int, variant: int, accounts: int = ACCOUNTS) -> str:
    """One generated page; ``variant`` changes the title and duration of every page (an update); the pages
    are spread round-robin over ``accounts`` access tokens."""
    duration = 30 + 15 * (variant % 2)
    return (
        f"slug: bench-page-{i:05d}\n"
        f"name: Bench page {i}\n"
        "access_tokens:\n"
        f"  - ${{BENCH_TOKEN_{i % accounts}}}\n"
        "config:\n"
        "  event:\n"
        f"    title: Bench meeting {i} v{variant}\n"
        f"    duration: {duration}\n"
        "  booking:\n"
        "    opening_hours:\n"
        "      - {days: [M, T, W, R, F], start: \"09:00\", end: \"17:00\"}\n"
    )


def generate(pages_dir: Path, n: int, variant: int = 0, accounts: int = ACCOUNTS) -> list[str]:
    """Write N page files (100 per folder, a shared ``_defaults.yaml``); returns their addresses."""
    pages_dir.mkdir(parents=True, exist_ok=True)
    (pages_dir / "_defaults.yaml").write_text("config:\n  timezone: Europe/Paris\n  locale: en\n")
    addresses = []
    for i in range(n):
        folder = pages_dir / f"group-{i // 100:03d}"
        folder.mkdir(exist_ok=True)
        (folder / f"page-{i:05d}.yaml").write_text(page_yaml(i, variant, accounts))
        addresses.append(f"group-{i // 100:03d}/page-{i:05d}")
    return addresses


def bench_env(key: str, accounts: int = ACCOUNTS) -> dict[str, str]:
    env = {f"BENCH_TOKEN_{k}": f"bench-access-token-{k}-q8Zr" for k in range(accounts)}
    env["PROVISIONER_LOCK_KEY"] = key
    return env


# --- refresh mode -----------------------------------------------------------------------------------


def page_mode(settings: Any) -> Any:
    """``settings`` refreshing with one GET per page (``--refresh page``):
    the reference clients read page by page, so the comparison stays like for like."""
    return dataclasses.replace(settings, refresh="page")


def page_mode_flags() -> list[str]:
    """The CLI's ``--refresh page``."""
    return ["--refresh", "page"]


# --- the server -------------------------------------------------------------------------------------


@contextmanager
def served(mode: str, db: Path, latency_ms: float, port: int | None = None,
           flags: Sequence[str] = ()) -> Iterator[str]:
    """The emulator over real HTTP on 127.0.0.1; yields its base URL.

    ``process`` (default): ``provisioner emulator serve`` in a child process, like a remote API: its CPU
    and memory are not the client's; ``port`` (default: a free one) and further ``flags`` of ``emulator
    serve`` (e.g. ``--rate-limit-account 50``). ``thread``: `serve_in_thread` in this process.
    """
    from provisioner.emulator import Emulator, FaultConfig

    if mode == "thread":
        from provisioner.emulator.serve import serve_in_thread

        emulator = Emulator(db, FaultConfig(latency_ms=int(latency_ms)))
        try:
            with serve_in_thread(emulator) as url:
                yield url
        finally:
            emulator.close()
        return
    port = port or free_port()
    cmd = [*CLI, "emulator", "serve", "--host", "127.0.0.1", "--port", str(port), "--db", str(db),
           "--latency-ms", str(round(latency_ms)), *flags]
    child = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if child.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("the emulator server did not start") from None
                time.sleep(0.05)  # polling a child's start-up (a benchmark, not a test)
        yield f"http://127.0.0.1:{port}"
    finally:
        child.terminate()
        child.wait(timeout=20)


def free_port() -> int:
    """A free port on 127.0.0.1 (the tiny race until a child binds it is acceptable here)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Stats:
    """The served emulator's request counters (``/_emulator/stats``)."""

    def __init__(self, url: str):
        self.url = url + "/_emulator/stats"

    def reset(self) -> None:
        httpx.delete(self.url).raise_for_status()

    def get(self) -> dict[str, int]:
        data = httpx.get(self.url).json()
        return {**data["requests"], "total": data["total"]}
