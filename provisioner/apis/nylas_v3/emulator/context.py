"""What every route module of the v3 emulator shares: the store, the clock, the API key, the
notifier, and the configuration-side lookups (by id under a grant, by session/key/public access).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from provisioner.apis.nylas_v3.emulator import auth
from provisioner.apis.nylas_v3.emulator import store as st
from provisioner.apis.nylas_v3.emulator.webhooks import Notifier
from provisioner.apis.nylas_v3.emulator.wire import V3Failure

NO_CONFIGURATION = "Configuration not found"


def configuration_json(record: st.ConfigurationRecord) -> dict[str, Any]:
    """A configuration as the API returns it: its read-only ``id`` and the stored object."""
    return {"id": record.id, **record.config}


@dataclass
class V3Context:
    store: st.V3Store
    clock: Callable[[], datetime]
    api_key: str | None
    notifier: Notifier

    def now(self) -> float:
        return self.clock().timestamp()

    def require_key(self, request: Request) -> None:
        auth.require_api_key(request.headers, self.api_key)

    async def configuration_of_grant(self, request: Request) -> st.ConfigurationRecord:
        """The configuration named by the path, under the path's grant (404 otherwise); API key checked."""
        self.require_key(request)
        grant_id = auth.check_grant(request.path_params["grant_id"])
        config_id = request.path_params["configuration_id"]

        def load() -> st.ConfigurationRecord | None:
            with self.store.snapshot() as conn:
                return st.get_configuration(conn, config_id)

        record = await run_in_threadpool(load)
        if record is None or record.grant_id != grant_id:
            raise V3Failure(404, NO_CONFIGURATION)
        return record

    async def booking_access(self, request: Request, need_configuration: bool = True) -> st.ConfigurationRecord | None:
        """The configuration a booking-side request works on (`auth` module docstring).

        With the API key and no ``configuration_id``/``slug``, answers None when not
        `need_configuration` (the booking id then names it)."""
        token = auth.bearer(request.headers)
        config_id = request.query_params.get("configuration_id") or None
        slug = request.query_params.get("slug") or None
        now = self.now()

        def resolve() -> tuple[str, st.ConfigurationRecord | None]:
            with self.store.snapshot() as conn:
                session = st.get_session(conn, token) if token else None
                if session is not None:
                    if not session.active(now):
                        return "ended", None
                    return "session", st.get_configuration(conn, session.configuration_id)
                if config_id is not None:
                    return "named", st.get_configuration(conn, config_id)
                if slug is not None:
                    return "named", st.configuration_by_slug(conn, slug)
                return "none", None

        how, record = await run_in_threadpool(resolve)
        if how == "ended":
            raise V3Failure(401, auth.SESSION_ENDED)
        if how == "session":
            if record is None:
                raise V3Failure(404, NO_CONFIGURATION)
            if config_id is not None and config_id != record.id:
                raise V3Failure(400, "Invalid request: configuration_id: not the configuration of this session")
            return record
        if token is not None and not auth.is_api_key(token, self.api_key):
            raise V3Failure(401, auth.BAD_KEY)
        if how == "none":
            if token is not None and not need_configuration:
                return None
            if token is None:
                raise V3Failure(401, auth.NEEDS_SESSION + " (or name a public configuration)")
            raise V3Failure(400, "Invalid request: give configuration_id or slug")
        if record is None:
            raise V3Failure(404, NO_CONFIGURATION)
        if token is None and record.config.get("requires_session_auth"):
            raise V3Failure(401, auth.NEEDS_SESSION)
        return record
