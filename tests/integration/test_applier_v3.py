"""`Applier` on v3 through the interface: the v3 client (`provisioner.apis.get_api("nylas-v3")`) on the
in-process emulator with injected faults, real lockfile state. A create whose answer is lost is never
re-sent: the configuration is found by slug under its grant and adopted."""

from __future__ import annotations

import asyncio
from pathlib import Path

from provisioner.apis import ClientOptions, LivePage, get_api
from provisioner.apis.nylas_v3 import spec
from provisioner.apply import Applier
from provisioner.changes import Action, Target
from provisioner.emulator import Emulator, FaultConfig
from provisioner.pagefile import DesiredPage
from provisioner.plan import make_plan
from provisioner.refresh import read_live
from provisioner.secrets import Sealer, keygen
from provisioner.state import current_holder
from provisioner.state.lockfile import LockfileBackend

URL = "http://emulator.local"
V3 = get_api("nylas-v3")
TARGET = Target("nylas-v3:" + URL, api="nylas-v3")
CONFIG = {"participants": [{"email": "alice@example.com", "is_organizer": True,
                           "availability": {"calendar_ids": ["primary"]}, "booking": {"calendar_id": "primary"}}],
          "availability": {"duration_minutes": 30},
          "event_booking": {"title": "Demo"},
          "scheduler": {"min_booking_notice": 120}}


class Quiet:
    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    def begin(self, total: int) -> None: ...

    def step(self, address: str, outcome: str) -> None:
        self.seen.append((address, outcome))

    def end(self) -> None: ...


def desired(config: dict | None = None) -> dict[str, DesiredPage]:
    page = DesiredPage(address="sales/demo", file=Path("pages/sales/demo.yaml"), slug="sales-demo", name="Demo",
                       access_tokens=(), config=config or CONFIG, grant="grant-a")
    return {page.address: page}


def run(emulator: Emulator, backend: LockfileBackend, pages: dict[str, DesiredPage],
        faults: FaultConfig | None = None) -> tuple[Action, list[tuple[str, str]]]:
    async def go() -> tuple[Action, list[tuple[str, str]]]:
        options = ClientOptions(URL, transport=emulator.transport(), env={"KEY": "test-api-key-0123456789"},
                                api_key_env="KEY")
        async with V3.open_client(options) as client:
            state = backend.read(TARGET.state_key)
            live = (await read_live(client, state, {}, mode="page", api=V3)).live
            plan = make_plan(TARGET, pages, state, live, api=V3)
            emulator.faults = faults or FaultConfig()
            try:
                with backend.transaction(TARGET.state_key, current_holder()) as txn:
                    reporter = Quiet()
                    result = await Applier(client, txn, pages, reporter, V3).run(plan)
                    reporter.seen += [(a, f"failed: {m}") for a, m in result.failed]
            finally:
                emulator.faults = FaultConfig()
            return plan.pages[0].action if plan.pages else Action.NOOP, reporter.seen

    return asyncio.run(go())


def test_a_lost_create_answer_is_resolved_by_slug_and_adopted(tmp_path: Path):
    emulator = Emulator(tmp_path / "emulator.db")
    backend = LockfileBackend(tmp_path / "pages.lock", Sealer(keygen()))
    action, seen = run(emulator, backend, desired(), FaultConfig(drop_after_rate=1.0, methods=("POST",)))
    assert action is Action.CREATE
    (address, outcome), = seen
    assert address == "sales/demo" and outcome.startswith("adopted (page ")
    record = backend.read(TARGET.state_key).resources["sales/demo"]
    assert record.grant == "grant-a" and isinstance(record.id, str)
    assert run(emulator, backend, desired())[0] is Action.NOOP  # converged: one configuration, no changes


def test_an_update_sends_changed_top_level_objects_whole(tmp_path: Path):
    emulator = Emulator(tmp_path / "emulator.db")
    backend = LockfileBackend(tmp_path / "pages.lock", Sealer(keygen()))
    run(emulator, backend, desired())
    # scheduler left out of the YAML: it is sent as null (the server's defaults again), availability whole.
    edited = {k: v for k, v in CONFIG.items() if k != "scheduler"} | {"availability": {"duration_minutes": 45}}
    action, seen = run(emulator, backend, desired(edited))
    assert action is Action.UPDATE and seen[0][1].startswith("updated")
    config = backend.read(TARGET.state_key).resources["sales/demo"].config
    assert config["scheduler"]["min_booking_notice"] == 60 and config["availability"]["duration_minutes"] == 45
    assert run(emulator, backend, desired(edited))[0] is Action.NOOP


def test_the_adapter_resets_a_left_out_field_as_the_spec_allows(tmp_path: Path):
    """`V3Pages.update` given a config without fields it is told changed: ``scheduler`` goes back
    to its defaults as ``{}`` and ``requires_session_auth`` as null (a null scheduler is refused as
    the spec implies); a ``name`` of None is not sent, so the server keeps it."""
    emulator = Emulator(tmp_path / "emulator.db")

    async def go() -> LivePage:
        options = ClientOptions(URL, transport=emulator.transport(), env={"KEY": "test-api-key-0123456789"},
                                api_key_env="KEY")
        async with V3.open_client(options) as client:
            made = await client.create("grant-a", name="Demo", slug="sales-demo",
                                       config=CONFIG | {"requires_session_auth": True})
            without = {k: v for k, v in CONFIG.items() if k != "scheduler"}
            return await client.update(made.handle, name=None, slug="sales-demo", config=without,
                                        changed=["scheduler", "requires_session_auth"])

    updated = asyncio.run(go())
    assert updated.name == "Demo" and updated.config["requires_session_auth"] is False
    assert updated.config["scheduler"] == spec.fill_server_defaults({})["scheduler"]
