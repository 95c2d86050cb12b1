"""`provisioner preview` and `plan --preview`: slots a config change adds and removes."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

from provisioner.apis.nylas_v2.model import Config
from provisioner.preview import compare, summarize
from provisioner.slots import Host, Slot

from .conftest import Project

MONDAY = "2026-12-07"


def test_preview_of_a_new_page_lists_its_slots(project: Project):
    result = project.run("preview", "support/office-hours", "--from", MONDAY, "--days", "7")
    assert result.exit_code == 0, result.output
    assert "the page is not live yet" in result.output
    # Tue and Thu 14:00-17:00 New York, 30-minute slots: 6 a day.
    assert "Tue 14:00-17:00 America/New_York, host 1: 6 slot(s)" in result.output
    assert "Thu 14:00-17:00 America/New_York, host 1: 6 slot(s)" in result.output
    assert "Mon" not in result.output.split("\n", 2)[2]


def test_preview_shows_what_a_change_adds_and_removes(project: Project):
    assert project.run("apply", "--auto-approve").exit_code == 0
    path = project.root / "pages/support/office-hours.yaml"
    path.write_text(path.read_text().replace('start: "14:00"', 'start: "15:00"').replace("[T, R]", "[T, R, F]"))
    result = project.run("preview", "support/office-hours", "--from", MONDAY, "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert (doc["desired_total"], doc["live_total"]) == (12, 12)
    removed = {(r["weekday"], r["start"], r["end"], r["count"]) for r in doc["removed"]}
    added = {(r["weekday"], r["start"], r["end"], r["count"]) for r in doc["added"]}
    assert removed == {("Tue", "14:00", "15:00", 2), ("Thu", "14:00", "15:00", 2)}
    assert added == {("Fri", "15:00", "17:00", 4)}
    planned = project.run("plan", "--preview")
    assert "Bookable slots" not in planned.output and "Fri 15:00-17:00" in planned.output


def test_summaries_merge_runs_per_weekday_and_host():
    def slot(hour: int, minute: int, host: str = "A") -> Slot:
        start = datetime(2026, 12, 7, hour, minute, tzinfo=UTC)
        return Slot(start, start.replace(minute=minute + 30) if minute < 30 else start.replace(hour=hour + 1,
                    minute=minute - 30), host, "cal", host, ())

    runs = summarize([slot(9, 0), slot(9, 30), slot(11, 0), slot(9, 0, "B")], "UTC")
    assert [(r.weekday, r.start, r.end, r.host, r.count) for r in runs] == [
        ("Mon", "09:00", "10:00", "A", 2), ("Mon", "11:00", "11:30", "A", 1), ("Mon", "09:00", "09:30", "B", 1)]


def test_an_unchanged_config_previews_no_change():
    config = Config.model_validate({"timezone": "Europe/Paris", "event": {"duration": 60}})
    host = Host("acc", "Alice", "a@example.com", "cal")
    result = compare("x", config, config, [host], date(2026, 3, 23), 14)  # across the Paris DST change
    assert not result.changed and result.desired_total == result.live_total == 80
