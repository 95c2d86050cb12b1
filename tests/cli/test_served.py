"""End to end against the emulator served over real HTTP: end-user edits (drift), faults."""

from __future__ import annotations

import json

import httpx
import pytest

from provisioner.emulator import FaultConfig

from .conftest import Project, Served


def end_user_edit(served: Served, project: Project, address: str, edit) -> None:
    """Edit a live page as the Schedule Editor would: GET and PUT with the page's edit_token."""
    lock = json.loads((project.root / "pages.lock").read_text())
    page_id = lock["pages"][address]["id"]
    token = _edit_token(served, page_id)
    headers = {"Authorization": f"Bearer {token}"}
    page = httpx.get(f"{served.url}/manage/pages/{page_id}", headers=headers).json()
    edit(page["config"])
    answer = httpx.put(f"{served.url}/manage/pages/{page_id}", headers=headers,
                       json={"config": page["config"]})
    assert answer.status_code == 200, answer.text


def _edit_token(served: Served, page_id: int) -> str:
    import sqlite3

    conn = sqlite3.connect(served.db)
    try:
        return conn.execute("SELECT edit_token FROM pages WHERE id = ?", (page_id,)).fetchone()[0]
    finally:
        conn.close()


def test_end_user_edits_are_drift_reverted_unless_ignored(project: Project, served: Served):
    env = served.env
    assert project.run("apply", "--auto-approve", env=env).exit_code == 0
    assert project.run("drift", env=env).exit_code == 0

    # An ignored path (config.appearance on the onboarding page): information only.
    end_user_edit(served, project, "customer-success/onboarding",
                  lambda c: c["appearance"].update(color="#000000"))
    kept = project.run("drift", env=env)
    assert kept.exit_code == 0, kept.output
    assert "config.appearance.color" in kept.output
    assert project.run("plan", "--detailed-exitcode", env=env).exit_code == 0

    # A managed path: drift, exit 2, and the plan reverts it, labelled as drift.
    end_user_edit(served, project, "sales/discovery", lambda c: c["event"].update(duration=50))
    drifted = project.run("drift", "--format", "json", env=env)
    assert drifted.exit_code == 2
    report = json.loads(drifted.output)
    (page,) = [p for p in report["pages"] if p["address"] == "sales/discovery"]
    assert [(d["path"], d["last_applied"], d["live"]) for d in page["drift"]] == [("config.event.duration", 20, 50)]
    planned = project.run("plan", "--format", "json", env=env)
    (change,) = [p for p in json.loads(planned.output)["pages"] if p["address"] == "sales/discovery"]
    assert [(c["path"], c["before"], c["after"], c["origin"]) for c in change["changes"]] == [
        ("config.event.duration", 50, 20, "drift")
    ]
    assert project.run("apply", "--auto-approve", env=env).exit_code == 0
    assert project.run("drift", env=env).exit_code == 0


def test_a_page_deleted_outside_is_reported_and_recreated(project: Project, served: Served):
    env = served.env
    assert project.run("apply", "--auto-approve", env=env).exit_code == 0
    lock = json.loads((project.root / "pages.lock").read_text())
    page_id = lock["pages"]["sales/discovery"]["id"]
    token = _edit_token(served, page_id)
    httpx.delete(f"{served.url}/manage/pages/{page_id}", headers={"Authorization": f"Bearer {token}"})
    gone = project.run("drift", env=env)
    assert gone.exit_code == 2 and "sales/discovery" in gone.output
    planned = project.run("plan", env=env)
    assert "Plan: 0 to create, 0 to update, 0 to delete, 1 to recreate." in planned.output
    assert project.run("apply", "--auto-approve", env=env).exit_code == 0
    assert project.run("plan", "--detailed-exitcode", env=env).exit_code == 0


@pytest.mark.parametrize(
    "faults",
    [
        FaultConfig(error_rate=0.3, seed=1),
        FaultConfig(rate_limit_rate=0.3, retry_after=0, seed=2),
        FaultConfig(drop_before_rate=0.3, seed=3),
        FaultConfig(drop_after_rate=0.3, seed=4),
    ],
    ids=["5xx", "429", "drop-before", "drop-after"],
)
def test_apply_converges_through_faults_without_duplicates(project: Project, served: Served, faults):
    served.emulator.faults = faults
    env = served.env
    for _ in range(4):  # a run may fail on an exhausted retry; the next one finishes the job
        result = project.run("apply", "--auto-approve", "--parallelism", "4", env=env)
        if result.exit_code == 0:
            break
    assert result.exit_code == 0, result.output
    slugs = [slug for slug, _ in project.emulator_pages(served.db)]
    assert sorted(slugs) == sorted(set(slugs)) and len(slugs) == 4
    served.emulator.faults = FaultConfig()
    assert project.run("plan", "--detailed-exitcode", env=env).exit_code == 0
    lock = json.loads((project.root / "pages.lock").read_text())
    assert sorted(p["id"] for p in lock["pages"].values()) == sorted(i for _, i in project.emulator_pages(served.db))


def test_lockfile_for_another_api_is_refused(project: Project, served: Served):
    assert project.run("apply", "--auto-approve", env=served.env).exit_code == 0
    other = dict(served.env, PROVISIONER_API_URL="http://127.0.0.1:9")
    result = project.run("plan", env=other)
    assert result.exit_code == 1
    assert served.url in result.output and "127.0.0.1:9" in result.output
