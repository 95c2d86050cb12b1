"""Round-robin fairness in the plan and the preview: a host added to a live round-robin page."""

from __future__ import annotations

import json

from .conftest import Project


def test_a_new_host_on_a_round_robin_page_gets_a_fairness_note_and_a_share_preview(project: Project):
    assert project.run("apply", "--auto-approve").exit_code == 0
    page = project.root / "pages/sales/discovery.yaml"
    page.write_text(page.read_text().replace("  - ${NYLAS_TOKEN_CAROL:-demo-token-carol}\n",
                                             "  - ${NYLAS_TOKEN_CAROL:-demo-token-carol}\n"
                                             "  - ${NYLAS_TOKEN_DAVE:-demo-token-dave}\n"))
    text = project.run("plan")
    assert text.exit_code == 0
    assert "fairness: sales/discovery: the hosts change, so the rotation order changes" in text.output
    plan = json.loads(project.run("plan", "--format", "json").output)
    (note,) = [w for w in plan["warnings"] if w.startswith("fairness:")]
    assert "a new host takes the next bookings until it catches up" in note
    assert "fairness: sales/discovery" in project.run("plan", "--format", "markdown").output

    preview = project.run("preview", "sales/discovery", "--from", "2030-01-07", "--days", "7")
    assert preview.exit_code == 0, preview.output
    assert "Expected share of bookings per host" in preview.output
    shares = [line for line in preview.output.splitlines() if ": YAML " in line]
    assert len(shares) >= 2 and all(", live " in line for line in shares)


def test_a_page_that_is_not_round_robin_gets_no_note(project: Project):
    assert project.run("apply", "--auto-approve").exit_code == 0
    page = project.root / "pages/sales/discovery.yaml"
    page.write_text(page.read_text().replace("duration: 20", "duration: 25"))
    plan = json.loads(project.run("plan", "--format", "json").output)
    assert plan["summary"]["update"] == 1
    assert not [w for w in plan["warnings"] if w.startswith("fairness:")]
