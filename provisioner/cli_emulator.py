"""``provisioner emulator serve``: the local Scheduler API emulator over HTTP (registered by
`provisioner.cli`; the emulator is imported when the command runs)."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import click

from .cli_options import DEBUG, ProvisionerGroup


@click.group(cls=ProvisionerGroup)
def emulator() -> None:
    """The local Scheduler API emulator."""


@emulator.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8787, show_default=True, type=click.IntRange(0, 65535))
@click.option("--db", default=".provisioner/emulator.db", show_default=True, help="SQLite file (or :memory:).")
@click.option("--latency-ms", default=0, show_default=True, type=click.IntRange(0), help="Added latency per request.")
@click.option("--error-rate", default=0.0, show_default=True, help="Share of requests answered 5xx.")
@click.option("--rate-limit-rate", default=0.0, show_default=True, help="Share answered 429.")
@click.option("--drop-before-rate", default=0.0, show_default=True, help="Share dropped before processing.")
@click.option("--drop-after-rate", default=0.0, show_default=True, help="Share dropped after processing.")
@click.option("--seed", default=0, show_default=True, help="Seed of the fault injection.")
@click.option("--rate-limit-account", type=float, default=None, help="Enforce N requests/s per token (off by default).")
@click.option("--rate-limit-app", type=float, default=None, help="Enforce N requests/s in all (off by default).")
@click.option("--now", type=click.DateTime(["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d"]), default=None,
              help="Pin the emulator's clock (UTC) for bookings and reminders; move it with /_emulator/clock.")
@click.option("--v3-api-key-env", default=None, metavar="VAR",
              help="Accept only the API key in this environment variable on the v3 API (default: any key).")
@DEBUG
def emulator_serve(host: str, port: int, db: str, latency_ms: int, error_rate: float, rate_limit_rate: float,
                   drop_before_rate: float, drop_after_rate: float, seed: int, rate_limit_account: float | None,
                   rate_limit_app: float | None, now: datetime | None, v3_api_key_env: str | None) -> None:
    """Run the emulator over HTTP."""
    from .emulator import FaultConfig
    from .emulator.serve import serve
    from .settings import emulator_database

    try:
        faults = FaultConfig(latency_ms=latency_ms, error_rate=error_rate, rate_limit_rate=rate_limit_rate,
                             drop_before_rate=drop_before_rate, drop_after_rate=drop_after_rate, seed=seed)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    v3_api_key = os.environ.get(v3_api_key_env) if v3_api_key_env else None
    if v3_api_key_env and not v3_api_key:
        raise click.UsageError(f"--v3-api-key-env: the environment variable {v3_api_key_env} is not set")
    try:
        with emulator_database(Path(db)):
            serve(host=host, port=port, db=db, faults=faults, rate_limit_account=rate_limit_account,
                  rate_limit_app=rate_limit_app, now=now, v3_api_key=v3_api_key)
    except SystemExit as exc:  # uvicorn exits 3 when it cannot start, after logging why
        if exc.code in (0, None):
            raise
        from .errors import ProvisionerError

        raise ProvisionerError(f"the emulator could not start on {host}:{port} (the reason is above)") from None
