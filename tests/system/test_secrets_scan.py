"""No access token and no edit token appears in the clear in anything provisioner writes or prints.

One full scenario against an emulator served on loopback (its logs captured at info level): apply,
plan in every format and saved with --out, an end-user edit and drift in every format, state list and
show, errors with --debug (a slug taken on the server, a stale saved plan, a wrong sealing key), an apply
killed mid-way (its journal kept), and a final apply. Every output, every file in the project folder
(plan file, lockfile, journal) and every log record is collected, then searched for the access tokens
(distinctive values from the environment) and the edit tokens (read from the emulator's database).
"""

from __future__ import annotations

import logging
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from provisioner.cli import main
from provisioner.emulator import Emulator, FaultConfig
from provisioner.emulator.serve import serve_in_thread
from provisioner.secrets import keygen
from tests.bench.common import generate

from .chaos import _Project


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.texts: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.texts.append(self.format(record) + repr(record.args))


@pytest.fixture
def logs() -> Iterator[Collect]:
    handler = Collect()
    names = ["", "uvicorn", "uvicorn.error", "uvicorn.access", "httpx", "httpcore", "provisioner"]
    loggers = [logging.getLogger(n) for n in names]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.addHandler(handler)
        lg.setLevel(logging.DEBUG)
    yield handler
    for lg, level in zip(loggers, levels, strict=True):
        lg.removeHandler(handler)
        lg.setLevel(level)


def test_no_token_in_any_output_file_or_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, logs: Collect):
    db = tmp_path / "emulator.db"
    emulator = Emulator(db, FaultConfig(latency_ms=5))
    root = tmp_path / "project"
    root.mkdir()
    monkeypatch.chdir(root)
    outputs: list[str] = []
    files: dict[str, bytes] = {}
    try:
        with serve_in_thread(emulator, log_level="info") as url:
            project = _Project(root, url, db)
            access = {k: f"nylSECRET-{k.lower()}-{uuid.uuid4().hex}" for k in project.delta if k.startswith("BENCH")}
            project.delta.update(access)
            project.env.update(access)
            env = project.delta
            for var in env:
                monkeypatch.delenv(var, raising=False)
            generate(root / "pages", 3)
            runner = CliRunner()

            def cli(*args: str, code: int | None = 0, extra: dict[str, str] | None = None) -> str:
                result = runner.invoke(main, list(args), env={**env, **(extra or {})})
                text = result.output + result.stderr + repr(result.exception)
                if code is not None:
                    assert result.exit_code == code, f"{args}: {result.exit_code}\n{text}"
                outputs.append(text)
                return text

            cli("apply", "--auto-approve")
            for fmt in ("text", "json", "markdown"):
                cli("plan", "--format", fmt)
            cli("plan", "--refresh", "list", "--debug")  # every account listed with its access token
            cli("plan", "--out", "plan.json")
            files["plan.json"] = (root / "plan.json").read_bytes()
            cli("validate")
            cli("state", "list")
            cli("state", "show", "group-000/page-00001")

            # An end-user edit in the Schedule Editor: drift, in every format.
            conn = sqlite3.connect(db)
            page_id, edit_token = conn.execute("SELECT id, edit_token FROM pages ORDER BY id").fetchone()
            conn.close()
            auth = {"Authorization": f"Bearer {edit_token}"}
            page = httpx.get(f"{url}/manage/pages/{page_id}", headers=auth).json()
            page["config"]["event"]["duration"] = 55
            assert httpx.put(f"{url}/manage/pages/{page_id}", headers=auth,
                             json={"config": page["config"]}).status_code == 200
            for fmt in ("text", "json", "markdown"):
                cli("drift", "--format", fmt, code=2)

            # Errors, with stack traces: a stale saved plan, a wrong key, a slug taken on the server.
            cli("apply", "plan.json", "--debug", code=1)
            cli("plan", "--debug", code=1, extra={"PROVISIONER_LOCK_KEY": keygen()})
            other = access["BENCH_TOKEN_5"]  # a page made outside provisioner holds the slug
            made = httpx.post(f"{url}/manage/pages", headers={"Authorization": f"Bearer {other}"},
                              json={"access_tokens": [other], "slug": "bench-taken-slug", "config": {}})
            assert made.status_code == 201, made.text
            clash = (root / "pages" / "group-000" / "page-00001.yaml").read_text()
            (root / "pages" / "clash.yaml").write_text(clash.replace("bench-page-00001", "bench-taken-slug"))
            cli("apply", "--auto-approve", "--debug", code=1)
            (root / "pages" / "clash.yaml").unlink()

            # An apply killed mid-way leaves its journal: scan it, then finish.
            for f in (root / "pages").rglob("page-*.yaml"):
                f.write_text(f.read_text().replace(" v0\n", " v1\n"))
            code, err = project.apply(kill_after=1)
            outputs.append(err)
            journal = root / "pages.lock.journal"
            if code is None and journal.exists():
                files["journal (killed apply)"] = journal.read_bytes()
            code, err = project.apply(kill_after=None)
            outputs.append(err)
            assert code == 0, err
            cli("plan", "--detailed-exitcode")
        for path in root.rglob("*"):
            if path.is_file():
                files[str(path.relative_to(root))] = path.read_bytes()
    finally:
        emulator.close()

    conn = sqlite3.connect(db)
    edit_tokens = [row[0] for row in conn.execute("SELECT edit_token FROM pages")]
    conn.close()
    secrets = list(access.values()) + edit_tokens
    assert len(edit_tokens) == 4 and all(len(s) >= 16 for s in secrets)
    assert "pages.lock" in files and "plan.json" in files and logs.texts  # the scan is not vacuous
    assert any("/manage/pages" in t for t in logs.texts), "the emulator's access log was not captured"
    assert any("already" in o.lower() or "taken" in o.lower() for o in outputs), "the slug clash was not shown"
    haystacks = {f"output {i}": text for i, text in enumerate(outputs)}
    haystacks.update({name: data.decode("utf-8", "replace") for name, data in files.items()})
    haystacks.update({f"log {i}": text for i, text in enumerate(logs.texts)})
    leaks = [(where, secret[:14] + "…") for where, text in haystacks.items() for secret in secrets if secret in text]
    assert not leaks, f"tokens in the clear: {leaks}"
