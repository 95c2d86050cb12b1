"""A v2 page config read for `provisioner preview` (`provisioner.apis.base.SlotView`). Pure.

The slot engine reads a v2 config as it is (`provisioner.slots.Settings.of`). Both sides share the
hosts of the YAML: the page's live accounts (``GET .../calendars``) when known, else one placeholder
per access token (rules scoped to an ``account_id`` then match nobody; the host names say so).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from provisioner.apis.base import SlotView
from provisioner.apis.nylas_v2.model import Config
from provisioner.slots import Host


def preview_hosts(config: Config, accounts: Sequence[dict[str, Any]], token_count: int) -> list[Host]:
    """The page's hosts (see the module docstring)."""
    if accounts:
        chosen = config.calendar_ids or {}
        return [
            Host(
                account_id=a["id"], name=a.get("name") or a["id"], email=a.get("email", ""),
                booking_calendar_id=(chosen[a["id"]].booking if a["id"] in chosen else None)
                or next((c["id"] for c in a.get("calendars", []) if not c.get("read_only")), ""),
            )
            for a in accounts
        ]
    ids = list(config.calendar_ids or {})
    return [
        Host(account_id=ids[i] if i < len(ids) else f"account-{i + 1}", name=f"host {i + 1}", email="",
             booking_calendar_id="")
        for i in range(token_count)
    ]


def _view(config: Config, hosts: tuple[Host, ...]) -> SlotView:
    duration = config.event.duration if config.event and config.event.duration else 30
    return SlotView(config, hosts, config.timezone or "UTC", duration)


def slot_views(desired: dict[str, Any], live: dict[str, Any] | None, token_count: int,
               accounts: Sequence[dict[str, Any]]) -> tuple[SlotView, SlotView | None]:
    wanted = Config.model_validate(desired)
    hosts = tuple(preview_hosts(wanted, accounts, token_count))
    return _view(wanted, hosts), (_view(Config.model_validate(live), hosts) if live is not None else None)
