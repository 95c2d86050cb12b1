"""The CLI on a tree large enough to be loaded on several cores (`provisioner.cores`), as a user runs it:
a fresh process, one thread. The same answers as on one core (`tests/unit/test_cores.py` compares them)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PAGES = 240  # above the 200 files from which loading is spread over the cores


def _tree(root: Path) -> None:
    for i in range(PAGES):
        page = root / "pages" / f"team-{i // 60}" / f"page-{i:03d}.yaml"
        page.parent.mkdir(parents=True, exist_ok=True)
        page.write_text(f"slug: page-{i}\naccess_tokens: ['${{TOKEN_A}}']\nconfig:\n  event:\n    duration: 30\n")


def _cli(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROVISIONER_")}
    env["TOKEN_A"] = "token-a-1234567890"
    return subprocess.run([sys.executable, "-c", "from provisioner.cli import main; main()", *args], cwd=root,
                          env=env, capture_output=True, text=True, timeout=120)


def test_validate_a_large_tree_and_name_a_problem_in_the_last_share(tmp_path: Path):
    _tree(tmp_path)
    done = _cli(tmp_path, "validate")
    assert (done.returncode, done.stdout.strip()) == (0, f"{PAGES} page(s) valid in pages/.")
    broken = tmp_path / "pages" / "team-3" / "page-230.yaml"
    broken.write_text(broken.read_text().replace("duration: 30", "duration: thirty"))
    (tmp_path / "pages" / "team-0" / "page-001.yaml").write_text("slug: page-229\naccess_tokens: ['${TOKEN_A}']\n")
    done = _cli(tmp_path, "validate")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "pages/team-3/page-230.yaml:5" in done.stderr and "config.event.duration" in done.stderr
    assert "slug 'page-229' is also used by pages/team-3/page-229.yaml" in done.stderr  # across the shares
    assert "token-a-1234567890" not in done.stderr + done.stdout
