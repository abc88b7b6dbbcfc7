"""Fixtures of the tiles tests: the API over a fresh log on each database."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

sys.path.insert(0, str(Path(__file__).resolve().parent))

from tileslog import Served  # noqa: E402

from foodtrace.api.app import create_app  # noqa: E402
from foodtrace.config import Settings  # noqa: E402
from foodtrace.store import db  # noqa: E402


@pytest.fixture
def served(db_url: str, tmp_path: Path) -> Iterator[Served]:
    settings = Settings(data_dir=tmp_path / "var", log_origin="tiles.test/log")
    db.migrate(db_url)
    engine = db.make_engine(db_url)
    app = create_app(settings, engine=engine)
    with TestClient(app) as client:
        yield Served(client, app.state.log, settings)
    engine.dispose()
