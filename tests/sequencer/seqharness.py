"""A migrated PostgreSQL log with a bootstrapped regulator who signs ``party.register``
entries: the sequencer tests' workload (projected, and refused as 409 when repeated)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from recordharness import credit_code
from sqlalchemy import create_engine, text

from foodtrace.config import Settings
from foodtrace.party.service import init_regulator
from foodtrace.store.db import migrate, normalize_url
from foodtrace.store.log import MerkleLog
from foodtrace.trace import entry as entry_mod
from foodtrace.trace import keys
from foodtrace.trace.entry import Entry


@dataclass
class Regulator:
    party_id: str
    key: Ed25519PrivateKey
    token: str

    def party(self, n: int) -> Entry:
        """A ``party.register`` entry for party number ``n`` (the same ``n``: a duplicate)."""
        body: dict[str, Any] = {
            "party_id": f"pro-{n:06d}",
            "name": f"测试企业{n}",
            "kind": "producer",
            "credit_code": credit_code(100_000 + n),
            "region": "上海市崇明区",
            "public_keys": [keys.public_to_b64(keys.generate())],
        }
        return entry_mod.sign(self.key, type="party.register", author=self.party_id, body=body)


def settings_for(url: str, tmp_path: Path, **kw: Any) -> Settings:
    return Settings(
        data_dir=tmp_path / "var",
        database_url=url,
        log_origin="test.foodtrace/log",
        log_key_file=tmp_path / "log.key",
        **kw,
    )


def bootstrap(url: str, tmp_path: Path) -> Regulator:
    migrate(url, "heads")
    with MerkleLog(url, settings=settings_for(url, tmp_path), migrate=False) as log:
        boot = init_regulator(
            log,
            party_id="gov-sh",
            name="上海市市场监督管理局",
            credit_code=credit_code(0),
            key_file=tmp_path / "regulator.key",
        )
    return Regulator(boot.party_id, keys.read_private(boot.key_file), boot.token)


def queue(url: str, entries: list[Entry]) -> int:
    """Put a group on the queue as a worker does (tests that drive the sequencer by hand)."""
    leaves = json.dumps([e.leaf_data().decode() for e in entries])
    engine = create_engine(normalize_url(url))
    try:
        with engine.begin() as conn:
            return int(
                conn.execute(
                    text(
                        "INSERT INTO sequencer_queue (leaves, state, count, enqueued_at) "
                        "VALUES (:leaves, 0, :n, now()) RETURNING id"
                    ),
                    {"leaves": leaves, "n": len(entries)},
                ).scalar_one()
            )
    finally:
        engine.dispose()


def sql(url: str, statement: str, **params: Any) -> list[Any]:
    engine = create_engine(normalize_url(url))
    try:
        with engine.begin() as conn:
            result = conn.execute(text(statement), params)
            return list(result.all()) if result.returns_rows else []
    finally:
        engine.dispose()
