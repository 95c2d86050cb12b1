"""Mistakes of the user's environment (not of the pages): a state folder where the journal cannot be
made, a terminal whose encoding cannot show a page's name, an API URL or a DSN variable that cannot
work, a device given as a plan file. Each is a clear error naming the cause, never a traceback or a
"bug in provisioner", never a secret, and nothing is sent that the state cannot record."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from provisioner.cli import main
from provisioner.secrets import keygen

from .conftest import Project


def _live_name(project: Project, slug: str) -> str:
    conn = sqlite3.connect(project.root / ".provisioner" / "emulator.db")
    try:
        return conn.execute("SELECT name FROM pages WHERE slug = ?", (slug,)).fetchone()[0]
    finally:
        conn.close()


def test_an_apply_whose_journal_cannot_be_made_sends_nothing(project: Project):
    """A read-only folder or no file descriptor left (`ulimit -n` under a high --parallelism): the
    journal that records each step cannot be created. That is found before the first write, not
    after it (the live page was updated and the state never heard of it). Here the journal's name is
    taken by a dangling link, which even root cannot create a file through."""
    assert project.run("apply", "--auto-approve").exit_code == 0
    (project.root / "pages.lock.journal").symlink_to(project.root / "gone" / "journal")
    before = (project.root / "pages.lock").read_bytes()
    demo = project.root / "pages" / "sales" / "demo.yaml"
    demo.write_text(demo.read_text().replace("name: Product demo", "name: Product demo renamed"))

    result = project.run("apply", "--auto-approve")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "pages.lock.journal" in result.output and "nothing was sent" in result.output, result.output
    assert _live_name(project, "acme-sales-demo") == "Product demo"  # the live page is untouched
    assert (project.root / "pages.lock").read_bytes() == before


def test_a_terminal_that_cannot_show_a_name_gets_it_escaped(project: Project):
    """`PYTHONIOENCODING=latin-1` (or an old LANG): a page named with a check mark is shown escaped."""
    project.write("pages/fr/demo.yaml", (project.root / "pages/sales/demo.yaml").read_text()
                  .replace("slug: acme-sales-demo", "slug: fr-demo").replace("name: Product demo", "name: Démo ✓"))
    result = CliRunner(charset="latin-1").invoke(main, ["plan"], catch_exceptions=False)
    assert "bug in provisioner" not in result.output and result.exit_code == 0, result.output
    assert '+ name = "Démo \\u2713"' in result.output


def test_an_api_url_with_a_malformed_international_name_is_refused(project: Project):
    result = project.run("plan", "--api-url", "https://xn--")
    assert result.exit_code == 1 and "bug in provisioner" not in result.output, result.output
    assert "the API URL is not a valid URL" in result.output


PG_TARGET = "targets:\n  prod:\n    api_url: http://127.0.0.1:1\n    state: {postgres_dsn_env: PG_DSN}\n"


def test_a_dsn_variable_that_holds_no_dsn_is_refused_without_showing_it(project: Project):
    """The value is never taken for a lockfile's name: that state would be empty (a plan to create
    every page again), and the error about that file would print the password."""
    project.write("provisioner.yaml", PG_TARGET)
    for value in ("mysql://ops:s3cretpw@127.0.0.1:1/db", "s3cretpw"):
        env = {"PG_DSN": value, "PROVISIONER_LOCK_KEY": keygen(), "PROVISIONER_TARGET_ENV": "prod"}
        for command in (["state", "list"], ["apply", "--auto-approve"]):
            result = project.run(*command, env=env)
            assert result.exit_code == 1 and "s3cretpw" not in result.output, result.output
            assert "PG_DSN does not hold a PostgreSQL DSN" in result.output
    assert sorted(p.name for p in project.root.iterdir()) == ["pages", "provisioner.yaml"]


DEVICE_SCRIPT = """
import json, resource, sys
resource.setrlimit(resource.RLIMIT_AS, (1 << 31, 1 << 31))  # the old code read /dev/zero until it ran out
from click.testing import CliRunner
from provisioner.cli import main
from provisioner.secrets import keygen
out = [CliRunner().invoke(main, args).output for args in (["plan", "--out", "/dev/zero"], ["apply", "/dev/zero"])]
print(json.dumps(out))
"""


def test_a_device_as_plan_file_is_refused_without_reading_it(project: Project):
    """`plan --out /dev/zero` (or /dev/stdout on a pipe) read the device to see whether it held a
    plan: without end, or waiting on its own output."""
    run = subprocess.run([sys.executable, "-c", DEVICE_SCRIPT], cwd=project.root, capture_output=True,
                         text=True, timeout=120)
    saved, applied = json.loads(run.stdout)
    assert "Error: /dev/zero is not a regular file; the plan is saved only to one. Choose another file" in saved
    assert "Error: /dev/zero: not a plan file (a device, not a regular file)" in applied
    assert not Path("/dev/zero").is_file()
