"""cores: work spread across forked processes gives what a plain loop gives, in order; and the loader
spread so gives the same pages and the same problems as the loader on one core."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from provisioner import cores, load
from provisioner.errors import ConfigError
from provisioner.load import load_pages

ENV = {"NYLAS_TOKEN_ALICE": "tok-alice-1234567", "LOCK_SECRET": "s3cret-lock-value"}


def test_results_come_back_in_order_from_every_process():
    offset = 1000  # closed over: the children inherit the function, nothing is pickled but results
    items = list(range(25))
    assert cores.map_on_cores(lambda i: (i + offset, os.getpid()), items, cores=1)[0] == (1000, os.getpid())
    spread = cores.map_on_cores(lambda i: (i + offset, os.getpid()), items, cores=3)
    assert [value for value, _ in spread] == [i + offset for i in items]
    pids = [pid for _, pid in spread]
    # this process took the first chunk; a pool's worker may take the next two chunks before its sibling starts
    assert pids[0] == os.getpid() and len(set(pids)) >= 2


def test_a_failure_in_a_child_reaches_the_caller():
    def boom(i: int) -> int:
        if i == 20:
            raise ValueError("item 20")
        return i

    with pytest.raises(ValueError, match="item 20"):
        cores.map_on_cores(boom, list(range(25)), cores=2)


def test_only_enough_items_and_a_single_thread_are_worth_a_fork():
    assert cores.cores_for(2 * cores.PER_CORE - 1) == 1
    if threading.active_count() == 1 and len(os.sched_getaffinity(0)) > 1:
        assert cores.cores_for(10 * cores.PER_CORE) > 1
    started, release = threading.Event(), threading.Event()
    other = threading.Thread(target=lambda: (started.set(), release.wait()))
    other.start()
    started.wait()
    try:
        assert cores.cores_for(10 * cores.PER_CORE) == 1  # a fork copies a thread's held locks, not the thread
    finally:
        release.set()
        other.join()


def _tree(root: Path, n: int, broken: dict[int, str]) -> Path:
    (root / "_defaults.yaml").write_text("config:\n  timezone: Europe/Paris\n")
    for i in range(n):
        folder = root / f"g{i // 50}"
        folder.mkdir(exist_ok=True)
        body = broken.get(i, f"slug: page-{i}\nname: Page {i} ${{TEAM:-t}}\nconfig:\n  event:\n    duration: 30\n")
        (folder / f"p{i:03d}.yaml").write_text(f"access_tokens: ['${{NYLAS_TOKEN_ALICE}}']\n{body}")
    return root


def _both(monkeypatch: pytest.MonkeyPatch, pages: Path, **kwargs) -> list:
    """load_pages on one core, then spread over three processes: each result, or the problems raised."""
    out = []
    for count in (1, 3):
        monkeypatch.setattr(load, "map_on_cores", lambda fn, items, c=count: cores.map_on_cores(fn, items, c))
        try:
            loaded = load_pages(pages, ENV, **kwargs)
            out.append({a: (p, p.origins) for a, p in loaded.items()})
        except ConfigError as e:
            out.append(e.problems)
    return out


def test_the_loader_on_three_cores_loads_the_same_pages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    one, spread = _both(monkeypatch, _tree(tmp_path, 120, {}))
    assert len(one) == 120 and one == spread
    assert one["g0/p000"][1][("config", "timezone")][1:] == (2, 3)  # where it was written: the _defaults line
    without = load_pages(tmp_path, ENV, origins=False)
    assert without["g0/p000"].origins is None and without["g0/p000"] == one["g0/p000"][0]


def test_the_loader_on_three_cores_finds_the_same_problems(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    broken = {  # one in each process's share, and across shares: a duplicate slug and a secret read
        3: "slug: page-3\nconfig:\n  event:\n    duration: forty\n",
        45: "slug: page-100\n",
        77: "slug: page-77\nname: ${LOCK_SECRET}\n",
        100: "slug: page-100\nconfig: [1]\n",
        119: "slug: page-119\nconfig:\n  event:\n    duration: 30\n    nope: 1\n",
    }
    one, spread = _both(monkeypatch, _tree(tmp_path, 120, broken), secret_variables=["LOCK_SECRET"])
    assert isinstance(one, list) and one == spread
    fields = {(Path(p.file).name, p.field) for p in one}
    assert {("p003.yaml", "config.event.duration"), ("p077.yaml", "name"), ("p100.yaml", "config"),
            ("p119.yaml", "config.event.nope")} <= fields
    assert sum(p.field == "slug" for p in one) == 2  # page-100 twice, in two processes' shares: both named
    assert not any("s3cret" in (p.message + (p.hint or "")) for p in one)


def test_text_buffered_before_the_fork_is_written_once(tmp_path: Path):
    # multiprocessing flushes stdout and stderr before it forks; a bare os.fork would not
    script = ("import sys\nfrom provisioner import cores\nsys.stdout.write('planned ')\n"
              "cores.map_on_cores(lambda i: i, list(range(10)), cores=2)\nprint('done')\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # a pipe: stdout is buffered
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout, done.stderr) == (0, "planned done\n", "")


def test_a_child_that_is_killed_leaves_its_share_to_this_process():
    parent = os.getpid()

    def double(i: int) -> int:
        if os.getpid() != parent:
            os.kill(os.getpid(), signal.SIGKILL)  # as the out-of-memory killer would
        return i * 2

    assert cores.map_on_cores(double, list(range(30)), cores=3) == [i * 2 for i in range(30)]


def _signals(_: int) -> tuple[object, int]:
    import ctypes

    deathsig = ctypes.c_int(0)
    ctypes.CDLL(None).prctl(2, ctypes.byref(deathsig))  # PR_GET_PDEATHSIG
    return signal.getsignal(signal.SIGINT), deathsig.value


def test_children_leave_ctrl_c_to_the_caller_and_die_with_it():
    # Ctrl-C signals the whole group: a child idle in the pool printed a KeyboardInterrupt traceback.
    # A caller killed mid-map left its children blocked on its pipe forever.
    got = cores.map_on_cores(_signals, list(range(20)), cores=2)
    assert got[0] == (signal.getsignal(signal.SIGINT), 0)  # this process: as it was
    assert got[-1] == (signal.SIG_IGN, signal.SIGKILL)
