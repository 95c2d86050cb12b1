"""The Schedule Editor (``schedule-editor.js``) opened from the example host page as the Smart
Integration guide does it: ``nylas.scheduler.show({auth: {pageEditToken}, style})``."""

from __future__ import annotations

from typing import Any

import httpx

from .conftest import create_page

TOKEN = "token-schedule-editor-0123"
CONFIG = {
    "timezone": "UTC",
    "appearance": {"color": "#3b5bdb", "company_name": "Demo Co."},
    "event": {"title": "Intro call", "duration": 30},
    "booking": {"opening_hours": [{"days": ["W", "M"], "start": "10:00", "end": "12:00"}]},
}


def open_editor(tab: Any, url: str, edit_token: str) -> None:
    tab.goto(f"{url}/_emulator/editor-demo")
    tab.fill("#edit-token", edit_token)
    tab.click("#schedule-editor")


def live(url: str, page: dict[str, Any]) -> dict[str, Any]:
    answer = httpx.get(f"{url}/manage/pages/{page['id']}", headers={"Authorization": f"Bearer {page['edit_token']}"})
    return answer.json()


def test_the_editor_reads_and_saves_with_the_edit_token_only(web: str, tab: Any) -> None:
    page = create_page(web, TOKEN, slug="edited", name="Intro", config=CONFIG)
    before = live(web, page)
    seen: list[tuple[str, str, str | None]] = []
    tab.on("request", lambda r: seen.append((r.method, r.url, r.headers.get("authorization")))
           if "/manage/" in r.url else None)
    open_editor(tab, web, page["edit_token"])
    tab.wait_for_selector("#nse-form")
    assert tab.input_value("#nse-name") == "Intro" and tab.input_value("#nse-duration") == "30"
    assert tab.input_value("#nse-color") == "#3b5bdb"
    head = tab.eval_on_selector("#nylas-schedule-editor .nse-head", "h => getComputedStyle(h).backgroundColor")
    assert head == "rgb(50, 50, 93)"  # style.tintColor '#32325d' of the host page
    assert tab.eval_on_selector("#nylas-schedule-editor .nse-panel", "p => getComputedStyle(p).backgroundColor") == \
        "rgb(255, 255, 255)"

    tab.fill("#nse-name", "Intro call")
    tab.click("#nse-save")
    tab.wait_for_selector("#nse-status:text('Saved')")
    after = live(web, page)
    assert after["name"] == "Intro call"
    assert after["config"] == before["config"]  # nothing touched is rewritten (days stay in their order)

    tab.fill("#nse-duration", "0")  # the API refuses it; its message is shown
    tab.click("#nse-save")
    tab.wait_for_selector("#nse-status:has-text('duration')")
    assert "config.event.duration" in tab.inner_text("#nse-status")
    assert live(web, page)["config"]["event"]["duration"] == 30

    assert [(m, u.removeprefix(web)) for m, u, _ in seen] == [
        ("GET", "/manage/pages"), ("PUT", f"/manage/pages/{page['id']}"), ("PUT", f"/manage/pages/{page['id']}")]
    assert {a for _, _, a in seen} == {f"Bearer {page['edit_token']}"}

    assert tab.get_attribute("#nse-open", "href") == f"{web}/_emulator/book/edited"
    tab.keyboard.press("Escape")
    assert tab.locator("#nylas-schedule-editor").count() == 0


def test_a_wrong_or_deleted_token_shows_a_clear_error(web: str, tab: Any) -> None:
    open_editor(tab, web, "not-a-real-edit-token")
    tab.wait_for_selector(".nse-error")
    assert tab.inner_text(".nse-error") == ("This edit token is not valid: it is unknown or was revoked. "
                                            "Ask the page owner for a new link.")
    tab.click(".nse-cancel")
    assert tab.locator("#nylas-schedule-editor").count() == 0

    page = create_page(web, TOKEN, slug="gone")
    deleted = httpx.delete(f"{web}/manage/pages/{page['id']}", headers={"Authorization": f"Bearer {TOKEN}"})
    assert deleted.status_code == 200
    open_editor(tab, web, page["edit_token"])
    tab.wait_for_selector(".nse-error")
    assert tab.inner_text(".nse-error") == "This scheduling page no longer exists: it was deleted."

    open_editor(tab, web, "")
    tab.wait_for_selector(".nse-error")
    assert tab.inner_text(".nse-error").startswith("No edit token")


def test_a_page_deleted_while_open_is_reported_on_save(web: str, tab: Any) -> None:
    page = create_page(web, TOKEN, slug="vanishing")
    open_editor(tab, web, page["edit_token"])
    tab.wait_for_selector("#nse-form")
    httpx.delete(f"{web}/manage/pages/{page['id']}", headers={"Authorization": f"Bearer {TOKEN}"})
    tab.fill("#nse-title", "Too late")
    tab.click("#nse-save")
    tab.wait_for_selector("#nse-status:has-text('deleted')")
    assert tab.inner_text("#nse-status") == "This scheduling page no longer exists: it was deleted."


def test_an_account_token_offers_its_pages(web: str, tab: Any) -> None:
    account = "token-editor-account-0123"
    for slug in ("first", "second"):
        create_page(web, account, slug=slug, name=slug.title())
    tab.goto(f"{web}/_emulator/editor-demo")
    tab.evaluate("token => nylas.scheduler.show({auth: {accessToken: token}})", account)
    tab.wait_for_selector(".nse-pages")
    tab.click(".nse-pages button:has-text('Second')")
    assert tab.input_value("#nse-name") == "Second"
