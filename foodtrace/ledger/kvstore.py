"""A py-evm key-value database kept in one SQLite file, committed one block at a time.

py-evm writes trie nodes, headers, receipts and the canonical-head pointer as loose
key-value pairs while it applies transactions and mines a block. If those went straight to
disk, a crash in the middle of a block would leave a half-written block (a head pointer
without its body, or state without its header). So writes collect in an in-memory overlay
and :meth:`SQLiteKV.commit` flushes them in a single SQLite transaction once a block is
mined: after a kill -9 the file holds either the whole block or none of it.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from eth.abc import AtomicWriteBatchAPI
from eth.db.atomic import AtomicDBWriteBatch
from eth.db.backends.base import BaseAtomicDB

_DELETED = None  # an overlay value meaning "deleted since the last commit"


class SQLiteKV(BaseAtomicDB):
    """py-evm's atomic database interface over a SQLite table, with commit-on-demand.

    Reads see uncommitted writes; nothing reaches the file until :meth:`commit`. One
    process at a time may open a file (the caller holds a lock; see ``chain.py``).
    """

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        # The chain may be driven from a worker thread; access is serialised by _lock.
        self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode=WAL")
        # FULL: a block reported as mined is on disk even if the machine loses power.
        self._conn.execute("PRAGMA synchronous=FULL")
        self._conn.execute(
            "CREATE TABLE IF NOT EXISTS kv (key BLOB PRIMARY KEY, value BLOB NOT NULL) "
            "WITHOUT ROWID"
        )
        self._overlay: dict[bytes, bytes | None] = {}
        self._lock = threading.RLock()

    def __getitem__(self, key: bytes) -> bytes:
        with self._lock:
            if key in self._overlay:
                value = self._overlay[key]
                if value is _DELETED:
                    raise KeyError(key)
                return value
            row = self._conn.execute("SELECT value FROM kv WHERE key = ?", (key,)).fetchone()
        if row is None:
            raise KeyError(key)
        return bytes(row[0])

    def __setitem__(self, key: bytes, value: bytes) -> None:
        with self._lock:
            self._overlay[key] = bytes(value)

    def __delitem__(self, key: bytes) -> None:
        if not self._exists(key):
            raise KeyError(key)
        with self._lock:
            self._overlay[key] = _DELETED

    def _exists(self, key: bytes) -> bool:
        try:
            self[key]
        except KeyError:
            return False
        return True

    @contextmanager
    def atomic_batch(self) -> Iterator[AtomicWriteBatchAPI]:
        # py-evm batches its own writes; they land in the overlay and share the block's commit.
        with AtomicDBWriteBatch._commit_unless_raises(self) as batch:
            yield batch

    @property
    def uncommitted(self) -> int:
        """How many keys changed since the last commit."""
        return len(self._overlay)

    def commit(self) -> None:
        """Write every change since the last commit in one SQLite transaction."""
        with self._lock:
            if not self._overlay:
                return
            puts = [(k, v) for k, v in self._overlay.items() if v is not _DELETED]
            dels = [(k,) for k, v in self._overlay.items() if v is _DELETED]
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self._conn.executemany(
                    "INSERT INTO kv (key, value) VALUES (?, ?) "
                    "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                    puts,
                )
                self._conn.executemany("DELETE FROM kv WHERE key = ?", dels)
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._overlay.clear()

    def discard(self) -> None:
        """Forget uncommitted changes (e.g. a pending block that will not be mined)."""
        with self._lock:
            self._overlay.clear()

    def close(self) -> None:
        with self._lock:
            self._conn.close()
