"""The emulator's SQLite file: shared by instances one after another, at once, and across processes."""

from __future__ import annotations

import multiprocessing
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import httpx
import pytest

from provisioner.emulator import Emulator, account_id_for
from tests.integration.conftest import EMU_BASE_URL

pytestmark = pytest.mark.anyio

TOKEN = "token-persist-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


async def test_pages_survive_a_new_instance_on_the_same_file(tmp_path: Path) -> None:
    db = tmp_path / "nested" / "emulator.db"
    first = Emulator(db)
    async with httpx.AsyncClient(transport=first.transport(), base_url=EMU_BASE_URL) as client:
        page = (await client.post("/manage/pages", json={"access_tokens": [TOKEN], "slug": "kept"})).json()
    first.close()

    second = Emulator(db)
    async with httpx.AsyncClient(transport=second.transport(), base_url=EMU_BASE_URL) as client:
        edit = {"Authorization": f"Bearer {page['edit_token']}"}
        got = await client.get(f"/manage/pages/{page['id']}", headers=edit)
        assert got.json() == page
        dup = await client.post("/manage/pages", json={"access_tokens": [TOKEN], "slug": "kept"})
        assert dup.status_code == 400
        later = (await client.post("/manage/pages", json={"access_tokens": [TOKEN]})).json()
        assert later["id"] > page["id"]
    second.close()
    assert TOKEN.encode() not in db.read_bytes()


async def test_two_open_instances_see_each_others_writes(tmp_path: Path) -> None:
    db = tmp_path / "emulator.db"
    one, two = Emulator(db), Emulator(db)
    async with (httpx.AsyncClient(transport=one.transport(), base_url=EMU_BASE_URL) as c1,
                httpx.AsyncClient(transport=two.transport(), base_url=EMU_BASE_URL) as c2):
        page = (await c1.post("/manage/pages", json={"access_tokens": [TOKEN], "slug": "seen"})).json()
        assert (await c2.get("/manage/pages", headers=AUTH)).json() == [page]
        url = f"/manage/pages/{page['id']}"
        assert (await c2.put(url, headers=AUTH, json={"name": "from two"})).status_code == 200
        assert (await c1.get(url, headers=AUTH)).json()["name"] == "from two"
        assert (await c2.delete(url, headers=AUTH)).json() == {"success": True}
        assert (await c1.get(url, headers=AUTH)).status_code == 404
    one.close()
    two.close()


WRITER = textwrap.dedent("""
    import asyncio, sys, httpx
    from provisioner.emulator import Emulator, account_id_for

    async def main(db, prefix, count, token):
        emulator = Emulator(db)
        async with httpx.AsyncClient(transport=emulator.transport(), base_url="http://emulator.local") as c:
            for i in range(count):
                r = await c.post("/manage/pages", json={"access_tokens": [token], "slug": f"{prefix}-{i}"})
                assert r.status_code == 201, r.text
        emulator.close()

    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]))
""")


def test_two_processes_write_one_file_at_once(tmp_path: Path) -> None:
    db = tmp_path / "emulator.db"
    count = 30
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(db), name, str(count), TOKEN],
                              stderr=subprocess.PIPE) for name in ("left", "right")]
    for proc in procs:
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err.decode()
    emulator = Emulator(db)
    pages = emulator.store.list_pages(account_id_for(TOKEN), 0, 1000)
    emulator.close()
    assert len(pages) == 2 * count
    assert len({p.id for p in pages}) == 2 * count
    assert {p.slug for p in pages} == {f"{side}-{i}" for side in ("left", "right") for i in range(count)}


def _open_together(db: str, barrier: Any, results: Any) -> None:
    barrier.wait()  # every process opens the new file at the same moment
    try:
        Emulator(db).close()
    except Exception as exc:  # reported to the parent, which asserts on it
        results.put(repr(exc))
    else:
        results.put("")


def test_processes_opening_a_new_file_at_the_same_moment_all_succeed(tmp_path: Path) -> None:
    """Regression: switching a new file to WAL failed at once ("database is locked", SQLite calls no busy
    handler there) in about one try in seven when processes opened it together; twenty tries catch it."""
    ctx = multiprocessing.get_context("fork")
    for attempt in range(20):
        db = tmp_path / f"together-{attempt}.db"
        barrier, results = ctx.Barrier(4), ctx.Queue()
        procs = [ctx.Process(target=_open_together, args=(str(db), barrier, results)) for _ in range(4)]
        for proc in procs:
            proc.start()
        outcomes = [results.get(timeout=60) for _ in procs]
        for proc in procs:
            proc.join(timeout=60)
        assert outcomes == [""] * 4, f"attempt {attempt}: {outcomes}"
        assert [proc.exitcode for proc in procs] == [0] * 4
