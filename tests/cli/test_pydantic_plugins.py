"""No pydantic plugin installed beside provisioner sees what it validates: a plugin is handed every input,
resolved access tokens included (an observability plugin would ship them to its backend)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

TOKEN = "canary-token-5f1e9a"
SPY = '''
import os

class _Handler:
    def on_enter(self, input, **kwargs):
        with open(os.environ["SPY_OUT"], "a") as out:
            out.write(repr(input) + "\\n")

class _Plugin:
    def new_schema_validator(self, *args, **kwargs):
        return _Handler(), None, None

plugin = _Plugin()
'''


def _run(code: str, tmp_path: Path) -> str:
    """Run ``code`` with the spy plugin installed (as a distribution's entry point); what the spy saw."""
    site = tmp_path / "site"
    (site / "spy-1.0.dist-info").mkdir(parents=True, exist_ok=True)
    (site / "spy-1.0.dist-info" / "METADATA").write_text("Metadata-Version: 2.1\nName: spy\nVersion: 1.0\n")
    (site / "spy-1.0.dist-info" / "entry_points.txt").write_text("[pydantic]\nspy = spyplugin:plugin\n")
    (site / "spyplugin.py").write_text(SPY)
    seen = tmp_path / "seen.txt"
    seen.unlink(missing_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PROVISIONER_", "PYDANTIC_"))}
    env.update(PYTHONPATH=str(site), SPY_OUT=str(seen), TOKEN_A=TOKEN, PYDANTIC_DISABLE_PLUGINS="some-other")
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return seen.read_text() if seen.exists() else ""


def test_the_spy_sees_what_a_plain_pydantic_program_validates(tmp_path: Path):
    code = "import os, pydantic\nclass M(pydantic.BaseModel):\n    x: str\nM(x=os.environ['TOKEN_A'])\n"
    assert TOKEN in _run(code, tmp_path)  # the rig works: an installed plugin is loaded and sees inputs


def test_no_plugin_sees_a_validated_page_or_its_tokens(tmp_path: Path):
    (tmp_path / "pages").mkdir()
    (tmp_path / "pages" / "a.yaml").write_text("slug: a\naccess_tokens: ['${TOKEN_A}']\n")
    code = "from provisioner.cli import main\nmain(['validate'])\n"
    assert _run(code, tmp_path) == ""
