"""Every bad-input case, through the CLI: `plan` and `apply --auto-approve` exit 1 with a clear error,
make no API call, and leave every file of the project folder byte-identical (pages.lock included).

Cases: tests/cases/invalid/ (page files, 67) and tests/cases/invalid_lockfiles/ (lockfiles and
journals, with the valid pages of ``_pages/``). The CLI runs in process against an emulator served on
loopback whose request counter (``/_emulator/stats``) must stay at 0.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from provisioner.cli import main
from provisioner.emulator import Emulator, FaultConfig
from provisioner.emulator.serve import serve_in_thread

CASES = Path(__file__).resolve().parents[1] / "cases"
PAGE_CASES = sorted(p for p in (CASES / "invalid").iterdir() if p.is_dir())
LOCK_CASES = sorted(p for p in (CASES / "invalid_lockfiles").iterdir() if p.is_dir() and p.name[0] != "_")
LOCK_KEY = "dGVzdC1rZXktb2YtdGhlLWludmFsaWQtbG9ja2ZpbGU="  # test-only; the corpus lockfiles are sealed with it
TOKENS = {"NYLAS_TOKEN_ALICE": "nyl-secret-alice-7Hq2xKp", "NYLAS_TOKEN_BOB": "nyl-secret-bob-9Zx4wQe"}
COMMANDS = [("plan",), ("apply", "--auto-approve")]


class Api:
    def __init__(self, url: str, emulator: Emulator):
        self.url, self.emulator = url, emulator

    def requests(self) -> int:
        """API requests the served emulator has received (its ``/_emulator/stats`` counter)."""
        return self.emulator.stats()["total"]


@pytest.fixture(scope="module")
def api() -> Iterator[Api]:
    emulator = Emulator(":memory:", FaultConfig())
    with serve_in_thread(emulator) as url:
        served = Api(url, emulator)
        assert httpx.get(f"{url}/_emulator/stats").json()["total"] == served.requests() == 0
        yield served
    emulator.close()


def tree(root: Path) -> dict[str, str]:
    """Every file under ``root`` (relative path -> sha256); directories listed too, as ``dir/``."""
    out = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_dir():
            out[rel + "/"] = ""
        else:
            out[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def project_for(case: Path, root: Path, url: str) -> dict[str, str]:
    """Copy a case into ``root``; returns the environment to run it with."""
    env = {**TOKENS, "PROVISIONER_API_URL": url, "PROVISIONER_LOCK_KEY": LOCK_KEY}
    if (case / "pages").is_dir():
        shutil.copytree(case / "pages", root / "pages")
    else:
        shutil.copytree(case.parent / "_pages", root / "pages")
    for name in ("pages.lock", "pages.lock.journal"):
        if (case / name).exists():
            (root / name).write_bytes((case / name).read_bytes().replace(b"@API_URL@", url.encode()))
    if (case / "env.json").exists():
        env.update(json.loads((case / "env.json").read_text()))
    return env


def run_cli(root: Path, args: tuple[str, ...], env: dict[str, str], monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(root)
    for var in ("PROVISIONER_API_URL", "PROVISIONER_LOCK_KEY", *TOKENS):
        monkeypatch.delenv(var, raising=False)
    return CliRunner().invoke(main, list(args), env=env)


LOCK_FILE = "pages.lock.lock"  # see test_a_refused_apply_creates_no_lock_file


def assert_refused(result, before: dict[str, str], root: Path, what: str) -> None:
    output = result.output + (result.stderr if result.stderr_bytes is not None else "")
    assert result.exit_code == 1, f"{what}: exit {result.exit_code}\n{output}"
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"{what}: crashed with {result.exception!r}")
    assert "Traceback" not in output, output
    assert "Error" in output or "error" in output, f"{what}: no error message:\n{output}"
    after = {k: v for k, v in tree(root).items() if k != LOCK_FILE or k in before}
    assert after == before, f"{what}: files changed: {set(after.items()) ^ set(before.items())}"


def test_the_corpus_is_large_enough():
    assert len(LOCK_CASES) >= 15 and len(PAGE_CASES) + len(LOCK_CASES) >= 60


@pytest.mark.parametrize("case", PAGE_CASES + LOCK_CASES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_bad_input_is_refused_without_api_calls_or_file_changes(
    case: Path, api: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    env = project_for(case, tmp_path, api.url)
    before = tree(tmp_path)
    for args in COMMANDS:
        result = run_cli(tmp_path, args, env, monkeypatch)
        assert_refused(result, before, tmp_path, " ".join(args))
        assert api.requests() == 0, f"{' '.join(args)} made an API call"
    if case.parent.name == "invalid_lockfiles":
        shown = result.output + result.stderr
        for expected in (case / "expect.txt").read_text().splitlines():
            assert expected in shown, f"{expected!r} missing from:\n{shown}"


def test_a_refused_apply_creates_no_lock_file(api: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A bad lockfile is refused before the apply lock's ``pages.lock.lock`` is created.

    FAILS today: `workflows.apply` takes the lock (creating the file) before reading the state.
    """
    env = project_for(CASES / "invalid_lockfiles" / "01-truncated-json", tmp_path, api.url)
    before = tree(tmp_path)
    result = run_cli(tmp_path, ("apply", "--auto-approve"), env, monkeypatch)
    assert result.exit_code == 1
    assert tree(tmp_path) == before


