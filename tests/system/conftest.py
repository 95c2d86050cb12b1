"""Fixtures for the PostgreSQL tests (all prefixed ``pg_``), against a real server.

The server comes from ``PROVISIONER_TEST_PG_DSN``, which `.ci/run` sets from ``.ci/postgres`` (a
throwaway cluster on loopback). Without it every PostgreSQL test is skipped, with that reason.
Each test gets its own schema, dropped afterwards, so tests never see each other's state.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

PG_DSN_ENV = "PROVISIONER_TEST_PG_DSN"


@pytest.fixture(scope="session")
def pg_dsn() -> str:
    dsn = os.environ.get(PG_DSN_ENV)
    if not dsn:
        pytest.fail(f"{PG_DSN_ENV} is not set: start a server with `eval \"$(.ci/postgres)\"` (.ci/run does)")
    return dsn


@pytest.fixture
def pg_schema(pg_dsn: str) -> Iterator[str]:
    """A schema name of this test's own; the schema (if the test made it) is dropped afterwards."""
    import psycopg

    name = f"t_{uuid.uuid4().hex[:16]}"
    yield name
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


@pytest.fixture
def pg_query(pg_dsn: str) -> Callable[..., list[tuple[Any, ...]]]:
    """Run one SQL statement on a fresh connection and return its rows (for looking at the tables)."""
    import psycopg

    def query(statement: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with psycopg.connect(pg_dsn, autocommit=True) as conn:
            cur = conn.execute(statement, params)  # type: ignore[arg-type]
            return cur.fetchall() if cur.description else []

    return query
