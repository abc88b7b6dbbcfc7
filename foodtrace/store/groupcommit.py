"""Group commit: one writer thread per log batches concurrent submissions.

The writer takes up to ``batch_max_entries`` entries or ``batch_max_wait_s`` after the first
into one transaction, and a caller's future resolves only after that transaction committed.
Each submitted *group* is all-or-nothing; projectors run in the same transaction under a
savepoint, so a failing projector rejects its own group and nothing else. Several writers
(processes) on one database serialise on a lock and re-read the tree's right edge when
someone else appended. On SQLite a second thread checkpoints the WAL off the writer's path.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session

from foodtrace.observe import metrics
from foodtrace.store import appendsql, db
from foodtrace.store.leaves import Group, GroupResult, Leaves, Projector, Record, as_records
from foodtrace.trace import layout

_log = logging.getLogger("foodtrace.store.log")  # the name its warnings always had

WRITER_LOCK_KEY = 0x46545F4C4F47  # "FT_LOG": PostgreSQL advisory lock serialising writers
WAL_CHECKPOINT_EVERY_S = 0.5


def _in_transaction(conn: Connection) -> bool:
    """Whether the driver's connection is still inside a transaction (SQLite ends it itself
    on some errors, whatever SQLAlchemy believes)."""
    return bool(getattr(conn.connection.dbapi_connection, "in_transaction", True))


class Pending:
    __slots__ = ("count", "future", "groups", "leaves", "queued_at")

    def __init__(
        self,
        groups: list[tuple[list[Record], tuple[Projector, ...]]],
        future: Future[Any],
        leaves: Leaves | None = None,
    ) -> None:
        self.groups = groups
        self.future = future
        self.leaves = leaves
        self.count = len(leaves.datas) if leaves else sum(len(g) for g, _ in groups)
        self.queued_at = time.monotonic()


class GroupCommit:
    """The writer side of :class:`~foodtrace.store.log.MerkleLog` (a mixin: the log
    provides the engine and batch limits declared below)."""

    engine: Engine
    sqlite: bool
    batch_max_entries: int
    batch_max_wait_s: float

    def _init_writer(self) -> None:
        self._queue: queue.Queue[Pending | None] = queue.Queue()
        self._writer: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._edge: layout.Edge | None = None
        self._closed = threading.Event()
        self._dirty = threading.Event()
        self._wal_thread: threading.Thread | None = None

    def _stop_writer(self) -> None:
        """Finish queued appends and stop the writer (and the WAL thread)."""
        with self._start_lock:
            if self._writer is not None:
                self._queue.put(None)
                self._writer.join()
                self._writer = None
            self._closed.set()
            if self._wal_thread is not None:
                self._wal_thread.join()
                self._wal_thread = None

    def writer_running(self) -> bool:
        """Whether this process's writer thread runs (it starts with the first append)."""
        writer = self._writer
        return writer is not None and writer.is_alive()

    def queued(self) -> int:
        """Submissions waiting for the writer thread."""
        return self._queue.qsize()

    def _enqueue(self, pending: Pending) -> None:
        with self._start_lock:
            if self._closed.is_set():
                raise RuntimeError("the log is closed")
            if self._writer is None:
                self._writer = threading.Thread(target=self._run, name="log-writer", daemon=True)
                self._writer.start()
                if self.sqlite and self._wal_thread is None:
                    self._wal_thread = threading.Thread(
                        target=self._wal_checkpoints, name="log-wal", daemon=True
                    )
                    self._wal_thread.start()
            self._queue.put(pending)

    def _run(self) -> None:
        conn = db.writer_engine(self.engine).connect()
        if self.sqlite:
            conn.exec_driver_sql("PRAGMA wal_autocheckpoint=0")  # the WAL thread does it
            conn.commit()
        try:
            stop = False
            while not stop:
                first = self._queue.get()
                if first is None:
                    break
                batch, count = [first], first.count
                deadline = time.monotonic() + self.batch_max_wait_s
                while count < self.batch_max_entries:
                    try:
                        item = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
                    except queue.Empty:
                        break
                    if item is None:
                        stop = True
                        break
                    batch.append(item)
                    count += item.count
                self._commit(conn, batch)
        finally:
            conn.close()

    def integrate(
        self,
        conn: Connection,
        groups: Sequence[tuple[Group, Sequence[Projector]] | Leaves],
        before_commit: Callable[[Connection, list[GroupResult]], None],
    ) -> list[GroupResult]:
        """Append ``groups`` in one transaction on the caller's connection, now, and return
        per group its indices or the exception that rejected it. A group is either entries
        with their projectors (all-or-nothing) or :class:`Leaves` (already checked entries
        nothing can reject, inserted in bulk). ``before_commit`` runs last inside that
        transaction with those results: the sequencer records outcomes and checks its fencing
        token there, so both commit with the entries or not at all (it raises to roll
        everything back)."""
        batch: list[Pending] = []
        for g in groups:
            if isinstance(g, Leaves):
                batch.append(Pending([], Future(), g))
            else:
                batch.append(Pending([(as_records(g[0]), tuple(g[1]))], Future()))

        def flat(results: list[list[GroupResult] | range]) -> list[GroupResult]:
            return [r if isinstance(r, range) else r[0] for r in results]

        self._commit(conn, batch, lambda c, res: before_commit(c, flat(res)))
        return flat([item.future.result() for item in batch])

    def _commit(
        self,
        conn: Connection,
        batch: list[Pending],
        before_commit: Callable[[Connection, list[list[GroupResult] | range]], None] | None = None,
    ) -> None:
        results: list[list[GroupResult] | range] = []
        try:
            with conn.begin():
                if not self.sqlite:
                    conn.exec_driver_sql("SELECT pg_advisory_xact_lock(%s)", (WRITER_LOCK_KEY,))
                size = appendsql.stored_size(conn)
                if self._edge is None or self._edge.size != size:
                    self._edge = appendsql.load_edge(conn, self.sqlite, size)
                edge = layout.Edge(size, [list(p) for p in self._edge.partial])
                session: Session | None = None
                accepted: list[Record] = []  # in index order
                inserted = 0  # how many of them are in the database already
                hashes: list[bytes] = []
                for item in batch:
                    if item.leaves is not None:
                        appendsql.insert_records(
                            conn, self.sqlite, accepted[inserted:], size + inserted
                        )
                        hashes += [r.hash for r in accepted]
                        size += len(accepted)  # rebase: ``accepted`` restarts empty
                        accepted, inserted = [], 0
                        appendsql.insert_leaves(conn, self.sqlite, item.leaves, size)
                        hashes += item.leaves.hashes
                        results.append(range(size, size + item.count))
                        size += item.count
                        continue
                    item_results: list[GroupResult] = []
                    if not any(projectors for _, projectors in item.groups):
                        # Fast path: nothing can reject a group, so no savepoints.
                        for records, _ in item.groups:
                            start = size + len(accepted)
                            accepted += records
                            item_results.append(range(start, start + len(records)))
                        results.append(item_results)
                        continue
                    for records, projectors in item.groups:
                        start = size + len(accepted)
                        if projectors:
                            appendsql.insert_records(
                                conn, self.sqlite, accepted[inserted:], size + inserted
                            )
                            inserted = len(accepted)
                            session = session or Session(bind=conn, autoflush=True)
                            try:
                                self._project(session, conn, records, projectors, start)
                            except Exception as exc:
                                if self.sqlite and not _in_transaction(conn):
                                    # SQLite rolled the whole transaction back itself (it
                                    # does on SQLITE_FULL): the rest of the batch would run
                                    # in autocommit, half-written. Fail the batch whole.
                                    raise
                                if conn.invalidated:
                                    # The server went away mid-batch (a restart): nothing of
                                    # the transaction survives, so no group may be told it
                                    # was stored, nor another one be tried on this
                                    # connection. Fail the batch whole, an outage (503).
                                    raise
                                item_results.append(exc)
                                continue
                            inserted += len(records)
                        accepted += records
                        item_results.append(range(start, start + len(records)))
                    results.append(item_results)
                appendsql.insert_records(conn, self.sqlite, accepted[inserted:], size + inserted)
                if session is not None:
                    session.flush()
                    session.close()
                hashes += [r.hash for r in accepted]
                appendsql.write_tiles(conn, self.sqlite, edge.extend(hashes))
                if before_commit is not None:
                    before_commit(conn, results)
            self._edge = edge
            self._dirty.set()
            now = time.monotonic()
            metrics.appended(len(hashes), (now - item.queued_at for item in batch))
        except BaseException as exc:
            self._edge = None
            for item in batch:
                if not item.future.done():
                    item.future.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
            return
        for item, res in zip(batch, results, strict=True):
            item.future.set_result(res)

    def _project(
        self,
        session: Session,
        conn: Connection,
        records: list[Record],
        projectors: tuple[Projector, ...],
        start: int,
    ) -> None:
        savepoint = session.begin_nested()
        try:
            session.connection()  # emits the SAVEPOINT now: the inserts below bypass the ORM
            appendsql.insert_records(conn, self.sqlite, records, start)
            for offset, record in enumerate(records):
                entry = record.entry()
                for project in projectors:
                    project(session, start + offset, entry)
            session.flush()
        except BaseException as exc:
            try:
                savepoint.rollback()
            except Exception:
                raise exc from None  # the transaction went with it: the first error says why
            raise
        savepoint.commit()

    def _wal_checkpoints(self) -> None:
        """Checkpoint the SQLite WAL off the writer's path (the writer disabled autocheckpoint)."""
        with self.engine.connect() as conn:
            while not self._closed.wait(WAL_CHECKPOINT_EVERY_S):
                if self._dirty.is_set():
                    self._dirty.clear()
                    self._wal_checkpoint(conn)
            self._wal_checkpoint(conn)

    def _wal_checkpoint(self, conn: Connection) -> None:
        try:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
            conn.commit()
        except Exception as exc:  # a full disk, say: the thread lives on and tries again
            conn.rollback()
            self._dirty.set()
            _log.warning("WAL checkpoint failed, will retry: %s", exc)
