"""Fixtures: a repository (API, log, producer token) on each backend."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from repos import Repository, open_repository


@pytest.fixture
def repository(db_url: str, tmp_path: Path) -> Iterator[Repository]:
    with open_repository(db_url, tmp_path / "var") as repo:
        yield repo
