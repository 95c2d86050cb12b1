"""`plan` and `apply` report their progress on stderr: the refresh of every managed page, then each
page applied; on a terminal a line shows up at once, before any page is read."""

from __future__ import annotations

import gc
import os
from pathlib import Path

import pytest

from provisioner import cli, cli_options, workflows
from provisioner.settings import settings_for

from .conftest import Project


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, ...]] = []
        self.frozen = 0  # objects the garbage collector no longer walks, when the refresh began
        self.documents: list[int] = []  # desired documents made when each page was refreshed
        self.made = 0

    def begin(self, total: int) -> None:
        self.events.append(("begin", str(total)))
        self.frozen = gc.get_freeze_count()

    def step(self, address: str, outcome: str) -> None:
        self.events.append(("step", address, outcome))
        self.documents.append(self.made)

    def end(self) -> None:
        self.events.append(("end",))


def test_plan_reports_the_refresh_of_every_managed_page(project: Project, monkeypatch: pytest.MonkeyPatch):
    assert project.run("apply", "--auto-approve").exit_code == 0
    settings = settings_for(pages_dir=Path("pages"), lockfile=None, api_url=None, target_env=None,
                            parallelism=None, env=dict(os.environ))
    recorder = Recorder()
    make = workflows.desired_document

    def counted(*args: object) -> object:
        recorder.made += 1
        return make(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(workflows, "desired_document", counted)
    workflows.plan(settings, progress=recorder)
    assert recorder.events[0] == ("begin", "4") and recorder.events[-1] == ("end",)
    # What was loaded before the refresh is left alone by the garbage collector until the plan is made,
    # then collected as usual again.
    assert recorder.frozen > 10_000 and gc.get_freeze_count() == 0
    # What the plan needs of the page files alone is made while the first reads are in flight.
    assert recorder.documents == [4, 4, 4, 4]
    assert sorted(e[1:] for e in recorder.events if e[0] == "step") == [
        ("customer-success/onboarding", "refreshed"), ("sales/demo", "refreshed"),
        ("sales/discovery", "refreshed"), ("support/office-hours", "refreshed")]


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """stderr (only) behaves as a terminal; stdout stays a pipe, as in `provisioner plan | less`."""
    monkeypatch.setattr(cli_options, "isatty", lambda stream: stream is not None and stream is cli.sys.stderr)


def test_on_a_terminal_plan_shows_a_line_at_once_then_the_refresh(project: Project, terminal: None):
    assert project.run("apply", "--auto-approve").exit_code == 0
    result = project.run("plan")
    assert result.exit_code == 0
    assert result.stderr.startswith("\r\x1b[Kreading pages/ and the state...")
    # The four example pages are in groups too small to list: four reads, and the line says so.
    assert "refresh [########################] 4/4 pages, 4 requests, 0:00 elapsed\n" in result.stderr
    assert "\x1b" not in result.stdout and "No changes." in result.stdout


def test_on_a_terminal_drift_shows_the_refresh_too(project: Project, terminal: None):
    assert project.run("apply", "--auto-approve").exit_code == 0
    result = project.run("drift")
    assert result.exit_code == 0 and "refresh [########################] 4/4 pages" in result.stderr


def test_on_a_terminal_a_failed_plan_leaves_no_stray_progress(project: Project, terminal: None):
    project.write("pages/broken.yaml", "slug: [unclosed\n")
    result = project.run("plan")
    assert result.exit_code == 1
    note, error = result.stderr.split("pages/broken.yaml", 1)
    assert note == "\r\x1b[Kreading pages/ and the state...\r\x1b[K"  # erased before the error
    assert "\x1b" not in error


def test_in_a_log_a_short_plan_writes_no_progress(project: Project):
    assert project.run("apply", "--auto-approve").exit_code == 0
    result = project.run("plan")
    assert result.exit_code == 0 and result.stderr == ""


def test_a_dumb_terminal_gets_no_progress_line(project: Project, terminal: None, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("TERM", "dumb")  # understands no escape code: stderr is written as to a log
    assert project.run("apply", "--auto-approve").exit_code == 0
    result = project.run("plan")
    assert result.exit_code == 0 and result.stderr == ""


@pytest.mark.parametrize(("variables", "colored"), [
    ({}, True), ({"NO_COLOR": ""}, False), ({"NO_COLOR": "1"}, False), ({"TERM": "dumb"}, False)])
def test_colour_on_a_terminal_unless_no_color_is_set_or_the_terminal_is_dumb(
    monkeypatch: pytest.MonkeyPatch, variables: dict[str, str], colored: bool
):
    """The contract (PRODUCT.md §7): colour only on a terminal, never with NO_COLOR set (even empty)."""
    monkeypatch.setattr(cli_options, "isatty", lambda stream: stream is not None)  # stdout is a terminal
    for name in ("TERM", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    assert cli_options.color_wanted() is colored
