"""The v3 Scheduler through the CLI: the example tree in tests/examples/v3 on the embedded emulator
(validate, plan, apply, no changes, edit -> update, saved plan, moves, import, pull, deletes with
thresholds) and on a served emulator (API key from the environment, drift).

The same engine as v2 (load, plan, apply, state): only the API package differs.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from provisioner.emulator import Emulator, FaultConfig
from provisioner.emulator.serve import serve_in_thread
from provisioner.secrets import keygen

from .conftest import V3_EXAMPLE as EXAMPLE
from .conftest import Project

GRANT = "grant-sales-team"
LOCAL = ("--target-env", "local")
KEY = "nyk_v3-test-key-0123456789abcdef"  # the served emulator's API key in these tests


def lock(project: Project, name: str = "pages.local.lock") -> dict:
    return json.loads((project.root / name).read_text())


def ok(project: Project, *args: str, env: dict[str, str] | None = None, code: int = 0) -> str:
    result = project.run(*args, env=env)
    assert result.exit_code == code, result.output
    return result.output


def test_v3_pages_converge_on_the_embedded_emulator(v3: Project):
    assert "2 page(s) valid" in ok(v3, "validate", *LOCAL)
    first = ok(v3, "plan", "--detailed-exitcode", *LOCAL, code=2)
    assert first.splitlines()[0] == ("Target: local local emulator (emulator:.provisioner/emulator.db), not Nylas; "
                                     "API nylas-v3")
    assert "Plan: 2 to create" in first
    ok(v3, "apply", "--auto-approve", *LOCAL)
    assert "No changes" in ok(v3, "plan", "--detailed-exitcode", *LOCAL)

    state = lock(v3)
    assert state["version"] == 2 and state["api_url"] == "nylas-v3:emulator:.provisioner/emulator.db"
    demo = state["pages"]["sales/demo"]
    assert demo["grant"] == GRANT and isinstance(demo["id"], str) and "edit_token" not in demo
    assert set(demo) == {"id", "grant", "slug", "name", "config", "prevent_destroy"}
    shown = json.loads(ok(v3, "state", "show", "sales/demo", *LOCAL))
    assert shown["grant"] == GRANT and "edit_token" not in shown

    # An edit of one nested field: the plan names it, apply sends its top-level object whole.
    page = v3.root / "pages/sales/demo.yaml"
    page.write_text(page.read_text().replace("duration_minutes: 30", "duration_minutes: 45"))
    planned = ok(v3, "plan", "--format", "json", *LOCAL)
    (change,) = [p for p in json.loads(planned)["pages"] if p["action"] != "noop"]
    assert [(c["path"], c["before"], c["after"]) for c in change["changes"]] == [
        ("config.availability.duration_minutes", 30, 45)]
    ok(v3, "apply", "--auto-approve", *LOCAL)
    assert "No changes" in ok(v3, "plan", "--detailed-exitcode", *LOCAL)

    # A nested object left out of the YAML: the whole availability object is sent without it, so the
    # server's default buffer comes back (a partial object would have kept the old buffer).
    page.write_text(page.read_text().replace("      buffer: {before: 5, after: 10}\n", ""))
    ok(v3, "apply", "--auto-approve", *LOCAL)
    assert "No changes" in ok(v3, "plan", "--detailed-exitcode", *LOCAL)
    rules = lock(v3)["pages"]["sales/demo"]["config"]["availability"]["availability_rules"]
    assert rules["buffer"] == {"before": 0, "after": 0}
    # The ignored appearance and the untouched top-level objects are still there.
    assert lock(v3)["pages"]["sales/demo"]["config"]["appearance"]["color"] == "#0b5fff"


def test_top_level_fields_removed_from_a_page_file_go_back_to_the_server_defaults(v3: Project):
    """Each removed top-level field is reset as the spec allows (``scheduler`` sent whole with only its
    defaults, ``requires_session_auth`` as null; ``name`` left to the server, as on v2), and every
    exchange conforms to the spec (the contract harness judges them)."""
    page = v3.root / "pages/sales/demo.yaml"
    page.write_text(page.read_text().replace("config:\n", "config:\n  requires_session_auth: true\n", 1))
    ok(v3, "apply", "--auto-approve", *LOCAL)
    live = lock(v3)["pages"]["sales/demo"]["config"]
    assert live["requires_session_auth"] is True and "additional_fields" in live["scheduler"]

    text = page.read_text().replace("  requires_session_auth: true\n", "").replace("name: Product demo\n", "")
    page.write_text(text[:text.index("  scheduler:\n")] + text[text.index("  appearance:\n"):])
    defaults = v3.root / "pages/sales/_defaults.yaml"  # its scheduler is merged under each page: gone too
    text = defaults.read_text()
    defaults.write_text(text[:text.index("  scheduler:\n")])
    planned = json.loads(ok(v3, "plan", "--format", "json", *LOCAL))
    paths = {p["address"]: {c["path"] for c in p["changes"]} for p in planned["pages"]}
    assert paths == {
        "sales/demo": {"config.requires_session_auth", "config.scheduler.additional_fields",
                       "config.scheduler.available_days_in_future", "config.scheduler.min_booking_notice"},
        "sales/round-robin": {"config.scheduler.available_days_in_future", "config.scheduler.min_booking_notice"},
    }
    ok(v3, "apply", "--auto-approve", *LOCAL)
    assert "No changes" in ok(v3, "plan", "--detailed-exitcode", *LOCAL)
    server_defaults = {"available_days_in_future": 30, "min_booking_notice": 60, "min_cancellation_notice": 0,
                       "hide_rescheduling_options": False, "hide_cancellation_options": False,
                       "hide_additional_guests": False}
    pages = lock(v3)["pages"]
    assert pages["sales/demo"]["config"]["scheduler"] == server_defaults
    assert pages["sales/round-robin"]["config"]["scheduler"] == server_defaults
    assert pages["sales/demo"]["config"]["requires_session_auth"] is False
    assert pages["sales/demo"]["name"] == "Product demo"  # left to the server: never unset


def test_a_saved_v3_plan_applies_exactly_and_a_stale_one_is_refused(v3: Project, tmp_path: Path):
    ok(v3, "apply", "--auto-approve", *LOCAL)
    page = v3.root / "pages/sales/round-robin.yaml"
    page.write_text(page.read_text().replace("duration_minutes: 20", "duration_minutes: 25"))
    saved = tmp_path.parent / f"{tmp_path.name}-v3.plan"
    ok(v3, "plan", "--out", str(saved), *LOCAL)
    page.write_text(page.read_text().replace("duration_minutes: 25", "duration_minutes: 40"))
    stale = v3.run("apply", str(saved), "--auto-approve", *LOCAL)
    assert stale.exit_code == 1 and "Traceback" not in stale.output
    page.write_text(page.read_text().replace("duration_minutes: 40", "duration_minutes: 25"))
    assert "sales/round-robin: updated" in ok(v3, "apply", str(saved), "--auto-approve", *LOCAL)
    assert "No changes" in ok(v3, "plan", "--detailed-exitcode", *LOCAL)


def test_moves_deletes_and_thresholds_work_on_v3(v3: Project):
    ok(v3, "apply", "--auto-approve", *LOCAL)
    ident = lock(v3)["pages"]["sales/demo"]["id"]
    (v3.root / "pages/sales/demo.yaml").rename(v3.root / "pages/sales/product-demo.yaml")
    moved = ok(v3, "apply", "--auto-approve", *LOCAL)
    assert "sales/product-demo: moved" in moved
    assert lock(v3)["pages"]["sales/product-demo"]["id"] == ident
    ok(v3, "state", "mv", "sales/product-demo", "sales/demo", *LOCAL)
    (v3.root / "pages/sales/product-demo.yaml").rename(v3.root / "pages/sales/demo.yaml")
    assert "No changes" in ok(v3, "plan", "--detailed-exitcode", *LOCAL)

    for name in ("demo", "round-robin"):
        (v3.root / f"pages/sales/{name}.yaml").unlink()
    refused = v3.run("apply", "--auto-approve", "--max-deletes", "1", *LOCAL)
    assert refused.exit_code == 1 and "--max-deletes 1" in refused.output
    assert set(lock(v3)["pages"]) == {"sales/demo", "sales/round-robin"}
    ok(v3, "apply", "--auto-approve", *LOCAL)
    assert lock(v3)["pages"] == {}
    assert "No changes" in ok(v3, "plan", "--detailed-exitcode", *LOCAL)


def test_a_configuration_never_moves_between_grants_silently(v3: Project):
    ok(v3, "apply", "--auto-approve", *LOCAL)
    page = v3.root / "pages/sales/demo.yaml"
    page.write_text("grant: grant-other\n" + page.read_text())
    refused = v3.run("plan", *LOCAL)
    assert refused.exit_code == 1 and "cannot move between grants" in refused.output
    assert "pages/sales/demo.yaml" in refused.output and "Traceback" not in refused.output


def test_prevent_destroy_guards_a_v3_configuration(v3: Project):
    page = v3.root / "pages/sales/round-robin.yaml"
    page.write_text(page.read_text().replace("config:\n", "lifecycle:\n  prevent_destroy: true\nconfig:\n", 1))
    ok(v3, "apply", "--auto-approve", *LOCAL)
    page.unlink()
    blocked = v3.run("apply", "--auto-approve", *LOCAL)
    assert blocked.exit_code == 1 and "prevent_destroy" in blocked.output
    assert "sales/round-robin" in lock(v3)["pages"]


def test_import_pull_and_adopting_a_grant_on_v3(v3: Project, tmp_path: Path):
    ok(v3, "apply", "--auto-approve", *LOCAL)
    ident = lock(v3)["pages"]["sales/demo"]["id"]
    ok(v3, "state", "rm", "sales/demo", *LOCAL)
    wrong = v3.run("import", "sales/demo", "--page-id", "7", *LOCAL)
    assert wrong.exit_code == 1 and "--configuration-id" in wrong.output
    imported = ok(v3, "import", "sales/demo", "--configuration-id", ident, "--grant", GRANT, *LOCAL)
    assert f"Imported page {ident} (sales-demo) as sales/demo" in imported
    assert lock(v3)["pages"]["sales/demo"]["grant"] == GRANT
    assert "No changes" in ok(v3, "plan", "--detailed-exitcode", *LOCAL)

    # pull: the live configuration as a page file that plans to no changes.
    ok(v3, "pull", "sales/demo", "--force", *LOCAL)
    pulled = (v3.root / "pages/sales/demo.yaml").read_text()
    assert f"grant: {GRANT}" in pulled and "duration_minutes: 30" in pulled
    assert "No changes" in ok(v3, "plan", "--detailed-exitcode", *LOCAL)

    # Adopting every configuration of a grant, into a project that manages none yet.
    for name in ("pages.local.lock",):
        (v3.root / name).unlink()
    shutil.rmtree(v3.root / "pages")
    (v3.root / "pages").mkdir()
    adopted = ok(v3, "import", "team", "--grant", GRANT, *LOCAL)
    assert "2 page(s) adopted, 0 skipped" in adopted
    assert sorted(p.name for p in (v3.root / "pages/team").iterdir()) == ["sales-demo.yaml", "sales-intro.yaml"]
    assert "No changes" in ok(v3, "plan", "--detailed-exitcode", *LOCAL)


def test_v3_page_files_are_validated_offline_with_file_line_field_and_hint(v3: Project):
    page = v3.root / "pages/sales/demo.yaml"
    text = page.read_text()
    text = text.replace("days: [1, 2, 3, 4, 5]", "days: [1, 7]").replace('end: "17:00"', 'end: "5pm"')
    text = text.replace("  event_booking:\n", "  event_booking:\n    colour: blue\n", 1)
    page.write_text(text)
    result = v3.run("validate", *LOCAL)
    assert result.exit_code == 1 and "Traceback" not in result.output
    out = result.output
    assert "pages/sales/demo.yaml:" in out
    assert "config.availability.availability_rules.default_open_hours[0].days[1]" in out
    assert "config.availability.availability_rules.default_open_hours[0].end" in out
    assert "config.event_booking.colour" in out and "unknown field" in out

    page.write_text((EXAMPLE / "pages/sales/demo.yaml").read_text().replace("config:\n", "config:\n  slug: other\n"))
    moved = v3.run("validate", *LOCAL).output
    assert "write slug at the top of the page file" in moved

    (v3.root / "pages/solo.yaml").write_text("slug: x\nconfig: {}\n")  # no _defaults.yaml above it
    missing = v3.run("validate", *LOCAL).output
    assert "pages/solo.yaml:1:1: grant: is required" in missing


def test_the_v3_schema_describes_a_v3_page_file(v3: Project):
    schema = json.loads(ok(v3, "schema", "--api", "nylas-v3"))
    assert {"slug", "name", "grant", "targets", "lifecycle", "config"} == set(schema["properties"])
    assert "access_tokens" in json.loads(ok(v3, "schema"))["properties"]


@pytest.fixture
def served_v3(v3: Project, tmp_path: Path) -> Iterator[tuple[str, Emulator]]:
    """The emulator served over loopback HTTP, requiring one API key for v3; the example's production
    target pointed at it, with its state in a lockfile."""
    emulator = Emulator(tmp_path / "served.db", FaultConfig(), v3_api_key=KEY)
    with serve_in_thread(emulator) as url:
        v3.write("provisioner.yaml", "api: nylas-v3\ntargets:\n  staging:\n"
                                     f"    api_url: {url}\n    api_key_env: STAGING_NYLAS_KEY\n")
        yield url, emulator
    emulator.close()


def test_v3_on_a_served_emulator_reads_the_key_from_the_environment_and_reverts_drift(
    v3: Project, served_v3: tuple[str, Emulator]
):
    url, _ = served_v3
    env = {"PROVISIONER_LOCK_KEY": keygen()}
    missing = v3.run("plan", env=env)
    assert missing.exit_code == 1 and "STAGING_NYLAS_KEY" in missing.output and "Traceback" not in missing.output

    env["STAGING_NYLAS_KEY"] = KEY
    applied = ok(v3, "apply", "--auto-approve", env=env)
    assert applied.splitlines()[0] == f"Target: staging {url}; API nylas-v3"
    state_text = (v3.root / "pages.staging.lock").read_text()
    assert KEY not in state_text and KEY not in applied
    wrong = v3.run("plan", env={**env, "STAGING_NYLAS_KEY": "not-the-key"})
    assert wrong.exit_code == 1 and "401" in wrong.output and "not-the-key" not in wrong.output, wrong.output

    # An end user edits the configuration with the API key: drift, and the plan reverts it.
    record = json.loads(state_text)["pages"]["sales/round-robin"]
    path = f"{url}/v3/grants/{record['grant']}/scheduling/configurations/{record['id']}"
    headers = {"Authorization": f"Bearer {KEY}"}
    live = httpx.get(path, headers=headers).json()["data"]
    live["availability"]["duration_minutes"] = 50
    answer = httpx.put(path, headers=headers, json={"availability": live["availability"]})
    assert answer.status_code == 200, answer.text
    drifted = v3.run("drift", "--format", "json", env=env)
    assert drifted.exit_code == 2, drifted.output
    (page,) = [p for p in json.loads(drifted.output)["pages"] if p["address"] == "sales/round-robin"]
    assert [(d["path"], d["last_applied"], d["live"]) for d in page["drift"]] == [
        ("config.availability.duration_minutes", 20, 50)]
    assert "sales/round-robin: updated" in ok(v3, "apply", "--auto-approve", env=env)
    assert httpx.get(path, headers=headers).json()["data"]["availability"]["duration_minutes"] == 20
    assert "No changes" in ok(v3, "plan", "--detailed-exitcode", env=env)
