"""Shared fixtures. Every test that touches the database runs on SQLite and PostgreSQL.

PostgreSQL tests each get a fresh database on the local server (127.0.0.1:5432, trust
auth), created from the maintenance database ``test`` and dropped afterwards, so tests
(and parallel workers) never see each other's rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from databases import database

TESTDATA = Path(__file__).resolve().parent / "data"


@pytest.fixture
def pg_url(tmp_path: Path) -> Iterator[str]:
    """A URL to a new, empty PostgreSQL database, dropped after the test."""
    with database("postgresql", tmp_path) as url:
        yield url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'foodtrace.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest) -> str:
    """Both backends: use this in every storage test."""
    name = "sqlite_url" if request.param == "sqlite" else "pg_url"
    url: str = request.getfixturevalue(name)
    return url


@pytest.fixture(scope="session")
def testdata() -> Path:
    """Golden data kept in the repository (``tests/data``; sources in its README)."""
    return TESTDATA
