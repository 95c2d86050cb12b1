"""CI-sized chaos: `provisioner apply` killed with SIGKILL at seeded random moments (with and without
injected 5xx, 429 and dropped connections), rerun until it succeeds; no orphan, no duplicate, converged.
On both state backends: the lockfile and PostgreSQL.

The harness is `tests.system.chaos` (run it by hand with larger numbers: ``--runs 200``).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from provisioner.emulator import Emulator, FaultConfig
from provisioner.emulator.serve import serve_in_thread
from tests.bench.common import generate

from .chaos import BACKENDS, ChaosFailure, ChaosProject, check, run_once


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> tuple[str, str | None]:
    """(backend, DSN): PostgreSQL skips without a server (fails in CI), like every pg_ test."""
    if request.param == "postgres":
        return "postgres", request.getfixturevalue("pg_dsn")
    return "lockfile", None


@pytest.mark.parametrize(("seed", "faults"), [(101, "none"), (202, "all")])
def test_killed_applies_converge_without_orphans_or_duplicates(tmp_path: Path, seed: int, faults: str, backend):
    name, dsn = backend
    report = run_once(seed, faults, pages=4, kills=1, workdir=tmp_path, backend=name, pg_dsn=dsn)
    assert report.kills >= 1  # the seeds are chosen so that kills really happen mid-apply
    if faults == "all":
        assert sum(report.faults_injected.values()) > 0


def test_the_checker_catches_an_orphan_page(tmp_path: Path, backend):
    """The invariant check is not vacuous: a live page the state does not know fails it."""
    name, dsn = backend
    db = tmp_path / "emulator.db"
    emulator = Emulator(db, FaultConfig())
    project = None
    try:
        with serve_in_thread(emulator) as url:
            root = tmp_path / "project"
            root.mkdir()
            project = ChaosProject(root, url, db, name, dsn)
            generate(root / "pages", 2)
            code, err = project.apply(kill_after=None)
            assert code == 0, err
            check(project, "converged")  # holds
            page_id, slug = sorted(project.recorded().items())[0]
            address = f"group-000/page-{slug.rsplit('-', 1)[1]}"
            code, output = project.cli("state", "rm", address)  # forget one page: now it is an orphan
            assert code == 0, output
            with pytest.raises(ChaosFailure, match="orphans"):
                check(project, "tampered")
            conn = sqlite3.connect(db)
            conn.execute("DELETE FROM pages WHERE id = ?", (page_id,))
            conn.commit()
            conn.close()
            with pytest.raises(ChaosFailure, match="live slugs != desired"):
                check(project, "missing")
    finally:
        emulator.close()
        if project is not None:
            project.drop_state()
