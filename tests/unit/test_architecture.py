"""The architecture as behaviour: what importing a layer loads (STYLE.md, "The shape").

`lint-imports` (run by .ci/run, contracts in pyproject.toml) checks the static import graph; these
tests check what a fresh interpreter actually loads, which also catches a package `__init__` that
drags a backend in behind an innocent-looking import.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


def _loaded_after(statement: str) -> set[str]:
    code = f"import sys, json; {statement}; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    return set(json.loads(out))


EDGES = {"httpx", "click", "cryptography", "psycopg", "starlette", "provisioner.state.lockfile",
         "provisioner.state.postgres", "provisioner.apis.nylas_v2.client", "provisioner.cli", "provisioner.render",
         "provisioner.emulator"}


@pytest.mark.parametrize("module", ["provisioner.plan", "provisioner.diff", "provisioner.drift",
                                    "provisioner.changes", "provisioner.slots"])
def test_the_core_loads_no_edge(module: str) -> None:
    loaded = _loaded_after(f"import {module}")
    assert module in loaded
    assert not {m for m in loaded if m in EDGES or m.split(".")[0] in EDGES}


def test_the_state_package_loads_its_backends_on_first_use() -> None:
    assert "provisioner.state.lockfile" not in _loaded_after("import provisioner.state")
    assert "provisioner.state.lockfile" in _loaded_after("from provisioner.state import LockfileBackend")
