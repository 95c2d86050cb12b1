"""Fixtures of the browser tests: Debian's Chromium driven by Playwright for Python (its own browser
download is not used: ``executable_path`` is the system Chromium), and the emulator served as its own
process. On a developer's machine without Chromium these tests skip; in CI (``CI=true``) they fail."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.emulator_process import require, served_emulator

CHROMIUM_ENV = "PROVISIONER_CHROMIUM"
SCREENSHOTS_ENV = "PROVISIONER_SCREENSHOTS"
"""When set to a folder, the tests also save the README's screenshots there."""
# Without these, Chromium tries Google's hosts at start-up (this machine has no such network).
CHROMIUM_ARGS = ["--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run", "--disable-gpu", "--disable-quic"]


def chromium_path() -> str | None:
    return os.environ.get(CHROMIUM_ENV) or shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Chromium for one test module: Playwright's sync API keeps an event loop running in this thread
    while it is open, which later tests' ``asyncio.run`` would trip over."""
    executable = chromium_path()
    require(executable is not None, "Chromium (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require(False, "Playwright for Python (pip install playwright)")
        raise
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def tab(browser: Any) -> Iterator[Any]:
    """A fresh browser context and page; JavaScript errors on the page fail the test."""
    context = browser.new_context(viewport={"width": 1000, "height": 900}, timezone_id="UTC", locale="en-GB")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert errors == []


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``provisioner emulator serve`` as a real process for one test module (its tests use their own
    slugs and tokens), clock pinned at Friday 2024-03-01 12:00 UTC."""
    with served_emulator(tmp_path_factory.mktemp("web") / "emulator.db") as url:
        yield url


def screenshot(page: Any, name: str) -> None:
    """Save the README's screenshot `name` when `SCREENSHOTS_ENV` names a folder."""
    folder = os.environ.get(SCREENSHOTS_ENV)
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / name))


def create_page(url: str, token: str, **body: Any) -> dict[str, Any]:
    answer = httpx.post(f"{url}/manage/pages", json={"access_tokens": [token], **body})
    assert answer.status_code == 201, answer.text
    return answer.json()
