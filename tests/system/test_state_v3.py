"""v3 records in both state backends (lockfile and PostgreSQL): a configuration id and its grant,
no edit token, with the same lineage, serial, journal and transactions as v2; and a PostgreSQL
database made before v3 (schema version 1) migrates forward with its v2 rows unchanged."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import SecretStr

from provisioner.secrets import Sealer, keygen
from provisioner.state import Holder, LockfileBackend, Resource, StateBackend

API = "nylas-v3:https://api.us.nylas.com"
HOLDER = Holder(host="test-host", pid=4242, started="2024-01-01T00:00:00+00:00")
CONFIG = {"participants": [{"email": "a@example.com", "is_organizer": True}],
          "availability": {"duration_minutes": 30}, "event_booking": {"title": "Demo"}}


def configuration(address: str, n: int = 1) -> Resource:
    return Resource(address=address, id=f"8f1c2b8e-0000-4000-8000-{n:012d}", slug=f"slug-{n}",
                    edit_token=SecretStr(""), name=f"Demo {n}", config=CONFIG, grant=f"grant-{n}")


@pytest.fixture(params=["lockfile", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> StateBackend:
    key = keygen()
    if request.param == "lockfile":
        return LockfileBackend(tmp_path / "pages.lock", Sealer(key))
    from provisioner.state.postgres import PostgresBackend

    return PostgresBackend(request.getfixturevalue("pg_dsn"), Sealer(key), "test",
                           schema=request.getfixturevalue("pg_schema"))


def test_v3_records_round_trip_with_serial_moves_and_forgets(backend: StateBackend):
    with backend.transaction(API, HOLDER) as tx:
        tx.intend_create("sales/demo", "slug-1")
        tx.record(configuration("sales/demo", 1))
        tx.record(configuration("sales/intro", 2))
    state = backend.read(API)
    assert state.serial == 1 and state.pending_creates == {}
    demo = state.resources["sales/demo"]
    assert (demo.id, demo.grant, demo.slug, demo.config) == ("8f1c2b8e-0000-4000-8000-000000000001", "grant-1",
                                                               "slug-1", CONFIG)
    assert demo.handle.grant == "grant-1" and demo.handle.edit_token is None
    with backend.transaction(API, HOLDER) as tx:
        tx.move("sales/demo", "sales/product-demo")
        tx.forget("sales/intro")
    state = backend.read(API)
    assert state.serial == 2 and list(state.resources) == ["sales/product-demo"]
    assert state.resources["sales/product-demo"].grant == "grant-1"


def test_a_v3_lockfile_is_version_2_and_holds_no_token(tmp_path: Path):
    backend = LockfileBackend(tmp_path / "pages.lock", Sealer(keygen()))
    with backend.transaction(API, HOLDER) as tx:
        tx.record(configuration("sales/demo"))
    doc = json.loads((tmp_path / "pages.lock").read_text())
    assert doc["version"] == 2 and doc["api_url"] == API
    assert doc["pages"]["sales/demo"] == {"id": "8f1c2b8e-0000-4000-8000-000000000001", "grant": "grant-1",
                                         "slug": "slug-1", "name": "Demo 1", "config": CONFIG,
                                         "prevent_destroy": False}


def test_a_postgres_state_of_schema_version_1_migrates_with_its_v2_rows(pg_dsn, pg_schema, pg_query):
    from provisioner.state.postgres import _MIGRATIONS, PostgresBackend

    key = keygen()
    sealer = Sealer(key)
    pg_query(f'CREATE SCHEMA "{pg_schema}"')
    pg_query(f"CREATE TABLE {pg_schema}.meta (one boolean PRIMARY KEY DEFAULT true CHECK (one), "
             "version integer NOT NULL)")
    pg_query(f"INSERT INTO {pg_schema}.meta (version) VALUES (1)")
    for statement in _MIGRATIONS[1]:
        pg_query(statement.format(s=pg_schema))
    pg_query(f"INSERT INTO {pg_schema}.states (target, lineage, serial, api_url) VALUES ('test', 'L', 3, %s)",
             ("https://api.schedule.nylas.com",))
    pg_query(f"INSERT INTO {pg_schema}.pages VALUES ('test', 'sales/demo', 1001, 'demo', 'Demo', %s, %s, 'd', false)",
             (sealer.seal(SecretStr("edit-token-1001")), json.dumps({"event": {"duration": 30}})))
    backend = PostgresBackend(pg_dsn, sealer, "test", schema=pg_schema)
    with backend.transaction("https://api.schedule.nylas.com", HOLDER):
        pass  # the first transaction migrates the schema
    assert pg_query(f"SELECT version FROM {pg_schema}.meta") == [(2,)]
    state = backend.read("https://api.schedule.nylas.com")
    demo = state.resources["sales/demo"]
    assert (state.lineage, state.serial) == ("L", 3)  # an empty transaction writes nothing
    assert (demo.id, demo.slug, demo.grant, demo.tokens_digest) == (1001, "demo", None, "d")
    assert demo.edit_token.get_secret_value() == "edit-token-1001"
