"""CI-sized chaos: `provisioner apply` killed with SIGKILL at seeded random moments (with and without
injected 5xx, 429 and dropped connections), rerun until it succeeds; no orphan, no duplicate, converged.

The harness is `tests.system.chaos` (run it by hand with larger numbers: ``--runs 200``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .chaos import ChaosFailure, _Project, check, run_once


@pytest.mark.parametrize(("seed", "faults"), [(101, "none"), (202, "all")])
def test_killed_applies_converge_without_orphans_or_duplicates(tmp_path: Path, seed: int, faults: str):
    report = run_once(seed, faults, pages=4, kills=1, workdir=tmp_path)
    assert report.kills >= 1  # the seeds are chosen so that kills really happen mid-apply
    if faults == "all":
        assert sum(report.faults_injected.values()) > 0


def test_the_checker_catches_an_orphan_page(tmp_path: Path):
    """The invariant check is not vacuous: a live page the lockfile does not know fails it."""
    import sqlite3

    from provisioner.emulator import Emulator, FaultConfig
    from provisioner.emulator.serve import serve_in_thread

    db = tmp_path / "emulator.db"
    emulator = Emulator(db, FaultConfig())
    try:
        with serve_in_thread(emulator) as url:
            root = tmp_path / "project"
            root.mkdir()
            project = _Project(root, url, db)
            from provisioner.bench import generate

            generate(root / "pages", 2)
            code, err = project.apply(kill_after=None)
            assert code == 0, err
            check(project, "converged")  # holds
            lock = json.loads((root / "pages.lock").read_text())
            address, page = sorted(lock["pages"].items())[0]
            del lock["pages"][address]  # forget one page: now it is an orphan
            (root / "pages.lock").write_text(json.dumps(lock))
            with pytest.raises(ChaosFailure, match="orphans"):
                check(project, "tampered")
            conn = sqlite3.connect(db)
            conn.execute("DELETE FROM pages WHERE id = ?", (page["id"],))
            conn.commit()
            conn.close()
            with pytest.raises(ChaosFailure, match="live slugs != desired"):
                check(project, "missing")
    finally:
        emulator.close()
