"""The plan side by side with a minimal reference client, in the same run against the same server.

The reference is what any client must do to read N pages: plain ``httpx.AsyncClient`` GETs of every
page id with its edit token, ``parallelism`` at a time, each answer read and decoded as JSON. It loads no
page file, reads no state, validates and diffs nothing. `workflows.plan` does all of that, so
``plan wall / reference wall`` is the whole cost of provisioner over the network's own time; and
``plan CPU / N`` is what a page costs provisioner in CPU, HTTP included.

The two alternate (reference, plan, reference, plan, ...) so that a busy machine slows both alike; the
best of the rounds is the figure (noise only ever adds time). CPU is `common.cpu_time`: this process's
and its ended children's (the plan's forked loaders); the emulator in a child process (the default) is
not in it.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from .common import cpu_time


@dataclass
class Side:
    """Wall seconds and CPU seconds of each round of one side."""

    walls: list[float] = field(default_factory=list)
    cpus: list[float] = field(default_factory=list)

    def add(self, wall: float, cpu: float) -> None:
        self.walls.append(wall)
        self.cpus.append(cpu)

    @property
    def wall(self) -> float:
        return min(self.walls)

    def cpu_ms_per_page(self, pages: int) -> float:
        return min(self.cpus) / max(pages, 1) * 1000


@dataclass
class SideBySide:
    pages: int
    parallelism: int
    reference: Side = field(default_factory=Side)
    plan: Side = field(default_factory=Side)

    @property
    def ratio(self) -> float:
        """Best plan wall time over best reference wall time."""
        return self.plan.wall / self.reference.wall

    def figures(self) -> dict[str, Any]:
        return {"pages": self.pages, "parallelism": self.parallelism, "ratio": self.ratio,
                "reference_walls": self.reference.walls, "plan_walls": self.plan.walls,
                "reference_cpu_ms_per_page": self.reference.cpu_ms_per_page(self.pages),
                "plan_cpu_ms_per_page": self.plan.cpu_ms_per_page(self.pages)}


async def reference_reads(url: str, pages: list[tuple[int, str]], parallelism: int) -> int:
    """GET every ``(page id, edit token)`` with plain httpx, ``parallelism`` at a time; bytes read."""
    slots = asyncio.Semaphore(parallelism)
    async with httpx.AsyncClient(base_url=url) as client:

        async def one(page_id: int, token: str) -> int:
            async with slots:
                response = await client.get(f"/manage/pages/{page_id}", headers={"Authorization": f"Bearer {token}"})
            response.raise_for_status()
            return len(response.json())

        return sum(await asyncio.gather(*(one(page_id, token) for page_id, token in pages)))


def side_by_side(settings: Any, rounds: int = 3) -> SideBySide:
    """Alternate the reference reads and `workflows.plan` (a converged set: no change expected)."""
    from provisioner import workflows

    state = workflows.backend(settings).read(settings.target.api_url)
    pages = [(r.id, r.edit_token.get_secret_value()) for r in state.resources.values()]
    assert settings.api_url, "the side-by-side needs a served emulator"
    result = SideBySide(len(pages), settings.parallelism)
    for _ in range(rounds):
        cpu, start = cpu_time(), time.perf_counter()
        asyncio.run(reference_reads(settings.api_url, pages, settings.parallelism))
        result.reference.add(time.perf_counter() - start, cpu_time() - cpu)
        cpu, start = cpu_time(), time.perf_counter()
        plan = workflows.plan(settings)
        result.plan.add(time.perf_counter() - start, cpu_time() - cpu)
        assert not plan.has_changes
    return result
