"""The emulator's hosted booking page and Schedule Editor: plain HTML, CSS and JavaScript files shipped
as package data (no build step, no CDN), speaking only the public API the SDKs use.

- ``GET /_emulator/book/{slug}``: the booking page a guest uses (the service hosted it at
  ``schedule.nylas.com/{slug}``; [choice] the emulator keeps it under its own prefix so that no page
  slug can shadow an API path). It reads ``/schedule/{slug}/info`` and ``/timeslots`` and books with
  ``POST /schedule/{slug}/timeslots``. [choice] Times are in the page's time zone, or, when
  ``appearance.show_timezone_options`` is on, in the guest's (the browser's) with any other to choose;
  of round-robin slots at one time, the first host's is offered.
- ``GET /_emulator/web/schedule-editor.js``: defines ``nylas.scheduler.show({auth: {pageEditToken},
  style: {tintColor, backgroundColor}})`` as in the Smart Integration guide: an editor overlay that reads
  and saves the page through ``/manage/pages`` with the edit token only.
- ``GET /_emulator/editor-demo``: an example host page (like an integrator's app) that opens the
  editor from a button.
- ``GET /_emulator/web/{file}``: the other static files (styles, scripts, a demo logo).

Routes under ``/_emulator/`` are never faulted nor rate limited; the API calls the pages make are.
"""

from __future__ import annotations

from importlib import resources

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from provisioner.apis.nylas_v2.emulator.wire import ApiFailure

PREFIX = "/_emulator"
BOOKING_PAGE_PATH = PREFIX + "/book/{slug}"
EDITOR_SCRIPT_PATH = PREFIX + "/web/schedule-editor.js"
EDITOR_DEMO_PATH = PREFIX + "/editor-demo"

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}
STATIC_FILES = frozenset({"booking.html", "booking.js", "booking.css", "schedule-editor.js", "editor-demo.html",
                          "demo-logo.svg"})
NO_FILE = (404, "No such file of the emulator's web pages")


def static_file(name: str) -> Response:
    """One of `STATIC_FILES` with its content type (never cached: the emulator is for development)."""
    if name not in STATIC_FILES:
        raise ApiFailure(*NO_FILE)
    data = (resources.files(__package__) / "static" / name).read_bytes()
    suffix = name[name.rindex("."):]
    return Response(data, media_type=CONTENT_TYPES[suffix], headers={"Cache-Control": "no-store"})


def routes() -> list[Route]:
    """The booking page, the editor script, the example host page and their files."""

    async def booking_page(request: Request) -> Response:
        return static_file("booking.html")

    async def editor_demo(request: Request) -> Response:
        return static_file("editor-demo.html")

    async def asset(request: Request) -> Response:
        return static_file(request.path_params["name"])

    return [
        Route(BOOKING_PAGE_PATH, booking_page, methods=["GET"]),
        Route(EDITOR_DEMO_PATH, editor_demo, methods=["GET"]),
        Route(PREFIX + "/web/{name}", asset, methods=["GET"]),
    ]
