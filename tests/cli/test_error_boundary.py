"""One error boundary for every command: a user's or the environment's mistake is a message and exit 1,
never a traceback; `--debug` adds the trace; a bug is named by type and place, never by its message."""

from __future__ import annotations

import socket

import click
import pytest
from click.testing import CliRunner, Result

from provisioner import settings, validation
from provisioner.cli import main

from .conftest import Project
from .test_usage_errors import COMMANDS, _ids, _required_arguments

TAKES_SETTINGS = [(path, c) for path, c in COMMANDS if any(p.name == "pages_dir" for p in c.params)]


def _run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def test_every_command_but_three_reads_the_project_settings():
    assert {" ".join(path) for path, _ in COMMANDS} - set(_ids(TAKES_SETTINGS)) == {
        "keygen", "schema", "emulator serve"}


@pytest.mark.parametrize(("path", "command"), TAKES_SETTINGS, ids=_ids(TAKES_SETTINGS))
def test_a_broken_project_file_is_a_message_for_every_command(project: Project, path: tuple[str, ...],
                                                              command: click.Command):
    project.write("provisioner.yaml", "targets: [unclosed\n")
    result = _run(*path, *_required_arguments(command))
    assert result.exit_code == 1, result.output
    assert "provisioner.yaml" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize(("path", "command"), TAKES_SETTINGS, ids=_ids(TAKES_SETTINGS))
def test_debug_shows_the_trace_for_every_command(project: Project, path: tuple[str, ...], command: click.Command):
    project.write("provisioner.yaml", "targets: [unclosed\n")
    result = _run(*path, *_required_arguments(command), "--debug")
    assert result.exit_code == 1 and "Traceback" in result.output and "provisioner.yaml" in result.output


@pytest.mark.parametrize(("path", "command"), TAKES_SETTINGS, ids=_ids(TAKES_SETTINGS))
def test_an_environment_error_is_a_message_for_every_command(monkeypatch: pytest.MonkeyPatch,
                                                             path: tuple[str, ...], command: click.Command):
    def unreadable(**kwargs: object) -> None:
        raise PermissionError(13, "Permission denied", "pages")

    monkeypatch.setattr(settings, "settings_for", unreadable)
    result = _run(*path, *_required_arguments(command))
    assert result.exit_code == 1, result.output
    assert result.output == "Error: pages: Permission denied\n"


def test_debug_before_the_command_works_too(project: Project):
    project.write("provisioner.yaml", "targets: [unclosed\n")
    assert "Traceback" in _run("--debug", "validate").output


def test_the_emulator_refuses_a_damaged_database_cleanly(project: Project):
    project.write("junk.db", "this is not SQLite\n" * 100)
    result = _run("emulator", "serve", "--db", "junk.db", "--port", "1")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "junk.db: not a usable emulator database" in result.output


def test_the_emulator_on_a_port_in_use_exits_1_with_the_reason(project: Project):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = _run("emulator", "serve", "--port", str(port), "--db", "served.db")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert f"the emulator could not start on 127.0.0.1:{port}" in result.output


def test_the_emulator_refuses_a_port_out_of_range():
    result = _run("emulator", "serve", "--port", "70000")
    assert result.exit_code == 1 and "70000 is not in the range" in result.output


def test_a_bug_is_named_by_type_and_place_without_its_message(project: Project, monkeypatch: pytest.MonkeyPatch):
    """A foreign library's message may quote a token, so an unexpected exception's text is not shown."""

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("Authorization: Bearer tok-should-never-print")

    monkeypatch.setattr(validation, "validate", broken)
    result = _run("validate")
    assert result.exit_code == 1
    assert "unexpected RuntimeError at test_error_boundary.py:" in result.output and "--debug" in result.output
    assert "tok-should-never-print" not in result.output and "Traceback" not in result.output
    assert "Traceback" in _run("validate", "--debug").output


def test_an_os_error_is_a_message_naming_the_file(project: Project, monkeypatch: pytest.MonkeyPatch):
    def full(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device", "pages.lock.tmp")

    monkeypatch.setattr(validation, "validate", full)
    result = _run("validate")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "Error: pages.lock.tmp: No space left on device" in result.output


def test_interrupting_exits_130(project: Project, monkeypatch: pytest.MonkeyPatch):
    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(validation, "validate", interrupted)
    result = _run("validate")
    assert result.exit_code == 130 and "Interrupted" in result.output and "Traceback" not in result.output
