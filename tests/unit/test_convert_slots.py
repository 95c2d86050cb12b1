"""A converted page books as the v2 page did: the same pure slot engine, fed the v2 config and the
converted v3 configuration (through the v3 package's `slot_settings`), offers the same starts over
twenty days, for every case whose losses do not touch availability."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import yaml

from provisioner.apis.nylas_v2.model import Config
from provisioner.apis.nylas_v3.slot_settings import hosts_for, settings_for
from provisioner.apis.v2_to_v3.mapping import convert_page
from provisioner.slots import Host, compute_slots
from tests.unit.test_convert_cases import CASES, host_env, v2_page, v3_configuration

NOW = datetime(2026, 3, 2, 8, 30, tzinfo=UTC)  # a Monday, 30 minutes before a 09:00 UTC slot
WINDOW = timedelta(days=20)  # past v2's default horizon (14 days), within v3's (30)
SINGLE_HOST = ["single_host", "defaults_made_explicit", "lifecycle_paths", "one_host_account_hours", "limits"]


def v2_starts(case: dict[str, Any]) -> list[int]:
    config = Config.model_validate(case["page"].get("config") or {})
    scoped = [h.account_id for h in (config.booking.opening_hours if config.booking else None) or [] if h.account_id]
    host = Host(account_id=scoped[0] if scoped else "acct", name="Host", email="host@example.com",
                booking_calendar_id="cal")
    slots = compute_slots(config, [host], [], NOW, window_start=NOW, window_end=NOW + WINDOW)
    return [int(s.start.timestamp()) for s in slots]


def v3_starts(document: dict[str, Any]) -> list[int]:
    config = v3_configuration(document, host_env(document))
    settings = settings_for(config, lambda p: p.grant_id or "")
    slots = compute_slots(settings, hosts_for(config, lambda p: p.grant_id or "", {}), [], NOW,
                          window_start=NOW, window_end=NOW + WINDOW)
    return sorted({int(s.start.timestamp()) for s in slots})


@pytest.mark.parametrize("name", SINGLE_HOST)
def test_a_converted_single_host_page_offers_the_same_starts(name: str) -> None:
    case = yaml.safe_load((CASES[0].parent / f"{name}.yaml").read_text())
    document = convert_page(v2_page(case)).document
    v2 = v2_starts(case)
    assert v2, "the case offers slots in the window"
    assert v3_starts(document) == v2
