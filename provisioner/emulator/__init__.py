"""A faithful local emulator of the Nylas Scheduler APIs, v2 and v3, in one server (PRODUCT.md §5).

``/v3/…`` (and ``/_emulator/v3/…``) is the v3 API of `provisioner.apis.nylas_v3.emulator`, everything
else the v2 API; faults, rate limits and the clock are shared.

Public surface::

    emu = Emulator(".provisioner/emulator.db", faults=FaultConfig(error_rate=0.1, seed=7))
    async with httpx.AsyncClient(transport=emu.transport(), base_url="http://emulator.local") as c:
        ...
    emu.faults = FaultConfig()          # change faults at runtime (also: PUT /_emulator/faults)
    emu.close()

`Emulator.app` is the ASGI app (serve it with `provisioner.emulator.serve.serve`). The **[choice]**s
about behaviour (where the real service's evidence is silent) are in `provisioner.apis.nylas_v2.emulator.choices`,
or, for the booking side, the rate limits and the schema, beside the code they shape: its docstring
lists where.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from provisioner.apis.nylas_v2.emulator.app import build_app
from provisioner.apis.nylas_v2.emulator.choices import account_id_for, primary_calendar_id_for
from provisioner.apis.nylas_v2.emulator.store import Store
from provisioner.apis.nylas_v2.emulator.webhooks import Sender
from provisioner.emulator.clock import SettableClock
from provisioner.emulator.faults import ConnectionDropped, FaultConfig, FaultLayer, FaultState
from provisioner.emulator.ratelimit import RateLimitConfig, RateLimitLayer
from provisioner.emulator.transport import EmulatorTransport

__all__ = ["ConnectionDropped", "Emulator", "FaultConfig", "RateLimitConfig", "account_id_for",
           "primary_calendar_id_for"]


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Emulator:
    """One emulated Scheduler API over one SQLite database (a file path or ``":memory:"``).

    Several instances, in one process or several, may share one database file. `clock` gives the
    server's "now" (default: UTC); a page's ``created_at`` and ``modified_at`` are its date.
    `rate_limits` turns on rate-limit enforcement (`provisioner.emulator.ratelimit`) over the
    `monotonic` clock; `rate_limiter.config` changes it at runtime. `webhook_sender` delivers webhook
    reminders and v3 ``booking.*`` webhooks (default: loopback hosts only). `v3_api_key`: the only API
    key the v3 API accepts (None: any key).
    """

    def __init__(self, db: str | Path = ":memory:", faults: FaultConfig | None = None,
                 clock: Callable[[], datetime] | None = None, rate_limits: RateLimitConfig | None = None,
                 monotonic: Callable[[], float] = time.monotonic, webhook_sender: Sender | None = None,
                 v3_api_key: str | None = None) -> None:
        # Imported here: the v3 package imports this package's infrastructure (faults, ...).
        from provisioner.apis.nylas_v3.emulator import V3Api, V3ErrorShape, route_by_api

        self.db = str(db)
        self.store = Store(db)
        self._faults = FaultState(faults or FaultConfig())
        self.clock = SettableClock(clock or _utcnow)  # pinned and moved by PUT /_emulator/clock
        self.v3 = V3Api(self.db, self.clock, v3_api_key, webhook_sender)
        v2_app = build_app(self.store, self._faults, self.clock, webhook_sender)
        self.rate_limiter = RateLimitLayer(route_by_api(v2_app, self.v3.app), rate_limits, monotonic)
        self.app: Any = V3ErrorShape(FaultLayer(self.rate_limiter, self._faults))

    @property
    def faults(self) -> FaultConfig:
        """The live fault configuration; assigning one restarts its seeded sequence."""
        return self._faults.config

    @faults.setter
    def faults(self, config: FaultConfig) -> None:
        self._faults.replace(config)

    def stats(self) -> dict[str, Any]:
        """Counts of API requests by method and of injected faults by kind."""
        return self._faults.stats()

    def transport(self) -> httpx.AsyncBaseTransport:
        """An httpx transport calling this emulator in-process (drops raise RemoteProtocolError)."""
        return EmulatorTransport(self.app)

    def close(self) -> None:
        self.v3.close()
        self.store.close()

    def __repr__(self) -> str:
        return f"Emulator(db={self.db!r})"
