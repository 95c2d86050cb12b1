"""A DSN's password never appears in a message, even when PostgreSQL quotes it back."""

from __future__ import annotations

import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from provisioner.errors import StateError
from provisioner.secrets import Sealer, keygen
from provisioner.state.postgres import PostgresBackend

PASSWORD = "zq7-Hunter2-never-shown"


def test_a_password_quoted_back_by_the_server_is_masked(pg_dsn: str):
    params = conninfo_to_dict(pg_dsn)
    # A role named like the password: the server's error quotes the role, and so the password.
    dsn = make_conninfo(**{**params, "user": PASSWORD, "password": PASSWORD})
    backend = PostgresBackend(dsn, Sealer(keygen()))
    with pytest.raises(StateError) as info:
        backend.read("http://127.0.0.1:1")
    assert "does not exist" in str(info.value) or "authentication" in str(info.value)
    assert PASSWORD not in str(info.value) and PASSWORD not in repr(backend)


def test_a_url_dsn_with_an_encoded_password_is_masked_in_both_forms(pg_dsn: str):
    params = conninfo_to_dict(pg_dsn)
    host, port = params.get("host", "127.0.0.1"), params.get("port", "5432")
    dsn = f"postgresql://zq7%40Hunter2:zq7%40Hunter2@{host}:{port}/{params.get('dbname', 'postgres')}"
    with pytest.raises(StateError) as info:
        PostgresBackend(dsn, Sealer(keygen())).read("http://127.0.0.1:1")
    assert "zq7" not in str(info.value)
