"""``GET /schedule/availability/google`` and ``GET /schedule/availability/o365``: the free/busy times of
the caller's accounts, as the Schedule Editor showed them [sdk].

Every v2 SDK has the two calls (Python ``get_google_availability``, Node ``getGoogleAvailability``, Ruby
``get_google_availability``, Java ``getGoogleAvailability``); only Java types the answer, as a list of
``ProviderAvailability``: ``[{name, email, busy: [{start, end}]}]`` with unix seconds. The rest is
**[choice]**:

- Auth as on every call (Bearer or Basic). An access token answers for its account; a page's edit
  token for the page's accounts, in page order (404 once the page is deleted). No or unknown
  token: 401.
- ``busy`` is every event on the account's calendars that overlaps the next `WINDOW_DAYS` days from
  the emulator's clock, by start; bookings are events, so they count.
- Both providers answer alike: the emulator's accounts belong to no provider.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from provisioner.apis.nylas_v2.emulator import auth, calstore, choices
from provisioner.apis.nylas_v2.emulator.store import Account, Store
from provisioner.apis.nylas_v2.emulator.wire import unix

PROVIDERS = ("google", "o365")
WINDOW_DAYS = 30  # [choice]


def availability_json(store: Store, token: str, now: datetime) -> list[dict[str, Any]]:
    """The answer for the holder of `token` at `now`; raises `auth.Denied` for an unknown token."""
    principal = store.resolve(token)
    if principal is None:
        raise auth.Denied(*auth.UNKNOWN)
    if principal.page_id is not None:
        record = store.get_page(principal.page_id)
        if record is None:
            raise auth.Denied(*auth.PAGE_DELETED)
        accounts = list(record.accounts)
    else:
        account_id = principal.account_id or ""
        accounts = [Account(account_id, choices.account_email_for(account_id), choices.account_name_for(account_id))]
    start, end = unix(now), unix(now + timedelta(days=WINDOW_DAYS))
    out = []
    with store.snapshot() as conn:
        for account in accounts:
            events = [e for e in calstore.events_of_account(conn, account.id) if e.end > start and e.start < end]
            out.append({"name": account.name, "email": account.email,
                        "busy": [{"start": e.start, "end": e.end} for e in events]})
    return out


def routes(store: Store, clock: Callable[[], datetime]) -> list[Route]:
    """The two provider availability routes."""

    async def availability(request: Request) -> JSONResponse:
        token = auth.request_token(request.headers)
        if token is None:
            raise auth.Denied(*auth.MISSING)
        return JSONResponse(await run_in_threadpool(availability_json, store, token, clock()))

    return [Route(f"/schedule/availability/{provider}", availability, methods=["GET"]) for provider in PROVIDERS]
