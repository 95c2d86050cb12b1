"""`Applier` on its own: real client, in-process emulator with injected faults, real lockfile state.

Retries sleep through an injected no-op, so faults cost no time; fault draws are seeded.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from pydantic import SecretStr

from provisioner.apis.nylas_v2.api import V2Pages
from provisioner.apis.nylas_v2.client import SchedulerClient
from provisioner.apply import BLOCKED, Applier, ApplyResult
from provisioner.changes import Action, Plan, Target
from provisioner.emulator import Emulator, FaultConfig
from provisioner.pagefile import DesiredPage
from provisioner.plan import make_plan
from provisioner.refresh import read_live
from provisioner.retry import RetryPolicy
from provisioner.secrets import Sealer, keygen
from provisioner.state import current_holder
from provisioner.state.lockfile import LockfileBackend
from provisioner.workflows import hosts_verified

URL = "http://emulator.local"


async def _no_sleep(_seconds: float) -> None:
    return None


@dataclass
class Steps:
    """Collects what the applier reports."""

    seen: list[tuple[str, str]] = field(default_factory=list)

    def begin(self, total: int) -> None:
        self.total = total

    def step(self, address: str, outcome: str) -> None:
        self.seen.append((address, outcome))

    def end(self) -> None:
        pass


def page(address: str, *, duration: int = 30, tokens: tuple[str, ...] = ("tok-a",), **kw: object) -> DesiredPage:
    return DesiredPage(
        address=address,
        file=Path(f"pages/{address}.yaml"),
        slug=address.replace("/", "-"),
        name=address,
        access_tokens=tuple(SecretStr(t) for t in tokens),
        config={"timezone": "Europe/Paris", "event": {"title": address, "duration": duration}},
        **kw,  # type: ignore[arg-type]
    )


@dataclass
class Rig:
    emulator: Emulator
    backend: LockfileBackend
    seal: Sealer

    async def plan(self, client: V2Pages, desired: Mapping[str, DesiredPage]) -> Plan:
        state = self.backend.read(URL)
        live = (await read_live(client, state, {}, mode="page")).live
        digests = {a: self.seal.digest(p.access_tokens) for a, p in desired.items()}
        verified = await hosts_verified(client, state, desired, live)
        return make_plan(Target(URL), desired, state, live, digests, verified)

    def apply(self, desired: Mapping[str, DesiredPage], faults: FaultConfig | None = None) -> tuple[Plan, ApplyResult]:
        async def run() -> tuple[Plan, ApplyResult]:
            async with SchedulerClient(URL, transport=self.emulator.transport(), sleep=_no_sleep,
                                       retry=RetryPolicy(max_attempts=8)) as raw:
                client = V2Pages(raw)
                plan = await self.plan(client, desired)  # planned without faults: faults hit apply only
                self.emulator.faults = faults or FaultConfig()
                try:
                    with self.backend.transaction(URL, current_holder()) as txn:
                        result = await Applier(client, txn, desired, Steps()).run(plan)
                finally:
                    self.emulator.faults = FaultConfig()
                return plan, result

        return asyncio.run(run())

    def converged(self, desired: Mapping[str, DesiredPage]) -> bool:
        async def run() -> Plan:
            async with SchedulerClient(URL, transport=self.emulator.transport()) as raw:
                return await self.plan(V2Pages(raw), desired)

        return not asyncio.run(run()).has_changes

    def slugs(self) -> list[str]:
        conn = sqlite3.connect(self.emulator.db)
        try:
            return sorted(slug for (slug,) in conn.execute("SELECT slug FROM pages").fetchall())
        finally:
            conn.close()


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    emulator = Emulator(tmp_path / "emulator.db")
    seal = Sealer(keygen())
    yield Rig(emulator, LockfileBackend(tmp_path / "pages.lock", seal), seal)
    emulator.close()


def test_a_create_whose_answer_is_lost_is_adopted_not_duplicated(rig: Rig):
    desired = {a: page(a) for a in ("team/a", "team/b")}
    plan, result = rig.apply(desired, FaultConfig(drop_after_rate=1.0, methods=("POST",)))
    assert [p.action for p in plan.pages] == [Action.CREATE, Action.CREATE]
    assert not result.failed
    assert all("adopted" in outcome for _, outcome in result.done), result.done
    assert rig.slugs() == ["team-a", "team-b"]  # each create reached the API once
    assert set(rig.backend.read(URL).resources) == {"team/a", "team/b"}
    assert rig.converged(desired)


def test_a_failed_update_leaves_its_record_and_the_rest_goes_on(rig: Rig):
    desired = {a: page(a) for a in ("team/a", "team/b")}
    rig.apply(desired)
    before = rig.backend.read(URL).resources["team/a"]
    changed = {"team/a": page("team/a", duration=45), "team/b": page("team/b"), "team/c": page("team/c")}
    _, result = rig.apply(changed, FaultConfig(error_rate=1.0, methods=("PUT",)))
    assert [a for a, _ in result.failed] == ["team/a"]
    assert [a for a, _ in result.done] == ["team/c"]
    assert rig.backend.read(URL).resources["team/a"] == before  # drift is measured from what really was applied
    _, retried = rig.apply(changed)
    assert not retried.failed and rig.converged(changed)


def test_a_blocked_delete_is_reported_and_never_sent(rig: Rig):
    desired = {"team/keep": page("team/keep", prevent_destroy=True), "team/b": page("team/b")}
    rig.apply(desired)
    plan, result = rig.apply({"team/b": page("team/b", duration=50)})
    assert [p.address for p in plan.blocked] == ["team/keep"]
    assert result.failed == [("team/keep", BLOCKED)]
    assert [a for a, _ in result.done] == ["team/b"]
    assert rig.slugs() == ["team-b", "team-keep"]
    assert "team/keep" in rig.backend.read(URL).resources


def test_hosts_go_out_exactly_when_the_plan_shows_them(rig: Rig):
    desired = {"team/a": page("team/a")}
    rig.apply(desired)
    same, result = rig.apply({"team/a": page("team/a", duration=40)})
    assert not same.pages[0].sends_tokens and result.done[0][1] == f"updated (page {same.pages[0].page_id})"
    more = {"team/a": page("team/a", duration=40, tokens=("tok-a", "tok-b"))}
    plan, result = rig.apply(more)
    (change,) = plan.pages
    assert change.sends_tokens and [c.path for c in change.changes] == ["hosts"]
    assert "; hosts: " in result.done[0][1] and result.done[0][1].count("@") == 2  # the e-mails after apply
    assert rig.converged(more)


def test_seeded_random_faults_end_converged_without_duplicates(rig: Rig):
    desired = {f"team/p{i}": page(f"team/p{i}") for i in range(12)}
    faults = FaultConfig(error_rate=0.2, rate_limit_rate=0.1, drop_before_rate=0.1, drop_after_rate=0.1, seed=5)
    for _ in range(4):  # a failed step is simply retried by the next run
        _, result = rig.apply(desired, faults)
        if not result.failed:
            break
    rig.apply(desired)
    assert rig.slugs() == sorted(p.slug for p in desired.values())
    assert rig.converged(desired)


def test_a_page_removed_from_pages_and_already_gone_live_is_only_forgotten(rig: Rig):
    rig.apply({"team/a": page("team/a")})
    resource = rig.backend.read(URL).resources["team/a"]

    async def delete() -> None:
        async with SchedulerClient(URL, transport=rig.emulator.transport()) as client:
            await client.delete_page(resource.id, resource.edit_token)

    asyncio.run(delete())  # deleted outside provisioner
    plan, result = rig.apply({}, FaultConfig(error_rate=1.0, methods=("DELETE",)))  # a DELETE would fail
    assert [(p.action, p.destructive) for p in plan.pages] == [(Action.DELETE, False)]
    assert result.done == [("team/a", f"forgotten (page {resource.id} was already gone)")] and not result.failed
    assert rig.backend.read(URL).resources == {}
