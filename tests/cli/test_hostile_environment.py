"""Hostile or damaged surroundings: an API URL with a bad port, a closed stdout, a date at the end of
time, a damaged `.provisioner/`, file names that are not UTF-8. Each is a clean error naming the
culprit (and the fix), never a traceback; nothing is changed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import Project

RUN_CLI = [sys.executable, "-c", "from provisioner.cli import main; main()"]


@pytest.mark.parametrize("url", ["http://127.0.0.1:99999", "http://127.0.0.1:65536/v2", "http://127.0.0.1:0",
                                 "http://127.0.0.1:abc", "http://[::1"])
@pytest.mark.parametrize("command", ["validate", "plan", "drift"])
def test_an_api_url_with_a_bad_port_is_refused(project: Project, url: str, command: str):
    result = project.runner.invoke(__import__("provisioner.cli").cli.main, [command, "--api-url", url])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "API URL" in result.output and "port" in result.output.lower(), result.output


def _environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("PROVISIONER_")}


def test_a_closed_stdout_is_an_error_not_a_traceback(project: Project):
    """`provisioner validate >&-`: the output cannot be written, which is said once on stderr."""
    result = subprocess.run(["sh", "-c", 'exec "$@" >&-', "sh", *RUN_CLI, "validate"], cwd=project.root,
                            env=_environment(), stderr=subprocess.PIPE, text=True, timeout=120)
    assert result.returncode == 1
    assert result.stderr == "Error: standard output is closed\n"


def test_a_reader_that_went_away_ends_the_run_quietly(project: Project):
    """`provisioner plan | head -0`: the pipe is closed before anything is written (deterministic)."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        result = subprocess.run([*RUN_CLI, "plan"], cwd=project.root, env=_environment(), stdout=write_end,
                                stderr=subprocess.PIPE, text=True, timeout=120)
    finally:
        os.close(write_end)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and "Exception ignored" not in result.stderr, result.stderr


@pytest.mark.parametrize("start", ["9999-12-31", "0001-01-01"])
def test_preview_refuses_a_date_at_the_end_of_time(project: Project, start: str):
    result = project.runner.invoke(__import__("provisioner.cli").cli.main,
                                   ["preview", "sales/demo", "--from", start])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert f"Invalid value for '--from': {start} is outside" in result.output


def test_preview_still_reaches_far_but_sane_dates(project: Project):
    result = project.run("preview", "sales/demo", "--from", "9998-01-01", "--days", "366")
    assert result.exit_code == 0, result.output


def _state_dir(project: Project) -> Path:
    assert project.run("plan").exit_code == 0  # makes .provisioner/ as a first run does
    return project.root / ".provisioner"


def test_an_emulator_database_that_is_not_a_database_is_named(project: Project):
    db = _state_dir(project) / "emulator.db"
    for side in ("-wal", "-shm"):
        Path(f"{db}{side}").unlink(missing_ok=True)
    db.write_bytes(b"this is not SQLite at all\n" * 200)
    result = project.run("plan")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert ".provisioner/emulator.db: not a usable emulator database" in result.output
    assert "move it aside" in result.output
    assert db.read_bytes().startswith(b"this is not SQLite")  # left as it was


@pytest.mark.parametrize(("content", "reason"), [
    (b"garbage\n", "not a valid key"),
    (b"", "not a valid key"),
    (b"\xff\xfe\x00key", "cannot read the local key (not a text file)"),
    (None, "cannot read the local key (Is a directory)"),
])
def test_a_damaged_local_key_is_named_with_the_fix(project: Project, content: bytes | None, reason: str):
    key = _state_dir(project) / "lock.key"
    key.unlink()
    if content is None:
        key.mkdir()
    else:
        key.write_bytes(content)
    for command in (["plan"], ["state", "list"], ["apply", "--auto-approve"]):
        result = project.run(*command)
        assert result.exit_code == 1 and "Traceback" not in result.output, result.output
        assert f".provisioner/lock.key: {reason}" in result.output
        assert "PROVISIONER_LOCK_KEY" in result.output and "delete .provisioner/lock.key" in result.output
    assert not (project.root / "pages.lock").exists()


def test_a_file_name_that_is_not_utf8_is_named(project: Project):
    pages = os.fsencode(project.root / "pages")
    with open(os.path.join(pages, b"sales", b"d\xffmo.yaml"), "wb") as fh:
        fh.write((project.root / "pages/sales/demo.yaml").read_bytes().replace(b"acme-sales-demo", b"other"))
    os.mkdir(os.path.join(pages, b"x\xfe"))
    with open(os.path.join(pages, b"x\xfe", b"_defaults.yaml"), "wb") as fh:
        fh.write(b"config: {}\n")
    for command in ("validate", "plan"):
        result = project.run(command)
        assert result.exit_code == 1 and "Traceback" not in result.output
        assert "pages/sales/d\\xffmo.yaml: the file name is not valid UTF-8" in result.output
        assert "pages/x\\xfe: the file name is not valid UTF-8" in result.output  # the folder, named once
    assert not (project.root / "pages.lock").exists()
