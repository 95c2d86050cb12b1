"""The story at the heart of the product, end to end in a real browser (issue 13, point 4).

YAML owns a page except ``config.appearance``, which the end user owns: the page is applied with the
CLI to ``provisioner emulator serve``; the end user changes the colour and the duration in the Schedule
Editor opened from the host page; a guest books on the booking page and gets the new duration;
``drift`` then reports the colour as kept and the duration as to revert, and ``apply`` reverts only
the duration. With ``PROVISIONER_SCREENSHOTS`` set, the README's screenshots are taken on the way.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from provisioner.secrets import keygen

from .conftest import screenshot

TOKEN = "token-end-user-loop-0123"
NOON = 1709294400  # Friday 2024-03-01 12:00 UTC, the served emulator's clock
PAGE = """\
slug: intro-call
name: Intro call with Demo Co.
access_tokens:
  - ${LOOP_TOKEN}
lifecycle:
  ignore_changes:
    - config.appearance          # the end user's, in the Schedule Editor
config:
  timezone: UTC
  appearance:
    color: "#3b5bdb"
    company_name: Demo Co.
    submit_text: Book the call
    thank_you_text: See you soon!
  event:
    title: Intro call
    duration: 30
    location: Video call
  booking:
    available_days_in_future: 7
    opening_hours:
      - days: [M, T, W, R, F]
        start: "09:00"
        end: "17:00"
    additional_fields:
      - name: topic
        label: What would you like to talk about?
        type: text
        required: true
"""


@pytest.fixture
def cli(web: str, tmp_path: Path) -> Any:
    """``provisioner ARGS`` as its own process in a project folder with the page above (a process:
    Playwright's sync API keeps an event loop running in this thread)."""
    (tmp_path / "pages").mkdir()
    (tmp_path / "pages" / "intro.yaml").write_text(PAGE)
    env = {**os.environ, "PROVISIONER_API_URL": web, "PROVISIONER_LOCK_KEY": keygen(), "LOOP_TOKEN": TOKEN,
           "NO_COLOR": "1"}
    env.pop("PROVISIONER_TARGET_ENV", None)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-c", "from provisioner.cli import main; main()", *args]
        return subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
                              check=False)

    return run


def live_page(web: str) -> dict[str, Any]:
    """The page as the integrator's backend sees it (with its edit token, kept from Step 2)."""
    (page,) = httpx.get(f"{web}/manage/pages", headers={"Authorization": f"Bearer {TOKEN}"}).json()
    return page


def test_end_user_edits_in_the_editor_are_kept_or_reverted_by_ownership(web: str, cli: Any, tab: Any) -> None:
    applied = cli("apply", "--auto-approve")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    edit_token = live_page(web)["edit_token"]

    # The end user, in the integrator's app: the Schedule Editor, colour and duration.
    tab.goto(f"{web}/_emulator/editor-demo")
    tab.fill("#edit-token", edit_token)
    tab.click("#schedule-editor")
    tab.wait_for_selector("#nse-form")
    tab.fill("#nse-color", "#e8590c")
    tab.fill("#nse-duration", "45")
    screenshot(tab, "schedule-editor.png")
    tab.click("#nse-save")
    tab.wait_for_selector("#nse-status:text('Saved')")

    # A guest, on the booking page: the new duration and colour.
    tab.goto(f"{web}/_emulator/book/intro-call")
    tab.wait_for_selector(".slot")
    assert tab.inner_text("#duration") == "45 min"
    first = tab.locator(".slot").first
    assert (first.get_attribute("data-start"), first.get_attribute("data-end")) == (str(NOON), str(NOON + 45 * 60))
    assert tab.eval_on_selector(".card", "c => getComputedStyle(c).borderTopColor") == "rgb(232, 89, 12)"
    screenshot(tab, "booking-page.png")
    first.click()
    tab.fill("#guest-name", "Ada Lovelace")
    tab.fill("#guest-email", "ada@example.com")
    tab.fill("#field-topic", "Pricing")
    tab.click("#submit")
    tab.wait_for_selector("#thanks:not([hidden])")
    assert tab.inner_text("#thank-you") == "See you soon!"
    assert "12:00 – 12:45 (45 min, UTC)" in tab.inner_text("#booked")
    (booking,) = httpx.get(f"{web}/_emulator/bookings", params={"slug": "intro-call"}).json()
    assert booking["end_time"] - booking["start_time"] == 45 * 60

    # drift: the colour is the end user's (kept), the duration YAML's (to revert).
    text = cli("drift")
    assert text.returncode == 2
    assert 'config.appearance.color: last applied "#3b5bdb", live "#e8590c" → kept (ignore_changes)' in text.stdout
    assert "config.event.duration: last applied 30, live 45 → revert" in text.stdout
    drift = cli("drift", "--format", "json")
    assert drift.returncode == 2, drift.stdout + drift.stderr
    (page,) = json.loads(drift.stdout)["pages"]
    assert sorted((d["path"], d["last_applied"], d["live"], d["resolution"]) for d in page["drift"]) == [
        ("config.appearance.color", "#3b5bdb", "#e8590c", "keep"),
        ("config.event.duration", 30, 45, "revert"),
    ]

    # apply reverts only the duration.
    reverted = cli("apply", "--auto-approve")
    assert reverted.returncode == 0, reverted.stdout + reverted.stderr
    config = live_page(web)["config"]
    assert config["event"]["duration"] == 30 and config["appearance"]["color"] == "#e8590c"
    settled = cli("drift", "--format", "json")
    assert settled.returncode == 0, settled.stdout + settled.stderr
    assert [p["drift"] for p in json.loads(settled.stdout)["pages"]] in ([], [[]])  # the end user's colour now stands

    tab.goto(f"{web}/_emulator/book/intro-call")
    tab.wait_for_selector(".slot")
    assert tab.inner_text("#duration") == "30 min"
