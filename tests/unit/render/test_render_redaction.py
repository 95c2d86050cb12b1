"""Secrets never print, in any format: flagged changes, secret-named paths and keys, secret types."""

from __future__ import annotations

import json

import pytest
from pydantic import SecretStr

from provisioner.changes import (
    Action,
    DriftItem,
    DriftReport,
    FieldChange,
    PageChange,
    Plan,
    Resolution,
    Target,
)
from provisioner.render import FORMATS, render_drift, render_plan
from provisioner.render.values import is_sensitive_path, show

TOKEN = "nyk_v0_TOPSECRETtoken123"


def _leaky_plan(action: Action) -> Plan:
    changes = (
        FieldChange("access_tokens", [TOKEN], [TOKEN + "x"], sensitive=True),
        FieldChange("config.integrations.api_key", TOKEN, "other" + TOKEN),
        FieldChange("config.metadata", {"edit_token": TOKEN, "team": "sales"}, {"team": "sales"}),
        FieldChange("config.notes", [SecretStr(TOKEN)], None, after_present=False),
    )
    page = PageChange(
        address="a",
        action=action,
        slug="a",
        page_id=1,
        changes=changes,
        drift=(DriftItem("config.password", TOKEN, "x", Resolution.KEEP),),
    )
    return Plan(Target("https://api.example"), "l", 1, (page,))


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("action", [Action.CREATE, Action.UPDATE, Action.DELETE, Action.RECREATE])
def test_plan_never_prints_a_secret(fmt: str, action: Action) -> None:
    out = render_plan(_leaky_plan(action), fmt, color=True)
    assert "TOPSECRET" not in out
    assert "(sensitive)" in out


@pytest.mark.parametrize("fmt", FORMATS)
def test_drift_never_prints_a_secret(fmt: str) -> None:
    page = PageChange(
        address="a",
        action=Action.NOOP,
        slug="a",
        page_id=1,
        drift=(
            DriftItem("config.webhook_secret", TOKEN, TOKEN + "2", Resolution.REVERT),
            DriftItem("config.metadata", {"token": TOKEN}, {}, Resolution.REVERT),
        ),
    )
    out = render_drift(DriftReport(Target("u"), (page,)), fmt)
    assert "TOPSECRET" not in out


def test_non_secret_neighbours_stay_visible() -> None:
    doc = json.loads(render_plan(_leaky_plan(Action.UPDATE), "json"))
    metadata = doc["pages"][0]["changes"][2]
    assert metadata["before"] == {"edit_token": "(sensitive)", "team": "sales"}
    assert metadata["sensitive"] is False


@pytest.mark.parametrize(
    ("path", "secret"),
    [
        ("access_tokens", True),
        ("access_tokens[1]", True),
        ("config.event.title", False),
        ("config.booking.confirmation_method", False),
        ("config.x.API_KEY", True),
        ("config.client_secret", True),
    ],
)
def test_sensitive_paths(path: str, secret: bool) -> None:
    assert is_sensitive_path(path) is secret


def test_show_formats_values_on_one_line() -> None:
    assert show("a\nb") == '"a\\nb"'
    assert show(None) == "null"
    assert show(None, present=False) == "(absent)"
    assert show({"b": [1, 2], "a": True}) == '{"a": true, "b": [1, 2]}'
    assert show("x", sensitive=True) == "(sensitive)"
