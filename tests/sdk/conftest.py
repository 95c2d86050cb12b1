"""Fixtures of the SDK tests: the emulator served as its own process, and a page config for them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.emulator_process import served_emulator

CONFIG: dict[str, Any] = {
    "timezone": "UTC",
    "appearance": {"color": "#82c0e7", "company_name": "Sample Solutions", "submit_text": "Book it!"},
    "event": {"title": "Coffee", "duration": 30, "location": "Café",
              "participants": [{"email": "host@example.com", "name": "Host"}]},
    "booking": {
        "opening_hours": [{"days": ["M", "T", "W", "R", "F"], "start": "09:00", "end": "17:00"}],
        "available_days_in_future": 7,
        "additional_fields": [{"name": "food", "label": "Food", "type": "dropdown", "required": True,
                               "order": 1, "dropdown_options": ["tea", "cake"]}],
    },
    "reminders": [{"delivery_method": "email", "delivery_recipient": "customer", "time_before_event": 30}],
}


@pytest.fixture(scope="module")
def sdk_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``provisioner emulator serve`` as a real process, clock pinned at Friday 2024-03-01 12:00 UTC."""
    db: Path = tmp_path_factory.mktemp("sdk") / "emulator.db"
    with served_emulator(db) as url:
        yield url
