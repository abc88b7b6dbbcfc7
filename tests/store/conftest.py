"""A log on each backend, and an author with a registered key who signs entries."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from foodtrace.config import Settings
from foodtrace.store.authors import register_key
from foodtrace.store.log import MerkleLog
from foodtrace.trace import entry as entry_mod
from foodtrace.trace import keys


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "var", log_origin="test.foodtrace/log")


@pytest.fixture
def log(db_url: str, settings: Settings) -> Iterator[MerkleLog]:
    with MerkleLog(db_url, settings=settings, batch_max_wait_s=0.002) as log:
        yield log


@dataclass
class Author:
    party: str
    key: Ed25519PrivateKey

    def entry(self, n: int, **body: Any) -> entry_mod.Entry:
        return entry_mod.sign(
            self.key,
            type="event",
            author=self.party,
            body={"lot": f"LOT{n:06d}", "n": n, "where": "上海冷库", **body},
            issued_at="2025-03-01T08:00:00Z",
        )

    def line(self, n: int, **body: Any) -> bytes:
        return self.entry(n, **body).leaf_data()


@pytest.fixture
def author(log: MerkleLog) -> Author:
    key = keys.generate()
    register_key(log.engine, "farm-001", key.public_key())
    return Author("farm-001", key)
