"""Helpers of the observability tests: the API over a migrated database, and a stand-in
JSON-RPC node's call counter."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from foodtrace.api.app import create_app
from foodtrace.config import Settings
from foodtrace.store import db


def make_client(db_url: str, tmp_path: Path, **settings: Any) -> TestClient:
    db.migrate(db_url)
    engine = db.make_engine(db_url)
    app = create_app(Settings(data_dir=tmp_path / "var", **settings), engine=engine)
    return TestClient(app)


class RpcNode:
    """Answers ``eth_blockNumber`` like a node; counts the calls."""

    def __init__(self, block: int) -> None:
        self.block = block
        self.calls = 0
