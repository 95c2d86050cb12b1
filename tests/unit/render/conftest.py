"""Shared sample plans and drift reports, and the golden-file helper.

Golden files live in ``golden/`` next to this file. Run ``UPDATE_GOLDENS=1 pytest tests/unit/render``
to (re)write them, then review the diff like code.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from provisioner.changes import (
    Action,
    DriftItem,
    DriftReport,
    FieldChange,
    Hosts,
    Origin,
    PageChange,
    Plan,
    RefreshStats,
    Resolution,
    Target,
)

GOLDEN_DIR = Path(__file__).parent / "golden"
EMULATOR = Target(api_url="http://127.0.0.1:8484", emulator=True)
STAGING = Target(api_url="https://api.staging.example/v2", name="staging")


def _plan(*pages: PageChange, target: Target = STAGING) -> Plan:
    return Plan(target=target, lineage="3f2c1a9e-lineage", serial=7, pages=pages)


def _create_plan() -> Plan:
    return _plan(
        PageChange(
            address="sales/demo",
            action=Action.CREATE,
            slug="sales-demo",
            changes=(
                FieldChange("hosts", None, Hosts(2), before_present=False),
                FieldChange(
                    "config.booking.opening_hours",
                    None,
                    [{"days": [1, 2, 3, 4, 5], "start": "09:00", "end": "17:00"}],
                    before_present=False,
                ),
                FieldChange("config.event.duration", None, 30, before_present=False),
                FieldChange("config.event.title", None, 'Demo with "Sales"', before_present=False),
                FieldChange("name", None, "Sales demo", before_present=False),
                FieldChange("slug", None, "sales-demo", before_present=False),
            ),
        ),
        target=EMULATOR,
    )


def _update_plan() -> Plan:
    return _plan(
        PageChange(
            address="hr/interview",
            action=Action.NOOP,
            slug="hr-interview",
            page_id=5,
            drift=(DriftItem("config.appearance.color", "#ffffff", "#000000", Resolution.KEEP),),
        ),
        PageChange(
            address="sales/demo",
            action=Action.UPDATE,
            slug="sales-demo",
            page_id=123,
            changes=(
                FieldChange("hosts", Hosts(1, ("alice@example.com",)), Hosts(2)),
                FieldChange(
                    "config.appearance.logo", None, "https://example.com/logo.png", before_present=False
                ),
                FieldChange("config.booking.opening_hours[0].end", "17:00", "18:00"),
                FieldChange("config.event.location", "Coffee Shop", None, after_present=False),
                FieldChange("config.locale", "de", "en", origin=Origin.DRIFT),
                FieldChange(
                    "config.reminders",
                    [{"delivery_method": "email", "time_before_event": 60}],
                    [],
                    origin=Origin.BOTH,
                ),
            ),
            drift=(
                DriftItem("config.appearance.company_name", "Acme", "ACME Inc.", Resolution.KEEP),
                DriftItem("config.event.duration", 30, 45, Resolution.ADOPT),
                DriftItem("config.locale", "en", "de", Resolution.REVERT),
                DriftItem(
                    "config.reminders",
                    [{"delivery_method": "email", "time_before_event": 60}],
                    [{"delivery_method": "email", "time_before_event": 30}],
                    Resolution.REVERT,
                ),
            ),
        ),
    )


def _delete_plan() -> Plan:
    fields = (
        FieldChange("config.event.title", "Old", None, after_present=False),
        FieldChange("name", "Old page", None, after_present=False),
    )
    return _plan(
        PageChange(
            address="legacy/keep",
            action=Action.DELETE,
            slug="legacy-keep",
            page_id=11,
            prevent_destroy=True,
            changes=fields,
            live_fingerprint="f11",
        ),
        PageChange(
            address="legacy/old", action=Action.DELETE, slug="legacy-old", page_id=12, changes=fields,
            live_fingerprint="f12",
        ),
    )


def _guarded_plan() -> Plan:
    """Apply would refuse it (a limit), a page is protected, --target left pages out, and names carry
    terminal escapes that must never reach a terminal raw."""
    plan = _delete_plan()
    gone = PageChange(
        address="legacy/\x1b[2Jgone", action=Action.DELETE, slug="legacy-gone", page_id=13, prevent_destroy=True,
    )
    return Plan(
        target=Target(api_url="https://api.example/\x9b31m", name="prod"),
        lineage=plan.lineage,
        serial=plan.serial,
        pages=(*plan.pages, gone),
        warnings=("sales/\x1b]0;pwned\x07x: an interrupted apply sent a create",),
        refusals=("it updates 40 of 100 managed pages (40%), more than --max-changes-percent 30",),
        unchecked=12,
        refresh=RefreshStats(mode="auto", requests=7, listed_groups=2, read_alone=3),
    )


def _recreate_plan() -> Plan:
    return _plan(
        PageChange(
            address="sales/demo",
            action=Action.RECREATE,
            slug="sales-demo",
            page_id=123,
            changes=(
                FieldChange("config.event.title", None, "Demo", before_present=False),
                FieldChange("name", None, "Sales demo", before_present=False),
            ),
        ),
    )


def _move_plan() -> Plan:
    return _plan(
        PageChange(
            address="team/sales/demo",
            action=Action.MOVE,
            slug="sales-demo",
            page_id=123,
            moved_from="sales/demo",
        ),
        PageChange(
            address="team/sales/intro",
            action=Action.MOVE,
            slug="sales-intro",
            page_id=124,
            moved_from="sales/intro",
            changes=(FieldChange("config.event.title", "Intro", "Intro call"),),
        ),
        PageChange(
            address="team/support",
            action=Action.UPDATE,
            slug="support",
            page_id=130,
            changes=(FieldChange("config.event.duration", 30, 15),),
        ),
    )


def _nochanges_plan() -> Plan:
    return _plan(
        PageChange(address="a", action=Action.NOOP, slug="a", page_id=1),
        PageChange(address="b", action=Action.NOOP, slug="b", page_id=2),
    )


def _drift_report() -> DriftReport:
    return DriftReport(
        target=STAGING,
        refresh=RefreshStats(mode="page", requests=4, listed_groups=0, read_alone=4),
        pages=(
            PageChange(
                address="sales/demo",
                action=Action.NOOP,
                slug="sales-demo",
                page_id=123,
                drift=(
                    DriftItem("config.appearance.color", "#ffffff", "#000000", Resolution.KEEP),
                    DriftItem("config.event.location", "Room 1", None, Resolution.REVERT, live_present=False),
                    DriftItem("config.locale", "en", "de", Resolution.REVERT),
                    DriftItem("config.timezone", "UTC", "Europe/Berlin", Resolution.ADOPT),
                ),
            ),
            PageChange(address="sales/gone", action=Action.RECREATE, slug="sales-gone", page_id=99),
            PageChange(
                address="support",
                action=Action.UPDATE,
                slug="support",
                page_id=130,
                drift=(DriftItem("config.event.duration", 30, 45, Resolution.REVERT),),
            ),
        ),
    )


PLANS: dict[str, Callable[[], Plan]] = {
    "create": _create_plan,
    "update": _update_plan,
    "delete": _delete_plan,
    "recreate": _recreate_plan,
    "move": _move_plan,
    "nochanges": _nochanges_plan,
    "guarded": _guarded_plan,
}
DRIFTS: dict[str, Callable[[], DriftReport]] = {
    "drift": _drift_report,
    "nodrift": lambda: DriftReport(target=EMULATOR),
}
SUFFIX = {"text": "txt", "json": "json", "markdown": "md"}


@pytest.fixture
def golden() -> Callable[[str, str], None]:
    """``golden(name, actual)``: compare with ``golden/<name>``, or write it under UPDATE_GOLDENS=1."""

    def check(name: str, actual: str) -> None:
        path = GOLDEN_DIR / name
        if os.environ.get("UPDATE_GOLDENS") == "1":
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(actual, encoding="utf-8")
            return
        if not path.exists():
            pytest.fail(f"missing golden file {path}; run with UPDATE_GOLDENS=1 and review it")
        assert actual == path.read_text(encoding="utf-8"), f"{name} differs from its golden file"

    return check


@pytest.fixture(params=sorted(PLANS))
def plan_case(request: pytest.FixtureRequest) -> tuple[str, Plan]:
    """Each representative plan, as ``(name, plan)``."""
    return request.param, PLANS[request.param]()


@pytest.fixture(params=sorted(DRIFTS))
def drift_case(request: pytest.FixtureRequest) -> tuple[str, DriftReport]:
    """Each representative drift report, as ``(name, report)``."""
    return request.param, DRIFTS[request.param]()


@pytest.fixture
def samples() -> dict[str, Plan | DriftReport]:
    """Every sample by name (plans and drift reports)."""
    return {**{k: f() for k, f in PLANS.items()}, **{k: f() for k, f in DRIFTS.items()}}
