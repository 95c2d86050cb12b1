"""`provisioner preview` and `plan --preview` on v3 pages: the example tree in tests/examples/v3 on the
embedded emulator. The slots come from the same reading of a configuration the v3 emulator's
availability serves (participants as hosts, v3 round robin), YAML beside live."""

from __future__ import annotations

import json

from .conftest import Project

LOCAL = ("--target-env", "local")
MONDAY = "2030-01-07"


def ok(project: Project, *args: str) -> str:
    result = project.run(*args)
    assert result.exit_code == 0, result.output
    return result.output


def runs(rows: list[dict]) -> set[tuple[str, str, str, str, int]]:
    return {(r["weekday"], r["start"], r["end"], r["host"], r["count"]) for r in rows}


def test_a_new_v3_page_previews_its_participants_slots(v3: Project):
    out = ok(v3, "preview", "sales/demo", "--from", MONDAY, "--days", "7", *LOCAL)
    assert "the page is not live yet" in out
    # Mon-Fri 09:00-17:00 Paris, 30-minute slots every 15 minutes: 09:00 ... 16:30 = 31 a day.
    assert "Mon 09:00-17:00 Europe/Paris, Alice: 31 slot(s)" in out
    assert "Fri 09:00-17:00 Europe/Paris, Alice: 31 slot(s)" in out
    assert "Sat" not in out and "Sun" not in out


def test_a_v3_change_to_open_hours_and_duration_shows_added_and_removed_slots(v3: Project):
    ok(v3, "apply", "--auto-approve", *LOCAL)
    assert "No change to the bookable slots" in ok(v3, "preview", "sales/demo", "--from", MONDAY, *LOCAL)

    page = v3.root / "pages/sales/demo.yaml"
    page.write_text(page.read_text().replace('days: [1, 2, 3, 4, 5]', 'days: [1, 2, 3, 4, 5, 6]')
                    .replace('end: "17:00"', 'end: "12:00"'))
    doc = json.loads(ok(v3, "preview", "sales/demo", "--from", MONDAY, "--days", "7", "--format", "json", *LOCAL))
    # 09:00-12:00: 30-minute slots every 15 minutes = 11 a day, six days; live: 31 a day, five days.
    assert (doc["desired_total"], doc["live_total"]) == (66, 155)
    assert runs(doc["added"]) == {("Sat", "09:00", "12:00", "Alice", 11)}
    assert runs(doc["removed"]) == {(day, "11:45", "17:00", "Alice", 20) for day in ("Mon", "Tue", "Wed", "Thu", "Fri")}

    # The duration alone: 60-minute slots every 15 minutes end an hour before closing.
    page.write_text((v3.root / "pages/sales/demo.yaml").read_text().replace('end: "12:00"', 'end: "17:00"')
                    .replace('days: [1, 2, 3, 4, 5, 6]', 'days: [1, 2, 3, 4, 5]')
                    .replace("duration_minutes: 30", "duration_minutes: 60"))
    doc = json.loads(ok(v3, "preview", "sales/demo", "--from", MONDAY, "--days", "7", "--format", "json", *LOCAL))
    assert (doc["desired_total"], doc["live_total"]) == (5 * 29, 155)
    assert doc["added"] and doc["removed"]  # every slot is longer: each 30-minute slot gives way to a 60-minute one

    planned = ok(v3, "plan", "--preview", *LOCAL)
    assert "config.availability.duration_minutes" in planned and "Mon 09:00-17:00 Europe/Paris, Alice: +29" in planned


def test_a_v3_round_robin_page_previews_each_hosts_share_of_bookings(v3: Project):
    out = ok(v3, "preview", "sales/round-robin", "--from", MONDAY, "--days", "7", *LOCAL)
    assert "Expected share of bookings per host" in out
    shares = {line.split(":")[0].strip(): int(line.split("YAML ")[1].split()[0])
              for line in out.splitlines() if ": YAML " in line}
    # max-fairness: the least recently booked half is offered, so the two hosts take turns.
    assert set(shares) == {"alice@example.com", "bob@example.com"}
    assert abs(shares["alice@example.com"] - shares["bob@example.com"]) <= 1 and sum(shares.values()) > 0

    ok(v3, "apply", "--auto-approve", *LOCAL)
    page = v3.root / "pages/sales/round-robin.yaml"
    page.write_text(page.read_text().replace("availability_method: max-fairness", "availability_method: collective")
                    .replace("- email: alice@example.com\n", "- email: alice@example.com\n      is_organizer: true\n"))
    out = ok(v3, "preview", "sales/round-robin", "--from", MONDAY, "--days", "7", *LOCAL)
    # Collective: every booking names both hosts and goes to the organizer.
    lines = [line.strip() for line in out.splitlines() if ": YAML " in line]
    bob = next(line for line in lines if line.startswith("bob@example.com"))
    assert bob.startswith("bob@example.com: YAML 0 (0%), live ") and not bob.endswith("live 0 (0%)")
