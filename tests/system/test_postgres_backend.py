"""The PostgreSQL state backend against a real server, in one process.

The first half is the state contract, run on both backends (lockfile and PostgreSQL) so that they
cannot drift apart; the second half is what only PostgreSQL has: rows, commits, schema, targets.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from pydantic import SecretStr

from provisioner.errors import LockHeld, StateError
from provisioner.secrets import Sealer, keygen
from provisioner.state import Holder, LockfileBackend, Resource, StateBackend

API = "https://api.example.test"
HOLDER = Holder(host="test-host", pid=4242, started="2024-01-01T00:00:00+00:00", ci_job_url="https://ci.test/j/1")


def token(n: int) -> SecretStr:
    return SecretStr(f"edit-token-secret-{n:04d}-xyzzy")


def page(address: str, n: int = 1, **changes: object) -> Resource:
    fields: dict[str, object] = dict(
        address=address, id=1000 + n, slug=f"slug-{n}", edit_token=token(n), name=f"Page {n}",
        config={"event": {"title": f"Réunion {n}", "duration": 30, "tags": ["a", None]}, "locale": "en"},
        tokens_digest=f"digest{n}",
    )
    fields.update(changes)
    return Resource(**fields)  # type: ignore[arg-type]


@pytest.fixture
def key() -> str:
    return keygen()


Factory = Callable[..., StateBackend]


@pytest.fixture(params=["lockfile", "postgres"])
def make(request: pytest.FixtureRequest, tmp_path: Path, key: str) -> Factory:
    """Makes backends on one state: each call is a fresh backend (nothing cached), same key by default."""
    if request.param == "lockfile":
        return lambda sealer=None: LockfileBackend(tmp_path / "pages.lock", sealer or Sealer(key))
    from provisioner.state.postgres import PostgresBackend

    dsn, schema = request.getfixturevalue("pg_dsn"), request.getfixturevalue("pg_schema")
    return lambda sealer=None: PostgresBackend(dsn, sealer or Sealer(key), "test", schema=schema)


def write(backend: StateBackend, *resources: Resource):
    with backend.transaction(API, HOLDER) as tx:
        for r in resources:
            tx.record(r)
    return backend.read(API)


# --- the contract, on both backends ---------------------------------------------------------------


def test_no_state_reads_as_empty_with_a_fresh_lineage(make: Factory):
    first, second = make().read(API), make().read(API)
    assert first.serial == 0 and first.resources == {} and first.pending_creates == {}
    assert uuid.UUID(first.lineage).version == 4 and first.lineage != second.lineage  # nothing was stored
    assert first.api_url == API


def test_round_trip_keeps_every_field(make: Factory):
    a = page("sales/demo", 1, prevent_destroy=True)
    b = page("support/intro", 2, name=None, tokens_digest=None, config={})
    write(make(), a, b)
    again = make().read(API)
    assert again.resources == {"sales/demo": a, "support/intro": b}
    assert again.resources["sales/demo"].edit_token.get_secret_value() == token(1).get_secret_value()
    assert again.serial == 1


def test_serial_moves_once_per_changing_transaction_and_lineage_stays(make: Factory):
    backend = make()
    first = write(backend, page("a", 1))
    assert first.serial == 1
    with backend.transaction(API, HOLDER):
        pass
    assert make().read(API).serial == 1
    assert write(backend, page("a", 1)).serial == 1  # recorded again, identical
    with backend.transaction(API, HOLDER) as tx:  # changed, then changed back
        tx.intend_create("b", "slug-b")
        tx.forget("b")
    assert make().read(API).serial == 1
    changed = write(backend, page("a", 1, config={"locale": "fr"}))
    assert changed.serial == 2 and changed.lineage == first.lineage
    with backend.transaction(API, HOLDER) as tx:
        tx.forget("a")
    gone = make().read(API)
    assert gone.serial == 3 and gone.lineage == first.lineage and gone.resources == {}


def test_a_different_api_url_is_refused(make: Factory):
    backend = make()
    write(backend, page("a", 1))
    with pytest.raises(StateError) as err:
        backend.read("https://other.example.test")
    assert str(err.value).startswith(f"{backend.location} belongs to {API}, not https://other.example.test")
    with pytest.raises(StateError, match="belongs to"):
        with backend.transaction("https://other.example.test", HOLDER):
            pytest.fail("a transaction began on another API's state")
    assert backend.read(API + "/").serial == 1  # a trailing slash is the same API


def test_transaction_state_reflects_every_step_and_reads_see_progress(make: Factory):
    backend = make()
    write(backend, page("old", 1))
    with backend.transaction(API, HOLDER) as tx:
        tx.intend_create("new", "slug-2")
        assert tx.state.pending_creates == {"new": "slug-2"}
        assert make().read(API).pending_creates == {"new": "slug-2"}
        tx.record(page("new", 2))
        tx.move("old", "renamed")
        assert set(tx.state.resources) == {"new", "renamed"} and tx.state.pending_creates == {}
        seen = make().read(API)  # a plan during the apply sees its progress, at the serial it will be folded into
        assert set(seen.resources) == {"new", "renamed"} and seen.resources["renamed"].address == "renamed"
        assert seen.serial == 2 and seen.pending_creates == {}
    final = make().read(API)
    assert final.serial == 2 and final.resources["renamed"].id == 1001


def test_move_and_forget_refuse_unknown_addresses_and_write_nothing(make: Factory):
    backend = make()
    write(backend, page("a", 1), page("b", 2))
    with backend.transaction(API, HOLDER) as tx:
        with pytest.raises(StateError, match="cannot move nope: it is not in"):
            tx.move("nope", "c")
        with pytest.raises(StateError, match="b is already in"):
            tx.move("a", "b")
        with pytest.raises(StateError, match="cannot forget nope"):
            tx.forget("nope")
    assert make().read(API).serial == 1


def test_steps_are_kept_when_the_apply_fails(make: Factory):
    backend = make()
    with pytest.raises(RuntimeError, match="boom"):
        with backend.transaction(API, HOLDER) as tx:
            tx.record(page("a", 1))
            tx.intend_create("b", "slug-2")
            raise RuntimeError("boom")
    state = make().read(API)
    assert set(state.resources) == {"a"} and state.pending_creates == {"b": "slug-2"} and state.serial == 1
    with backend.transaction(API, HOLDER) as tx:  # the next apply resolves the pending create
        assert tx.state.pending_creates == {"b": "slug-2"}
        tx.record(page("b", 2))
    state = make().read(API)
    assert state.pending_creates == {} and set(state.resources) == {"a", "b"} and state.serial == 2


def test_a_second_transaction_is_refused_naming_the_holder(make: Factory):
    backend = make()
    with backend.transaction(API, HOLDER):
        with pytest.raises(LockHeld) as err:
            with make().transaction(API, Holder(host="other", pid=1, started="now")):
                pytest.fail("two transactions at once")
        assert make().read(API).serial == 0  # reads take no lock
    message = str(err.value)
    assert message.startswith(f"{backend.location} is locked by an apply: pid 4242 on test-host, since 2024")
    assert "https://ci.test/j/1" in message
    assert err.value.holder == HOLDER
    with make().transaction(API, HOLDER):  # released on exit
        pass


def test_a_transaction_cannot_be_used_after_it_ends(make: Factory):
    with make().transaction(API, HOLDER) as tx:
        pass
    with pytest.raises(StateError, match="has ended"):
        tx.record(page("a", 1))


def test_state_sealed_with_another_key_is_refused_without_leaking(make: Factory):
    write(make(), page("a", 1))
    with pytest.raises(StateError) as err:
        make(Sealer(keygen())).read(API)
    assert "PROVISIONER_LOCK_KEY" in str(err.value) and "edit token of a" in str(err.value)
    assert "xyzzy" not in str(err.value) and "xyzzy" not in repr(err.value)


# --- PostgreSQL only -------------------------------------------------------------------------------


@pytest.fixture
def pg(pg_dsn: str, pg_schema: str, key: str):
    from provisioner.state.postgres import PostgresBackend

    return lambda target="test", sealer=None: PostgresBackend(pg_dsn, sealer or Sealer(key), target,
                                                             schema=pg_schema)


def test_reading_creates_nothing_and_a_transaction_creates_the_versioned_schema(pg, pg_schema, pg_query):
    exists = "SELECT to_regclass(%s) IS NOT NULL"
    pg().read(API)
    assert pg_query(exists, (f"{pg_schema}.states",)) == [(False,)]
    with pg().transaction(API, HOLDER):
        pass
    assert pg_query(exists, (f"{pg_schema}.states",)) == [(True,)]
    assert pg_query(f"SELECT version FROM {pg_schema}.meta") == [(2,)]
    pg_query(f"UPDATE {pg_schema}.meta SET version = 3")
    for attempt in (lambda: pg().read(API), lambda: pg().transaction(API, HOLDER).__enter__()):
        with pytest.raises(StateError, match="schema version 3, but this provisioner knows version 2; upgrade"):
            attempt()


def test_one_row_per_page_with_tokens_sealed_never_in_clear(pg, pg_schema, pg_query, key):
    backend = pg()
    with backend.transaction(API, HOLDER) as tx:
        for n in range(5):
            tx.intend_create(f"p/{n}", f"slug-{n}")
            tx.record(page(f"p/{n}", n))
    dump = pg_query(f"SELECT address, edit_token, row_to_json(p)::text FROM {pg_schema}.pages p ORDER BY address")
    assert [row[0] for row in dump] == [f"p/{n}" for n in range(5)]
    everything = json.dumps(pg_query(f"SELECT row_to_json(s)::text FROM {pg_schema}.states s")) + json.dumps(dump)
    assert "xyzzy" not in everything and "edit-token-secret" not in everything
    for n, (_, sealed, _) in enumerate(dump):  # sealed as in the lockfile: the same key opens it
        assert Sealer(key).unseal(sealed).get_secret_value() == token(n).get_secret_value()
    sealed_before = {row[0]: row[1] for row in dump}
    write(pg(), page("p/0", 0, name="Renamed"))  # a fresh backend keeps unchanged tokens' sealed bytes
    after = dict(pg_query(f"SELECT address, edit_token FROM {pg_schema}.pages"))
    assert after == sealed_before


def test_each_step_is_committed_before_it_returns(pg, pg_schema, pg_query):
    states = f"SELECT serial, pending_creates, dirty FROM {pg_schema}.states WHERE target = 'test'"
    pages = f"SELECT address, slug FROM {pg_schema}.pages ORDER BY address"
    with pg().transaction(API, HOLDER) as tx:
        assert pg_query(states) == [(0, {}, False)]
        tx.intend_create("a", "slug-a")
        assert pg_query(states) == [(0, {"a": "slug-a"}, True)]  # seen from another connection
        tx.record(page("a", 1))
        assert pg_query(states) == [(0, {}, True)] and pg_query(pages) == [("a", "slug-1")]
        tx.move("a", "b")
        assert pg_query(pages) == [("b", "slug-1")]
    assert pg_query(states) == [(1, {}, False)]


def test_targets_are_independent_states_with_independent_locks(pg):
    write(pg("staging"), page("a", 1))
    with pg("staging").transaction(API, HOLDER):
        with pg("production").transaction("https://prod.example.test", HOLDER) as tx:
            tx.record(page("b", 2))
    staging, production = pg("staging").read(API), pg("production").read("https://prod.example.test")
    assert set(staging.resources) == {"a"} and set(production.resources) == {"b"}
    assert staging.lineage != production.lineage and staging.serial == production.serial == 1


def test_the_dsn_never_shows_in_messages(pg_schema, key):
    from provisioner.state.postgres import PostgresBackend

    backend = PostgresBackend("postgresql://who:s3cret-pw@127.0.0.1:1/nodb", Sealer(key), "x", schema=pg_schema)
    with pytest.raises(StateError) as err:
        backend.read(API)
    assert str(err.value).startswith("cannot connect to postgresql://127.0.0.1:1/nodb target x")
    assert "s3cret-pw" not in str(err.value) and "s3cret-pw" not in repr(backend)


def test_two_addresses_on_one_page_id_or_an_address_outside_pages_are_refused(pg, pg_schema, pg_query):
    """What the lockfile refuses with its line, PostgreSQL refuses too: rows damaged by hand or a bad restore."""
    write(pg(), page("a", 1), page("b", 2))
    pg_query(f"UPDATE {pg_schema}.pages SET id = 1001 WHERE address = 'b'")
    with pytest.raises(StateError, match="addresses a and b both hold page 1001; .* delete one of the two rows"):
        pg().read(API)
    pg_query(f"UPDATE {pg_schema}.pages SET id = 1002, address = '../../outside' WHERE address = 'b'")
    with pytest.raises(StateError, match=r"address \.\./\.\./outside is not valid \(.*stay under pages/"):
        pg().read(API)
