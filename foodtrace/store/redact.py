"""Erasing values so they are gone from the database files, not only from query results.

A plain DELETE or ``UPDATE … = NULL`` leaves the old bytes in free space: SQLite reuses pages
lazily and keeps old page images in its WAL; PostgreSQL keeps the old tuple version until
VACUUM. So erasure overwrites the value first with filler of the same length (the cell is
rewritten in place), then clears or deletes it; SQLite connections run with
``secure_delete`` (see :mod:`foodtrace.store.db`) so freed cells are zeroed, and after the
erasure commits the WAL is checkpointed and truncated so no old page image survives there.

PostgreSQL, honestly: the overwrite and the DELETE each leave a dead tuple version holding
the previous bytes until autovacuum (or ``VACUUM``) marks the space reusable, and even then
the bytes stay in the data file until the page is rewritten; only ``VACUUM FULL`` rewrites
the table. WAL segments and backups keep them for their retention period.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from foodtrace.store.base import Base
from foodtrace.store.db import SQLITE_BUSY_TIMEOUT_MS

PURGE_ATTEMPTS = 5
PURGE_RETRY_S = 0.05
PURGE_BUSY_TIMEOUT_MS = 500


def _filler(value: object) -> object:
    if isinstance(value, str):
        return "0" * len(value.encode("utf-8"))  # same byte length (PostgreSQL text has no NUL)
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(len(value))
    return value


def overwrite(session: Session, row: Base, fields: Iterable[str]) -> None:
    """Overwrite ``fields`` of ``row`` with filler, flush, then set them to NULL."""
    names = list(fields)
    for name in names:
        setattr(row, name, _filler(getattr(row, name)))
    session.flush()
    for name in names:
        setattr(row, name, None)
    session.flush()


def overwrite_and_delete(session: Session, row: Base, fields: Iterable[str]) -> None:
    """Overwrite ``fields`` (as :func:`overwrite`), then delete the row."""
    overwrite(session, row, fields)
    session.delete(row)
    session.flush()


def purge_sqlite_wal(engine: Engine, attempts: int = PURGE_ATTEMPTS) -> bool:
    """Checkpoint and truncate a SQLite database's WAL so old page images of erased values
    are gone from it and from the main file's stale pages; True once it completed. A reader
    in the middle of a transaction makes a checkpoint stop short, so run it when the
    request's own session is closed (a background task) and it retries a few times (if all
    fail, the log's next checkpoints overwrite them). No-op elsewhere."""
    if engine.dialect.name != "sqlite":
        return True
    for attempt in range(attempts):
        raw = engine.raw_connection()  # autocommit: a checkpoint cannot run in a transaction
        try:
            cur = raw.cursor()
            cur.execute(f"PRAGMA busy_timeout={PURGE_BUSY_TIMEOUT_MS}")
            busy = cur.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cur.close()
        finally:
            raw.close()
        if busy is None or busy[0] == 0:
            return True
        time.sleep(PURGE_RETRY_S * (attempt + 1))
    return False
