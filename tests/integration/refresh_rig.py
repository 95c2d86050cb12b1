"""A live state for the refresh tests (issue 15): managed pages over several accounts (v2) or grants
(v3) on the embedded emulator, unmanaged pages beside them, and edits made outside provisioner.

The managed pages are applied by `workflows.apply`; the unmanaged ones are seeded straight into the
emulator's store (they are only there to be listed and dropped), and the outside edits go through
the API client, as a person in the Schedule Editor would make them.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

from pydantic import SecretStr

from provisioner import workflows
from provisioner.apis import Pages
from provisioner.apis.nylas_v2.emulator import choices as v2_choices
from provisioner.apis.nylas_v3.emulator import store as v3_store
from provisioner.apis.nylas_v3.emulator.configurations import checked
from provisioner.changes import Plan
from provisioner.emulator import Emulator
from provisioner.render import render_plan
from provisioner.settings import Settings, open_client
from provisioner.state.base import State
from provisioner.state.lockfile import LockfileBackend

T = TypeVar("T")
TOKENS = {name: f"token-refresh-{name.lower()}-0123456789abcdef" for name in "ABCDXZ"}  # Z: never used
ENV = {f"TOK_{name}": value for name, value in TOKENS.items()}
V3_CONFIG = {
    "participants": [{"email": "alice@example.com", "is_organizer": True,
                      "availability": {"calendar_ids": ["primary"]}, "booking": {"calendar_id": "primary"}}],
    "availability": {"duration_minutes": 30}, "event_booking": {"title": "Call"},
}


class Quiet:
    def begin(self, total: int) -> None: ...

    def step(self, address: str, outcome: str) -> None: ...

    def end(self) -> None: ...


def v2_page(slug: str, *tokens: str, lifecycle: str = "", config: str = "") -> str:
    refs = ", ".join(f"'${{TOK_{t}}}'" for t in tokens)
    return (f"slug: {slug}\naccess_tokens: [{refs}]\n{lifecycle}config:\n"
            f"  event: {{title: {slug}, duration: 30}}\n{config}")


def v3_page(slug: str, grant: str, lifecycle: str = "") -> str:
    return (f"slug: {slug}\ngrant: {grant}\n{lifecycle}config:\n  participants:\n    - email: alice@example.com\n"
            "      is_organizer: true\n      availability: {calendar_ids: [primary]}\n"
            "      booking: {calendar_id: primary}\n  availability: {duration_minutes: 30}\n"
            f"  event_booking: {{title: {slug}}}\n  appearance: {{color: '#0b5fff'}}\n")


@dataclass
class Rig:
    """A project folder; its settings are relative to it, as the CLI's are (the state is kept for the
    emulator's database by its relative path, so a copy of the folder is the same target)."""

    root: Path
    settings: Settings

    @classmethod
    def make(cls, root: Path, api: str = "nylas-v2") -> Rig:
        root.mkdir(parents=True, exist_ok=True)
        return cls(root, Settings(env=dict(ENV), api_name=api, parallelism=8))

    @contextmanager
    def here(self) -> Iterator[None]:
        """Work in the project folder (then back where the test was)."""
        before = Path.cwd()
        os.chdir(self.root)
        try:
            yield
        finally:
            os.chdir(before)

    def _file(self, address: str) -> Path:
        return self.root / self.settings.pages_dir / f"{address}.yaml"

    def write(self, address: str, text: str) -> None:
        self._file(address).parent.mkdir(parents=True, exist_ok=True)
        self._file(address).write_text(text)

    def move(self, old: str, new: str) -> None:
        self._file(old).rename(self._file(new))

    def remove(self, address: str) -> None:
        self._file(address).unlink()

    def apply(self, mode: str = "auto") -> Plan:
        with self.here():
            shown, result = workflows.apply(replace(self.settings, refresh=mode), workflows.ApplyRequest(),
                                            lambda _plan: True, Quiet())
        assert result is None or not result.failed, result.failed
        return shown

    def plan(self, mode: str, targets: tuple[str, ...] = ()) -> Plan:
        with self.here():
            return workflows.plan(replace(self.settings, refresh=mode), targets)

    def state(self) -> State:
        with self.here():
            return workflows.backend(self.settings).read(self.settings.target.state_key)

    def backend(self) -> LockfileBackend:
        with self.here():
            store = workflows.backend(self.settings)
        assert isinstance(store, LockfileBackend)
        return store

    def with_client(self, work: Callable[[Pages], Awaitable[T]]) -> T:
        async def run() -> T:
            async with open_client(self.settings) as client:
                return await work(client)

        with self.here():
            return asyncio.run(run())

    def emulator(self) -> Emulator:
        return Emulator(self.root / self.settings.state_dir / "emulator.db")

    def copy(self, root: Path) -> Rig:
        shutil.copytree(self.root, root)
        return replace(self, root=root)

    # --- unmanaged pages, straight into the emulator's store ---

    def seed_v2(self, token: str, count: int, prefix: str) -> None:
        emulator = self.emulator()
        try:
            for i in range(count):
                emulator.store.create_page(tokens=[token], name=None, slug=f"{prefix}-{i}", config={},
                                           edit_token=v2_choices.new_edit_token(), today="2026-01-05")
        finally:
            emulator.close()

    def seed_v3(self, grant: str, count: int, prefix: str) -> None:
        emulator = self.emulator()
        config = checked(dict(V3_CONFIG), grant)
        try:
            with emulator.v3.store.transaction() as conn:
                for i in range(count):
                    v3_store.insert_configuration(conn, grant, {**config, "slug": f"{prefix}-{i}"})
        finally:
            emulator.close()


def plan_json(plan: Plan) -> str:
    """The plan's JSON without its ``refresh`` figures: what must not depend on how pages were read."""
    doc = json.loads(render_plan(plan, "json"))
    assert doc.pop("refresh")["mode"] in ("auto", "list", "page")
    return json.dumps(doc, indent=2, sort_keys=True)


async def edit(client: Pages, handle: Any, change: Callable[[dict[str, Any]], None], *,
               owner: tuple[SecretStr, ...] | None = None, changed: list[str] | None = None) -> None:
    """An edit made outside provisioner: read the page, change its config, write it back."""
    page = await client.get(handle)
    config = json.loads(json.dumps(page.config))
    change(config)
    await client.update(handle, name=page.name, slug=page.slug, config=config, owner=owner, changed=changed)
