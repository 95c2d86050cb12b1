"""Start-up: what a command does not need is not imported (every CI job pays the CLI's start-up).
These assert behaviour (which modules load), not timing; `tests/bench/startup.py` prints the figures."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from provisioner.secrets import keygen

from .conftest import V3_EXAMPLE, Project

NETWORK_AND_STATE = {"httpx", "httpcore", "cryptography", "starlette", "uvicorn", "deepdiff", "psycopg", "asyncio",
                     "anyio", "sqlite3"}
PARSING = {"pydantic", "pydantic_core", "yaml"}


def _modules_after(args: list[str], cwd: str, env: dict[str, str] | None = None) -> set[str]:
    """Every module loaded by running the CLI with ``args`` (and ``env`` added) in a fresh interpreter."""
    probe = ("import json, sys\nfrom provisioner.cli import main\n"
             f"try:\n    main({args!r})\nexcept SystemExit:\n    pass\n"
             "sys.stderr.write('\\n' + json.dumps(sorted(sys.modules)))")
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("PROVISIONER_")}, **(env or {})}
    done = subprocess.run([sys.executable, "-c", probe], cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True, timeout=120)
    return set(json.loads(done.stderr.strip().splitlines()[-1]))


def _imported_after(args: list[str], cwd: str) -> set[str]:
    """Top-level packages loaded by running the CLI with ``args``."""
    return {m.split(".")[0] for m in _modules_after(args, cwd)}


def _provisioner_modules_after(args: list[str], cwd: str) -> set[str]:
    """The ``provisioner.*`` modules loaded by running the CLI with ``args``."""
    return {m for m in _modules_after(args, cwd) if m.startswith("provisioner")}


def test_importing_the_cli_loads_only_click(tmp_path):
    probe = "import json, sys, provisioner.cli; print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    done = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    loaded = set(json.loads(done.stdout))
    assert "click" in loaded
    assert not loaded & (NETWORK_AND_STATE | PARSING)


@pytest.mark.parametrize("args", [["--help"], ["plan", "--help"], ["keygen", "--help"], ["state", "list", "--help"]])
def test_help_loads_no_parser_network_or_state(tmp_path, args: list[str]):
    assert not _imported_after(args, str(tmp_path)) & (NETWORK_AND_STATE | PARSING)


def test_validate_loads_no_network_state_or_cryptography(project: Project):
    loaded = _imported_after(["validate"], str(project.root))
    assert {"pydantic", "yaml"} <= loaded  # it did validate
    assert not loaded & NETWORK_AND_STATE, loaded & NETWORK_AND_STATE
    assert not loaded & {"multiprocessing", "concurrent"}  # four files load in this process: no pool imported


def test_validate_of_a_v2_tree_loads_neither_the_state_package_nor_the_v3_api_nor_the_plan(project: Project):
    loaded = _provisioner_modules_after(["validate"], str(project.root))
    assert "provisioner.apis.nylas_v2.model" in loaded  # it did validate v2 pages
    assert not {m for m in loaded if m == "provisioner.state" or m.startswith(("provisioner.state.",
                                                                              "provisioner.apis.nylas_v3"))}
    assert not loaded & {"provisioner.changes", "provisioner.plan", "provisioner.diff"}  # a plan's types


def test_a_v3_plan_loads_neither_the_v2_api_nor_the_slot_engine(tmp_path: Path):
    """The slot engine (v2 defaults and model included) serves `preview` only: a v3 plan against a served
    API never loads it."""
    shutil.copytree(V3_EXAMPLE / "pages", tmp_path / "pages")
    (tmp_path / "provisioner.yaml").write_text(
        "api: nylas-v3\ntargets:\n  served:\n    api_url: http://127.0.0.1:9\n    api_key_env: NYLAS_API_KEY\n")
    env = {"NYLAS_API_KEY": "nyk_v3-startup-test", "PROVISIONER_LOCK_KEY": keygen()}
    loaded = _modules_after(["plan", "--target-env", "served", "--out", str(tmp_path / "plan.json")],
                            str(tmp_path), env)
    assert (tmp_path / "plan.json").exists()  # it did plan (creates only: no request made)
    assert "provisioner.apis.nylas_v3.model" in loaded
    assert not {m for m in loaded if m.startswith(("provisioner.slots", "provisioner.apis.nylas_v2"))}


def test_the_cli_names_the_target_variable_as_the_project_does():
    from provisioner.cli_options import TARGET_ENV
    from provisioner.project import TARGET_ENV as PROJECT_TARGET_ENV

    assert TARGET_ENV == PROJECT_TARGET_ENV


def test_deepdiff_is_imported_only_when_two_documents_differ(tmp_path):
    """A plan with nothing to change (the common CI case) never pays deepdiff's import."""
    probe = ("import sys\nfrom provisioner.diff import diff\n"
             "same = diff({'a': [1, {'b': 2}]}, {'a': [1, {'b': 2}]})\n"
             "before = 'deepdiff' in sys.modules\n"
             "changed = diff({'a': 1}, {'a': 2})\n"
             "print(same == [], before, 'deepdiff' in sys.modules, [leaf.path for leaf in changed])")
    done = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.stdout.split() == ["True", "False", "True", "['a']"], done.stderr
