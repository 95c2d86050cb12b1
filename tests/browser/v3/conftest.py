"""Fixtures of the v3 browser tests: Nylas's own web components (``@nylas/web-elements``, pinned in
this folder's package.json / package-lock.json, installed by ``npm ci``) in Debian's headless
Chromium, driven by Playwright for Python, against the served v3 emulator.

- `emulator_url`: a fresh emulator served over HTTP on 127.0.0.1, its clock pinned at `NOW`.
- `pages_url`: a tiny static server on 127.0.0.1 (another origin than the API: CORS is exercised)
  serving this folder, so the host pages load the component from ``node_modules``.
- `page`: a Chromium page whose clock is pinned at `NOW` too, in UTC, that refuses every request
  beyond the loopback (the components know Sentry and Nylas's hosts; nothing may reach them); an
  uncaught JavaScript error on it fails the test.

With ``PROVISIONER_SCREENSHOTS`` naming a folder (``.github/screenshots``), the README's screenshot is
saved there on the way (`screenshot`).

Without Chromium, Playwright or ``node_modules`` the tests are skipped, except in CI (``CI=true``),
where a missing one is a failure (`tests.emulator_process.require`): ``.ci/run`` installs all three.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from provisioner.emulator import Emulator
from provisioner.emulator.serve import serve_in_thread
from tests.browser.conftest import CHROMIUM_ARGS, chromium_path
from tests.emulator_process import require

HERE = Path(__file__).parent
BUNDLE = HERE / "node_modules/@nylas/web-elements/dist/nylas-web-elements/nylas-web-elements.esm.js"
NOW = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)  # a Monday, before the 09:00-17:00 UTC open hours
API_KEY = "nyk_v3_browser_key"
GRANT = "grant-organizer"
# Read once at import: the suite's autouse fixture removes every PROVISIONER_* variable before a test runs.
SCREENSHOTS = os.environ.get("PROVISIONER_SCREENSHOTS") or None
CHROMIUM = chromium_path()  # PROVISIONER_CHROMIUM, else chromium on PATH (Debian: /usr/bin/chromium)
TIMEOUT_MS = 15_000  # the longest wait for one DOM state or answer (a slow shared CI machine)

ORGANIZER: dict[str, Any] = {"email": "alice@example.com", "name": "Alice Organizer", "is_organizer": True,
                             "availability": {"calendar_ids": ["primary"]}, "booking": {"calendar_id": "primary"}}


def configuration(**top: Any) -> dict[str, Any]:
    """A v3 configuration body as provisioner sends it: 30 minutes, weekdays 09:00-17:00 UTC."""
    return {
        "participants": [ORGANIZER],
        "availability": {"duration_minutes": 30, "availability_rules": {"default_open_hours": [
            {"days": [1, 2, 3, 4, 5], "start": "09:00", "end": "17:00", "timezone": "UTC"}]}},
        "event_booking": {"title": "Intro call"},
        "scheduler": {"available_days_in_future": 14},
        **top,
    }


def screenshot(page: Any, name: str) -> None:
    """Save the README's screenshot `name` when ``PROVISIONER_SCREENSHOTS`` names a folder."""
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SCREENSHOTS) / name))


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Chromium for one test module (not longer: Playwright's sync API keeps an event loop running in
    this thread while it is open, which later tests' ``asyncio.run`` would trip over)."""
    require(CHROMIUM is not None, "Chromium (apt-get install chromium)")
    require(BUNDLE.exists(), f"@nylas/web-elements (npm ci --prefix {HERE.relative_to(HERE.parents[2])})")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require(False, "Playwright for Python (pip install -e '.[test]')")
        raise
    with sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def _loopback_only(route: Any) -> None:
    host = urlsplit(route.request.url).hostname
    if host == "127.0.0.1":
        route.continue_()
    else:
        route.abort("blockedbyclient")


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(timezone_id="UTC", locale="en-US", viewport={"width": 1100, "height": 760})
    context.set_default_timeout(TIMEOUT_MS)
    context.route("**/*", _loopback_only)
    tab = context.new_page()
    tab.clock.set_fixed_time(NOW)
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    yield tab
    context.close()
    assert errors == []  # an uncaught JavaScript error on the page fails the test


@pytest.fixture
def emulator_url() -> Iterator[str]:
    emu = Emulator(":memory:", clock=lambda: NOW, v3_api_key=API_KEY)
    try:
        with serve_in_thread(emu) as url:
            yield url
    finally:
        emu.close()


@pytest.fixture
def api(emulator_url: str) -> Iterator[httpx.Client]:
    """The organizer's side: the v3 API with the application's API key."""
    with httpx.Client(base_url=emulator_url, headers={"Authorization": f"Bearer {API_KEY}"}, timeout=10) as client:
        yield client


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the base class's name)
        pass


@pytest.fixture(scope="session")
def pages_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(HERE)))
    thread = threading.Thread(target=server.serve_forever, daemon=True, name="browser-v3-pages")
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
