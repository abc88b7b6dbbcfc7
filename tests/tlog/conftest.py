"""Fixtures of the tiles tests: the API over a fresh log on each database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from tileslog import Served

from foodtrace.api.app import create_app
from foodtrace.config import Settings
from foodtrace.store import db


@pytest.fixture
def served(db_url: str, tmp_path: Path) -> Iterator[Served]:
    settings = Settings(data_dir=tmp_path / "var", log_origin="tiles.test/log")
    db.migrate(db_url)
    engine = db.make_engine(db_url)
    app = create_app(settings, engine=engine)
    with TestClient(app) as client:
        yield Served(client, app.state.log, settings)
    engine.dispose()
