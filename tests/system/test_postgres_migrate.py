"""`state migrate` between the lockfile and a real PostgreSQL: lossless both ways, never overwriting."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import SecretStr

from provisioner.errors import LockHeld, StateError
from provisioner.secrets import Sealer, keygen
from provisioner.state import Holder, LockfileBackend, Resource
from provisioner.state.migrate import migrate, open_backend

API = "https://api.example.test"
HOLDER = Holder(host="test-host", pid=4242, started="2024-01-01T00:00:00+00:00")


def page(address: str, n: int, **changes: object) -> Resource:
    fields: dict[str, object] = dict(
        address=address, id=1000 + n, slug=f"slug-{n}", edit_token=SecretStr(f"edit-token-{n}-xyzzy"),
        name=f"Page {n}", config={"event": {"title": f"Réunion {n} ✓", "duration": 30}, "n": [1.5, None, True]},
        tokens_digest=f"digest{n}",
    )
    fields.update(changes)
    return Resource(**fields)  # type: ignore[arg-type]


@pytest.fixture
def key() -> str:
    return keygen()


@pytest.fixture
def lockfile(tmp_path: Path, key: str) -> Path:
    """A lockfile at serial 3 with pages of every shape and a pending create."""
    path = tmp_path / "src" / "pages.lock"
    path.parent.mkdir()
    backend = LockfileBackend(path, Sealer(key))
    with backend.transaction(API, HOLDER) as tx:
        tx.record(page("sales/demo", 1, prevent_destroy=True))
        tx.record(page("support/intro", 2, name=None, tokens_digest=None, config={}))
    with backend.transaction(API, HOLDER) as tx:
        tx.record(page("old/name", 3))
    with backend.transaction(API, HOLDER) as tx:
        tx.move("old/name", "new/name")
        tx.intend_create("sales/pending", "slug-9")
    assert backend.read(API).serial == 3
    return path


@pytest.fixture
def pg(pg_dsn: str, pg_schema: str):
    from provisioner.state.postgres import PostgresBackend

    return lambda sealer, target="prod": PostgresBackend(pg_dsn, sealer, target, schema=pg_schema)


def test_file_to_postgres_to_file_is_byte_identical(lockfile: Path, tmp_path: Path, key: str, pg, pg_query):
    seal = Sealer(key)  # one sealer for both sides, as the CLI has
    source = open_backend(str(lockfile), seal)
    original = source.read(API)
    moved = migrate(source, pg(seal), API, HOLDER)
    assert moved == original

    in_pg = pg(Sealer(key)).read(API)  # a fresh backend and sealer: what another process would see
    assert in_pg == original
    assert (in_pg.lineage, in_pg.serial, in_pg.pending_creates) == (original.lineage, 3, {"sales/pending": "slug-9"})
    sealed_in_file = {a: p["edit_token"] for a, p in json.loads(lockfile.read_text())["pages"].items()}
    schema = pg(Sealer(key)).schema
    assert dict(pg_query(f"SELECT address, edit_token FROM {schema}.pages")) == sealed_in_file

    fresh = Sealer(key)  # the way back, as a separate run would do it: nothing remembered from the way in
    back = tmp_path / "back" / "pages.lock"
    back.parent.mkdir()
    migrate(pg(fresh), open_backend(str(back), fresh), API, HOLDER)
    assert back.read_bytes() == lockfile.read_bytes()
    assert source.read(API) == original  # the source is left as it was


def test_postgres_refuses_to_be_overwritten(lockfile: Path, key: str, pg):
    target = pg(Sealer(key))
    with target.transaction(API, HOLDER) as tx:
        tx.record(page("already/here", 7))
    before = target.read(API)
    with pytest.raises(StateError) as err:
        migrate(open_backend(str(lockfile), Sealer(key)), target, API, HOLDER)
    assert str(err.value).startswith(f"{target.location} already holds state (serial 1, 1 page(s)); migrate never")
    assert target.read(API) == before


def test_a_lockfile_refuses_to_be_overwritten(lockfile: Path, tmp_path: Path, key: str, pg):
    migrate(open_backend(str(lockfile), Sealer(key)), pg(Sealer(key)), API, HOLDER)
    existing = tmp_path / "other.lock"
    existing.write_text("{}\n")  # any file there is state we will not clobber, valid or not
    with pytest.raises(StateError, match="already holds state \\(other.lock exists\\)"):
        migrate(pg(Sealer(key)), open_backend(str(existing), Sealer(key)), API, HOLDER)
    assert existing.read_text() == "{}\n"


def test_nothing_to_migrate_and_migrating_onto_itself_are_refused(tmp_path: Path, lockfile: Path, key: str, pg):
    with pytest.raises(StateError, match="has no state yet: there is nothing to migrate"):
        migrate(pg(Sealer(key), "empty"), open_backend(str(tmp_path / "new.lock"), Sealer(key)), API, HOLDER)
    assert not (tmp_path / "new.lock").exists()
    with pytest.raises(StateError, match="onto itself"):
        migrate(open_backend(str(lockfile), Sealer(key)), open_backend(str(lockfile), Sealer(key)), API, HOLDER)


def test_state_for_another_api_is_refused(lockfile: Path, key: str, pg):
    with pytest.raises(StateError, match="belongs to"):
        migrate(open_backend(str(lockfile), Sealer(key)), pg(Sealer(key)), "https://other.test", HOLDER)
    assert pg(Sealer(key)).read(API).serial == 0


def test_a_target_being_applied_to_is_refused(lockfile: Path, key: str, pg):
    target = pg(Sealer(key))
    with target.transaction(API, Holder(host="ci", pid=77, started="now")):
        with pytest.raises(LockHeld, match="pid 77 on ci"):
            migrate(open_backend(str(lockfile), Sealer(key)), pg(Sealer(key)), API, HOLDER)
    assert target.read(API).serial == 0


def test_open_backend_maps_dsns_to_postgres_and_anything_else_to_a_lockfile(tmp_path: Path, key: str):
    from provisioner.state.postgres import PostgresBackend

    for dsn in ("postgresql://u:pw@db.example.test:5433/state", "postgres://db.example.test/state"):
        backend = open_backend(dsn, Sealer(key), target="staging")
        assert isinstance(backend, PostgresBackend) and backend.target == "staging"
        assert "pw" not in backend.location and "db.example.test" in backend.location
    lock = open_backend(str(tmp_path / "pages.lock"), Sealer(key))
    assert isinstance(lock, LockfileBackend) and lock.path == tmp_path / "pages.lock"
