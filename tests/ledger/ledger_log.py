"""A small log on a database plus a signing author, for the anchorer and verification tests."""

from __future__ import annotations

from pathlib import Path

from foodtrace.config import Settings
from foodtrace.store.db import migrate
from foodtrace.store.log import MerkleLog
from foodtrace.trace import entry as entry_mod
from foodtrace.trace import keys

ORIGIN = "anchor.test.foodtrace/log"
AUTHOR_KEY = keys.generate()


def make_settings(data_dir: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "data_dir": data_dir,
        "log_origin": ORIGIN,
        "anchor_every_entries": 1_000_000,
        "anchor_every_seconds": 3600.0,
        "anchor_confirmations": 0,
        "anchor_poll_seconds": 0.05,
        "anchor_backoff_max_seconds": 0.4,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def open_log(url: str, settings: Settings) -> MerkleLog:
    # Other steps' migrations are parallel branches until they are chained: upgrade them all.
    migrate(url, "heads")
    return MerkleLog(url, settings=settings, batch_max_wait_s=0.001, migrate=False)


def entry(n: int) -> entry_mod.Entry:
    return entry_mod.sign(
        AUTHOR_KEY,
        type="event",
        author="farm-001",
        body={"lot": f"LOT{n:06d}", "n": n, "where": "上海冷库"},
        issued_at="2025-03-01T08:00:00Z",
    )


def grow(log: MerkleLog, to_size: int) -> None:
    """Append entries until the log has ``to_size``."""
    start = log.size()
    if to_size > start:
        log.append([entry(n) for n in range(start, to_size)])
