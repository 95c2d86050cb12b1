"""A converged world of N managed pages, written straight into the emulator's database and the lockfile.

Planning at scale needs thousands of managed pages; creating them through ``apply`` costs one POST
and one journal line each (minutes at 10,000). Here the page files are generated as the other
benchmarks generate them (v2: `tests.bench.common.generate`; v3: `tests.bench.plan_v3.page_file`),
loaded and validated by the engine's own loader, stored with the emulator's own store functions (as
its create endpoint stores a body: server defaults filled), and recorded in the lockfile as ``apply``
records a create (the live page's document, the keyed digest of its tokens). The benchmark checks
the result: a plan of the world must have no change.

The lockfile names the API URL, so the world is built for one URL (``http://127.0.0.1:PORT``) and
served on that port every time (`tests.bench.common.served` with ``port``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from provisioner.apis import V2, V3, LivePage, get_api

from .common import bench_env, generate

V3_API_KEY = "nyk_bench_refresh_key_Zp4q"  # the emulator takes any key; never printed
LOCKFILE = {V2: "pages.lock", V3: "pages.bench.lock"}  # what the CLI finds by default (v3: target "bench")


@dataclass(frozen=True)
class World:
    """A project folder (``pages/``, the lockfile, v3: ``provisioner.yaml``) and its emulator database."""

    api: str  # `provisioner.apis.V2` or `V3`
    root: Path
    url: str
    pages: int
    groups: int  # accounts (v2) or grants (v3) the pages are spread over, round-robin
    env: dict[str, str]  # page-file variables, lock key, v3 API key (secrets: never printed)

    @property
    def db(self) -> Path:
        return self.root / "emulator.db"

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    @property
    def lockfile(self) -> Path:
        return self.root / LOCKFILE[self.api]

    def settings(self, parallelism: int, **changes: Any) -> Any:
        """`workflows.Settings` of this world, as the CLI resolves them in ``root`` (then ``changes``)."""
        from provisioner import workflows
        from provisioner.safety import Limits

        settings = workflows.Settings(
            pages_dir=self.root / "pages", lockfile=self.lockfile, api_url=self.url, parallelism=parallelism,
            state_dir=self.root / ".provisioner", env=self.env, limits=Limits(max_deletes=0, max_changes_percent=100),
            api_name=self.api, **({"target_name": "bench", "known_targets": ("bench",)} if self.api == V3 else {}))
        return replace(settings, **changes)


def grant_of(i: int, grants: int) -> str:
    return f"bench-grant-{i % grants}"


def build(api: str, root: Path, pages: int, groups: int, url: str) -> World:
    """Write the page files, the emulator's pages and the lockfile of a converged world under ``root``."""
    from provisioner.secrets import keygen

    root.mkdir(parents=True, exist_ok=True)
    key = keygen()
    if api == V2:
        generate(root / "pages", pages, accounts=groups)
        env = bench_env(key, groups)
    else:
        from .plan_v3 import page_file

        for i in range(pages):
            folder = root / "pages" / f"group-{i // 100:03d}"
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"configuration-{i:05d}.yaml").write_text(page_file(i, groups))
        (root / "provisioner.yaml").write_text(f"api: nylas-v3\ntargets:\n  bench:\n    api: nylas-v3\n"
                                               f"    api_url: {url}\n")
        env = {"NYLAS_API_KEY": V3_API_KEY, "PROVISIONER_LOCK_KEY": key}
    world = World(api, root, url, pages, groups, env)
    _seed(world)
    return world


def _seed(world: World) -> None:
    from provisioner.emulator import Emulator
    from provisioner.fileio import atomic_write
    from provisioner.load import load_pages
    from provisioner.plan import live_document
    from provisioner.settings import sealer
    from provisioner.state.base import NO_TOKEN, Resource, State
    from provisioner.state.lockfile import LockfileBackend

    settings = world.settings(parallelism=1)
    api = get_api(world.api)
    desired = load_pages(settings.pages_dir, world.env, api=api)
    seal = sealer(settings)
    emulator = Emulator(world.db)
    try:
        lives = _store_v2(emulator, desired) if world.api == V2 else _store_v3(emulator, desired)
    finally:
        emulator.close()
    resources = {}
    for address, page in desired.items():
        live = lives[address]
        doc = live_document(live, api)
        digest = seal.digest(page.access_tokens) if api.owner_is_secret else None
        resources[address] = Resource(address, live.id, live.slug, live.handle.edit_token or NO_TOKEN, doc["name"],
                                      doc["config"], digest, page.prevent_destroy, grant=live.handle.grant)
    state = State(lineage=str(uuid.uuid4()), serial=1, api_url=settings.target.state_key, resources=resources)
    atomic_write(world.lockfile, LockfileBackend(world.lockfile, seal).render_chunks(state))


def _store_v2(emulator: Any, desired: dict[str, Any]) -> dict[str, LivePage]:
    """Each page as ``POST /manage/pages`` stores it (`emulator.app.create_page`), read back as the client does."""
    from provisioner.apis.nylas_v2 import model, spec
    from provisioner.apis.nylas_v2.api import live
    from provisioner.apis.nylas_v2.emulator import choices
    from provisioner.apis.nylas_v2.emulator.wire import page_json

    out = {}
    for address, page in desired.items():
        config = spec.fill_server_defaults(model.dump_config(model.Config.model_validate(page.config)))
        record = emulator.store.create_page(tokens=[t.get_secret_value() for t in page.access_tokens],
                                            name=page.name, slug=page.slug, config=config,
                                            edit_token=choices.new_edit_token(), today="2026-11-30")
        out[address] = live(model.Page.model_validate(page_json(record)))
    return out


def _store_v3(emulator: Any, desired: dict[str, Any]) -> dict[str, LivePage]:
    """Each configuration as ``POST …/scheduling/configurations`` stores it, read back as the client does."""
    from provisioner.apis.nylas_v3.api import live
    from provisioner.apis.nylas_v3.client import LiveConfiguration
    from provisioner.apis.nylas_v3.emulator import store as st
    from provisioner.apis.nylas_v3.emulator.configurations import checked
    from provisioner.apis.nylas_v3.emulator.context import configuration_json

    out = {}
    with emulator.v3.store.transaction() as conn:
        for address, page in desired.items():
            body = {**page.config, "slug": page.slug, **({"name": page.name} if page.name is not None else {})}
            record = st.insert_configuration(conn, page.grant, checked(body, page.grant))
            out[address] = live(LiveConfiguration.from_wire(configuration_json(record)), page.grant)
    return out


__all__ = ["V2", "V3", "World", "build", "grant_of"]
