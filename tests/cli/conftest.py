"""Fixtures of the CLI tests: a project folder, the CLI run in-process, a served emulator."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from provisioner.cli import main
from provisioner.emulator import Emulator, FaultConfig
from provisioner.emulator.serve import serve_in_thread
from provisioner.secrets import keygen

REPO = Path(__file__).resolve().parents[2]
EXAMPLE_PAGES = REPO / "pages"


@dataclass
class Project:
    root: Path
    runner: CliRunner

    def run(self, *args: str, env: dict[str, str] | None = None, input: str | None = None) -> Result:
        return self.runner.invoke(main, list(args), env=env, input=input, catch_exceptions=False)

    def write(self, relative: str, text: str) -> Path:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return path

    def emulator_pages(self, db: Path | None = None) -> list[tuple[str, int]]:
        """(slug, id) of every page in the emulator's database."""
        conn = sqlite3.connect(db or self.root / ".provisioner" / "emulator.db")
        try:
            return sorted(conn.execute("SELECT slug, id FROM pages").fetchall())
        finally:
            conn.close()


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    """A copy of the example pages/ in a fresh folder, made the working directory."""
    shutil.copytree(EXAMPLE_PAGES, tmp_path / "pages")
    monkeypatch.chdir(tmp_path)
    for var in ("PROVISIONER_API_URL", "PROVISIONER_LOCK_KEY", "NO_COLOR"):
        monkeypatch.delenv(var, raising=False)
    return Project(tmp_path, CliRunner())


V3_EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "v3"


@pytest.fixture
def v3(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    """A copy of the v3 example tree (pages/ and provisioner.yaml), made the working directory."""
    shutil.copytree(V3_EXAMPLE, tmp_path, dirs_exist_ok=True)
    monkeypatch.chdir(tmp_path)
    for var in ("PROVISIONER_API_URL", "PROVISIONER_LOCK_KEY", "NO_COLOR", "NYLAS_API_KEY", "SALES_GRANT"):
        monkeypatch.delenv(var, raising=False)
    return Project(tmp_path, CliRunner())


@dataclass
class Served:
    url: str
    emulator: Emulator
    db: Path
    env: dict[str, str]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    """The emulator as a real HTTP server on loopback, with its own database."""
    db = tmp_path / "served.db"
    emulator = Emulator(db, FaultConfig())
    with serve_in_thread(emulator) as url:
        yield Served(url, emulator, db, {"PROVISIONER_API_URL": url, "PROVISIONER_LOCK_KEY": keygen()})
    emulator.close()