@pytest.mark.parametrize("case", PAGE_CASES, ids=lambda p: p.name)
def test_bad_pages_leave_no_trace_with_the_embedded_emulator(
    case: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """Without --api-url (the embedded default), bad pages must not even create .provisioner/."""
    env = project_for(case, tmp_path, "unused")
    del env["PROVISIONER_API_URL"], env["PROVISIONER_LOCK_KEY"]
    before = tree(tmp_path)
    for args in COMMANDS:
        assert_refused(run_cli(tmp_path, args, env, monkeypatch), before, tmp_path, " ".join(args))


# --- addresses: every command that takes one refuses anything but a path under pages/ -------------

BAD_ADDRESSES = {
    "dotdot": "../outside",
    "dotdot-inside": "sales/../../outside",
    "absolute": "/etc/passwd",
    "empty": "",
    "empty-part": "sales//demo",
    "dot-part": "sales/./demo",
    "hidden": ".git/config",
    "escape-sequence": "sales/\x1b[2Jdemo",
    "nul": "sales/de\x00mo",
    "newline": "sales/demo\nPlan: 0 to create",
    "bidi-override": "sales/\u202eomed",
    "backslash": "sales\\demo",
    "suffix": "sales/demo.yaml",
    "defaults": "sales/_defaults",
    "too-long": "x" * 1001,
}
ADDRESS_COMMANDS = {
    "import": lambda a: ("import", a, "--page-id", "1", "--edit-token-env", "EDIT"),
    "import-account": lambda a: ("import", a, "--account-token-env", "ACCOUNT"),
    "pull": lambda a: ("pull", a),
    "pull-force": lambda a: ("pull", a, "--force"),
    "state-mv-old": lambda a: ("state", "mv", a, "sales/elsewhere"),
    "state-mv-new": lambda a: ("state", "mv", "sales/demo", a),
    "state-rm": lambda a: ("state", "rm", a),
    "state-show": lambda a: ("state", "show", a),
    "preview": lambda a: ("preview", a),
    "plan-target": lambda a: ("plan", "--target", a),
    "apply-target": lambda a: ("apply", "--auto-approve", "--target", a),
    "drift-target": lambda a: ("drift", "--target", a),
}


# import-account takes a folder: empty is pages/ itself, and a .yaml-like or _defaults folder name is fine.
_FOLDER_NAMES_THAT_ARE_FINE = {("import-account", bad) for bad in ("empty", "suffix", "defaults")}
ADDRESS_CASES = [(command, bad) for command in sorted(ADDRESS_COMMANDS) for bad in sorted(BAD_ADDRESSES)
                 if (command, bad) not in _FOLDER_NAMES_THAT_ARE_FINE]


@pytest.mark.parametrize(("command", "bad"), ADDRESS_CASES)
def test_a_bad_address_is_refused_by_every_command_without_effects(
    command: str, bad: str, api: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """One address parser for every command: refused before any state, file or API is touched, and the
    address shown with its control characters escaped (a terminal never receives them raw)."""
    address = BAD_ADDRESSES[bad]
    env = project_for(CASES / "invalid_lockfiles" / "_pages", tmp_path, api.url)
    shutil.rmtree(tmp_path / "pages")
    shutil.copytree(CASES / "invalid_lockfiles" / "_pages", tmp_path / "pages")
    env.update(EDIT="edit-token-never-used", ACCOUNT="access-token-never-used")
    before, requests = tree(tmp_path), api.requests()
    result = run_cli(tmp_path, ADDRESS_COMMANDS[command](address), env, monkeypatch)
    assert_refused(result, before, tmp_path, f"{command} {address!r}")
    assert not (tmp_path / LOCK_FILE).exists(), "refused only after taking the apply lock"
    assert api.requests() == requests, f"{command} made an API call"
    shown = result.output + (result.stderr if result.stderr_bytes is not None else "")
    assert "address" in shown, shown
    for raw in ("\x1b", "\x00", "\u202e", "\nPlan: 0"):
        assert raw not in shown, f"raw {raw!r} printed"
