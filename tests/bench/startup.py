"""Start-up benchmark: wall and CPU time of `provisioner --help` and of `provisioner validate` over the
example pages, as a CI job pays them (a fresh process each time). A tool that prints figures, not a
test: run it on a quiet machine with ``.venv/bin/python -m tests.bench.startup [--runs N]``.

Targets (issue 11): ``--help`` <= 120 ms and ``validate`` <= 200 ms wall on the 2-core dev machine.
The minimum over the runs is the figure to compare (the others measure the machine's other load);
the CPU time (user + sys of the child) is steadier than the wall time on a busy machine.
"pydantic floor" times a program that only imports click, PyYAML and pydantic and builds one
one-field model: no command that validates with pydantic can start faster.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TARGETS_MS = {"--help": 120.0, "validate": 200.0}
# What any command validating with pydantic pays before a line of its own: click, PyYAML, pydantic and
# the first model built (which imports the rest of pydantic), plugins off as in provisioner.
FLOOR = ("import os\nos.environ['PYDANTIC_DISABLE_PLUGINS'] = '__all__'\nimport click, yaml, pydantic\n"
         "class Page(pydantic.BaseModel):\n    slug: str\n")
HEAVY = ("httpx", "cryptography", "starlette", "uvicorn", "deepdiff", "psycopg", "pydantic", "yaml", "asyncio")


def _environment(pythonpath: Path | None = None) -> dict[str, str]:
    """The caller's environment with bytecode caching on (as for any user: a sandbox that sets
    PYTHONDONTWRITEBYTECODE would make every run recompile provisioner), no provisioner settings."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE" and not k.startswith("PROVISIONER_")}
    if pythonpath is not None:  # a baseline's `provisioner` package comes first on sys.path
        env["PYTHONPATH"] = str(pythonpath)
    return env


def _cli() -> list[str]:
    script = Path(sys.executable).with_name("provisioner")  # the installed entry point, as users run it
    return [str(script)] if script.exists() else [sys.executable, "-c", "from provisioner.cli import main; main()"]


def _time(command: list[str], cwd: Path, pythonpath: Path | None) -> tuple[float, float]:
    """(wall, cpu) seconds of one run of ``command``; it must succeed."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=_environment(pythonpath), stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _heavy_modules(args: list[str], cwd: Path, pythonpath: Path | None) -> list[str]:
    """The heavy top-level packages a command imports (run in-process in a child, stdout discarded)."""
    probe = ("import sys\nfrom provisioner.cli import main\n"
             f"try:\n    main({args!r})\nexcept SystemExit:\n    pass\n"
             f"print(' '.join(sorted({{m.split('.')[0] for m in sys.modules}} & {set(HEAVY)!r})), file=sys.stderr)")
    done = subprocess.run([sys.executable, "-c", probe], cwd=cwd, env=_environment(pythonpath),
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    return done.stderr.strip().splitlines()[-1].split() if done.stderr.strip() else []


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15, help="runs of each command (default 15)")
    parser.add_argument("--baseline", type=Path, metavar="DIR",
                        help="also time the provisioner package of another checkout (e.g. `git archive main`)")
    options = parser.parse_args()
    in_process = [sys.executable, "-c", "from provisioner.cli import main; main()"]
    cases: list[tuple[str, list[str], Path | None]] = [
        ("python -c pass", [sys.executable, "-c", "pass"], None),
        ("pydantic floor", [sys.executable, "-c", FLOOR], None),
        ("--help", [*_cli(), "--help"], None), ("validate", [*_cli(), "validate"], None)]
    if options.baseline:
        base = options.baseline.resolve()
        cases += [("baseline --help", [*in_process, "--help"], base),
                  ("baseline validate", [*in_process, "validate"], base)]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        shutil.copytree(REPO / "pages", work / "pages")
        print(f"{'command':<19}{'min wall':>10}{'median':>10}{'min cpu':>10}{'target':>10}   heavy imports")
        for _ in range(2):  # warm the file cache and write the bytecode caches
            for _name, command, path in cases:
                _time(command, work, path)
        # interleaved, so that the machine's other load falls on every case alike
        runs: dict[str, list[tuple[float, float]]] = {name: [] for name, _, _ in cases}
        for _ in range(options.runs):
            for name, command, path in cases:
                runs[name].append(_time(command, work, path))
        for name, command, path in cases:
            walls, cpus = [w * 1000 for w, _ in runs[name]], [c * 1000 for _, c in runs[name]]
            key = name.removeprefix("baseline ")
            target = f"{TARGETS_MS[key]:.0f} ms" if key in TARGETS_MS else ""
            heavy = " ".join(_heavy_modules(command[-1:], work, path)) if key in TARGETS_MS else ""
            print(f"{name:<19}{min(walls):>7.0f} ms{statistics.median(walls):>7.0f} ms{min(cpus):>7.0f} ms"
                  f"{target:>10}   {heavy or '-'}")


if __name__ == "__main__":
    main()
