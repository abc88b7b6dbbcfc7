"""Throwaway databases for tests: a SQLite file, or a new PostgreSQL database on the local
server (127.0.0.1:5432, trust auth) created from the maintenance database ``test`` and
dropped afterwards, so tests and parallel workers never see each other's rows."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg

PG_ADMIN_DSN = os.environ.get(
    "FOODTRACE_TEST_PG", "host=127.0.0.1 port=5432 user=postgres dbname=test"
)


def pg_url(name: str) -> str:
    params = dict(p.split("=", 1) for p in PG_ADMIN_DSN.split())
    return (
        f"postgresql+psycopg://{params.get('user', 'postgres')}@"
        f"{params.get('host', '127.0.0.1')}:{params.get('port', '5432')}/{name}"
    )


@contextlib.contextmanager
def database(kind: str, tmp: Path) -> Iterator[str]:
    """A new empty database of ``kind`` (``sqlite`` or ``postgresql``), dropped afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp / 'foodtrace.db'}"
        return
    name = f"ft_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield pg_url(name)
    finally:
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
