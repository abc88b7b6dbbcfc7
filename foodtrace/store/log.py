"""The persistent Merkle log: group-committed appends, stored tiles, proofs, checkpoints.

One writer thread per :class:`MerkleLog` batches concurrent submissions into one
transaction (up to ``batch_max_entries`` entries or ``batch_max_wait_s`` after the first),
and a caller's future resolves only after that transaction committed. Each submitted
*group* is all-or-nothing; projectors run in the same transaction under a savepoint, so a
failing projector rejects its own group and nothing else. Several writers (processes) on one
database serialise on a lock and re-read the tree's right edge when someone else appended.

Reads never recompute subtrees: proofs and roots come from stored tiles
(:mod:`foodtrace.trace.layout`), one query per proof (:mod:`foodtrace.store.proofs`).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session

from foodtrace.config import Settings
from foodtrace.observe import metrics
from foodtrace.store import db
from foodtrace.store.proofs import TileReader
from foodtrace.store.tilecache import TileCache
from foodtrace.trace import entry as entry_mod
from foodtrace.trace import keys, layout
from foodtrace.trace.bundle import ProofBundle
from foodtrace.trace.checkpoint import Checkpoint, sign_checkpoint, verifier_key
from foodtrace.trace.entry import Entry
from foodtrace.trace.merkle import EMPTY_ROOT, Node, consistency_proof
from foodtrace.trace.merkle import perfect_nodes as _perfect_nodes

if TYPE_CHECKING:
    from foodtrace.store.audit import AuditReport

Projector = Callable[[Session, int, Entry], None]
"""Run inside the append transaction for each entry of a group: ``(session, index, entry)``."""

_sha256 = hashlib.sha256
_log = logging.getLogger(__name__)

WRITER_LOCK_KEY = 0x46545F4C4F47  # "FT_LOG": PostgreSQL advisory lock serialising writers
ROWS_PER_INSERT = 500
WAL_CHECKPOINT_EVERY_S = 0.5


def _in_transaction(conn: Connection) -> bool:
    """Whether the driver's connection is still inside a transaction (SQLite ends it itself
    on some errors, whatever SQLAlchemy believes)."""
    return bool(getattr(conn.connection.dbapi_connection, "in_transaction", True))


class Record(NamedTuple):
    """An entry ready to append: its exact leaf data, leaf hash and the indexed fields.

    A named tuple, not a dataclass: bulk appends build hundreds of thousands a second.
    """

    data: bytes
    hash: bytes
    type: str
    author: str
    key: str
    issued_at: str

    @classmethod
    def of(cls, entry: Entry) -> Record:
        data = entry.leaf_data()
        return cls.from_data(data, entry.type, entry.author, entry.key, entry.issued_at)

    @classmethod
    def from_data(cls, data: bytes, type: str, author: str, key: str, issued_at: str) -> Record:
        return cls(data, _sha256(b"\x00" + data).digest(), type, author, key, issued_at)

    def entry(self) -> Entry:
        return entry_mod.loads(self.data)


@dataclass(frozen=True)
class SignedCheckpoint:
    size: int
    root: bytes
    note: str
    created_at: datetime | None = None


Group = Sequence[Entry | Record]
GroupResult = range | BaseException


Meta = tuple[str, str, str, str]
"""The indexed fields of an entry: ``(type, author, key, issued_at)``."""


class Leaves(NamedTuple):
    """Entries in columns: leaf data, leaf hashes, and one :data:`Meta` per entry or one
    shared by all. Bulk paths use it instead of a :class:`Record` per entry: no tuple per
    entry to build, pickle or collect."""

    datas: Sequence[bytes]
    hashes: Sequence[bytes]
    metas: Sequence[Meta] | Meta

    @classmethod
    def of(cls, datas: Sequence[bytes], metas: Sequence[Meta] | Meta) -> Leaves:
        if not _is_meta(metas) and len(metas) != len(datas):
            raise ValueError(f"got {len(datas)} leaves but {len(metas)} metadata tuples")
        return cls(datas, [_sha256(b"\x00" + d).digest() for d in datas], metas)


def _is_meta(metas: Sequence[Meta] | Meta) -> bool:
    return len(metas) == 4 and all(isinstance(m, str) for m in metas)


class _Pending:
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


def _as_records(group: Group) -> list[Record]:
    if type(group) is list and all(type(g) is Record for g in group):
        return group
    return [g if isinstance(g, Record) else Record.of(g) for g in group]


def load_or_create_key(path: Path) -> Ed25519PrivateKey:
    """The log's signing key, created (owner-only file) on first use."""
    try:
        return keys.read_private(path)
    except FileNotFoundError:
        with contextlib.suppress(FileExistsError):  # another process created it first
            keys.write_private(path, keys.generate())
        return keys.read_private(path)


class MerkleLog:
    """The log stored at ``url`` (default: ``Settings().resolved_database_url``)."""

    def __init__(
        self,
        url: str | None = None,
        *,
        settings: Settings | None = None,
        batch_max_entries: int | None = None,
        batch_max_wait_s: float | None = None,
        migrate: bool = True,
    ) -> None:
        self.settings = settings or Settings()
        self.url = db.normalize_url(url or self.settings.resolved_database_url)
        if migrate:
            db.migrate(self.url)
        self.engine: Engine = db.make_engine(self.url)
        self.sqlite = db.is_sqlite(self.engine)
        self.origin = self.settings.log_origin
        self.batch_max_entries = batch_max_entries or self.settings.batch_max_entries
        self.batch_max_wait_s = (
            self.settings.batch_max_wait_s if batch_max_wait_s is None else batch_max_wait_s
        )
        self._key: Ed25519PrivateKey | None = None
        self._queue: queue.Queue[_Pending | None] = queue.Queue()
        self._writer: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._edge: layout.Edge | None = None
        self._local = threading.local()
        self._raw: list[Any] = []
        self._raw_lock = threading.Lock()
        self.tiles = TileCache()
        """Upper tiles read for proofs (:mod:`foodtrace.store.tilecache`)."""
        self._tile_reader = TileReader(self._query, self.tiles)
        self._known_size = 0
        self._closed = threading.Event()
        self._dirty = threading.Event()
        self._wal_thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def __enter__(self) -> MerkleLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Finish queued appends, stop the writer and release connections."""
        with self._start_lock:
            if self._writer is not None:
                self._queue.put(None)
                self._writer.join()
                self._writer = None
            self._closed.set()
            if self._wal_thread is not None:
                self._wal_thread.join()
                self._wal_thread = None
        with self._raw_lock:
            for raw in self._raw:
                raw.close()
            self._raw.clear()
        self.engine.dispose()

    # -- appending -------------------------------------------------------------------------

    def submit(self, group: Group, projectors: Sequence[Projector] = ()) -> Future[range]:
        """Queue one atomic group; the future gives its indices once committed."""
        outer: Future[range] = Future()
        inner: Future[list[GroupResult]] = Future()

        def done(f: Future[list[GroupResult]]) -> None:
            exc = f.exception()
            result = exc if exc is not None else f.result()[0]
            if isinstance(result, BaseException):
                outer.set_exception(result)
            else:
                outer.set_result(result)

        inner.add_done_callback(done)
        self._enqueue(_Pending([(_as_records(group), tuple(projectors))], inner))
        return outer

    def append(self, group: Group, projectors: Sequence[Projector] = ()) -> range:
        """Append one atomic group and wait until it is committed."""
        return self.submit(group, projectors).result()

    def submit_many(self, groups: Iterable[Group]) -> Future[list[GroupResult]]:
        """Queue many groups (each atomic, no projectors) as one unit; the future gives, per
        group, its indices or the exception that rejected it."""
        future: Future[list[GroupResult]] = Future()
        self._enqueue(_Pending([(_as_records(g), ()) for g in groups], future))
        return future

    def submit_leaves(self, leaves: Leaves) -> Future[range]:
        """Queue entries given in columns, each its own group (nothing can reject one); the
        future gives their indices, in order, once committed."""
        future: Future[range] = Future()
        self._enqueue(_Pending([], future, leaves))
        return future

    def append_leaves(
        self,
        datas: Sequence[bytes],
        metas: Sequence[Meta] | Meta,
        *,
        chunk_entries: int | None = None,
    ) -> range:
        """Append raw leaf data with their indexed fields (``metas``: one per entry, or one
        for all), in transactions of ``chunk_entries``; waits for all. Leaf hashes are
        computed here, so hashing overlaps with the writer's inserts."""
        if not _is_meta(metas) and len(metas) != len(datas):
            raise ValueError(f"got {len(datas)} leaves but {len(metas)} metadata tuples")
        chunk = chunk_entries or self.settings.bulk_batch_max_entries
        futures: list[Future[range]] = []
        for start in range(0, len(datas), chunk):
            part = datas[start : start + chunk]
            meta: Sequence[Meta] | Meta = (
                metas if _is_meta(metas) else metas[start : start + chunk]  # type: ignore[assignment]
            )
            futures.append(self.submit_leaves(Leaves.of(part, meta)))
        ranges = [f.result() for f in futures]
        if not ranges:
            return range(0)
        return range(ranges[0].start, ranges[-1].stop)

    def append_many(
        self, groups: Iterable[Group], *, chunk_entries: int | None = None
    ) -> list[GroupResult]:
        """Append many groups in transactions of about ``chunk_entries`` entries (default
        ``Settings.bulk_batch_max_entries``) and wait for all of them."""
        chunk = chunk_entries or self.settings.bulk_batch_max_entries
        futures: list[Future[list[GroupResult]]] = []
        current: list[Group] = []
        count = 0
        for group in groups:
            current.append(group)
            count += len(group)
            if count >= chunk:
                futures.append(self.submit_many(current))
                current, count = [], 0
        if current:
            futures.append(self.submit_many(current))
        out: list[GroupResult] = []
        for f in futures:
            out.extend(f.result())  # a failed transaction (not a rejected group) raises
        return out

    def writer_running(self) -> bool:
        """Whether this process's writer thread runs (it starts with the first append)."""
        writer = self._writer
        return writer is not None and writer.is_alive()

    def queued(self) -> int:
        """Submissions waiting for the writer thread."""
        return self._queue.qsize()

    def _enqueue(self, pending: _Pending) -> None:
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
        batch: list[_Pending] = []
        for g in groups:
            if isinstance(g, Leaves):
                batch.append(_Pending([], Future(), g))
            else:
                batch.append(_Pending([(_as_records(g[0]), tuple(g[1]))], Future()))

        def flat(results: list[list[GroupResult] | range]) -> list[GroupResult]:
            return [r if isinstance(r, range) else r[0] for r in results]

        self._commit(conn, batch, lambda c, res: before_commit(c, flat(res)))
        return flat([item.future.result() for item in batch])

    def _commit(
        self,
        conn: Connection,
        batch: list[_Pending],
        before_commit: Callable[[Connection, list[list[GroupResult] | range]], None] | None = None,
    ) -> None:
        results: list[list[GroupResult] | range] = []
        try:
            with conn.begin():
                if not self.sqlite:
                    conn.exec_driver_sql("SELECT pg_advisory_xact_lock(%s)", (WRITER_LOCK_KEY,))
                size = self._size(conn)
                if self._edge is None or self._edge.size != size:
                    self._edge = self._load_edge(conn, size)
                edge = layout.Edge(size, [list(p) for p in self._edge.partial])
                session: Session | None = None
                accepted: list[Record] = []  # in index order
                inserted = 0  # how many of them are in the database already
                hashes: list[bytes] = []
                for item in batch:
                    if item.leaves is not None:
                        self._insert(conn, accepted[inserted:], size + inserted)
                        hashes += [r.hash for r in accepted]
                        size += len(accepted)  # rebase: ``accepted`` restarts empty
                        accepted, inserted = [], 0
                        self._insert_leaves(conn, item.leaves, size)
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
                            self._insert(conn, accepted[inserted:], size + inserted)
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
                self._insert(conn, accepted[inserted:], size + inserted)
                if session is not None:
                    session.flush()
                    session.close()
                hashes += [r.hash for r in accepted]
                self._write_tiles(conn, edge.extend(hashes))
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
            self._insert(conn, records, start)
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

    def _sql(self, text: str) -> str:
        return text if self.sqlite else text.replace("?", "%s")

    def _insert(self, conn: Connection, records: Sequence[Record], start: int) -> None:
        if not records:
            return
        if not self.sqlite:
            columns = list(zip(*records, strict=True))
            del columns[1]  # the leaf hashes are not stored
            _insert_columns(conn, range(start, start + len(records)), *columns)
            return
        cur = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        one = "(?,?,?,?,?,?)"
        head = "INSERT INTO entries (leaf_index, data, type, author, key_id, issued_at) VALUES "
        full_sql = head + ",".join([one] * ROWS_PER_INSERT)
        for offset in range(0, len(records), ROWS_PER_INSERT):
            chunk = records[offset : offset + ROWS_PER_INSERT]
            params: list[Any] = []
            i = start + offset
            for r in chunk:
                params += (i, r.data, r.type, r.author, r.key, r.issued_at)
                i += 1
            sql = full_sql if len(chunk) == ROWS_PER_INSERT else head + ",".join([one] * len(chunk))
            cur.execute(sql, params)
        cur.close()

    def _insert_leaves(self, conn: Connection, leaves: Leaves, start: int) -> None:
        """Insert columns with multi-row statements whose parameters are built by slice
        assignment (C loops), not a Python loop per entry; on PostgreSQL one statement of
        six arrays."""
        n = len(leaves.datas)
        if not n:
            return
        shared = _is_meta(leaves.metas)
        if not self.sqlite:
            meta = [[m] * n for m in leaves.metas] if shared else zip(*leaves.metas, strict=True)
            _insert_columns(conn, range(start, start + n), leaves.datas, *meta)
            return
        if not shared:
            columns = list(zip(*leaves.metas, strict=True))
        cur = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        one = "(?,?,?,?,?,?)"
        head = "INSERT INTO entries (leaf_index, data, type, author, key_id, issued_at) VALUES "
        full_sql = head + ",".join([one] * ROWS_PER_INSERT)
        for offset in range(0, n, ROWS_PER_INSERT):
            m = min(ROWS_PER_INSERT, n - offset)
            params: list[Any] = [None] * (6 * m)
            params[0::6] = range(start + offset, start + offset + m)
            params[1::6] = leaves.datas[offset : offset + m]
            for c in range(4):
                if shared:
                    params[2 + c :: 6] = [leaves.metas[c]] * m
                else:
                    params[2 + c :: 6] = columns[c][offset : offset + m]
            sql = full_sql if m == ROWS_PER_INSERT else head + ",".join([one] * m)
            cur.execute(sql, params)
        cur.close()

    def _write_tiles(self, conn: Connection, writes: list[layout.TileWrite]) -> None:
        if not writes:
            return
        sql = self._sql(
            "INSERT INTO tiles (level, idx, width, hashes) VALUES (?,?,?,?) "
            "ON CONFLICT (level, idx) DO UPDATE SET width = excluded.width, "
            "hashes = excluded.hashes"
        )
        cur = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        cur.executemany(sql, [(w.tile[0], w.tile[1], w.width, w.blob) for w in writes])
        cur.close()

    def _size(self, conn: Connection) -> int:
        got = conn.exec_driver_sql("SELECT COALESCE(MAX(leaf_index) + 1, 0) FROM entries")
        return int(got.scalar_one())

    def _load_edge(self, conn: Connection, size: int) -> layout.Edge:
        wanted = layout.edge_tiles(size)
        partial: list[list[bytes]] = [[] for _ in range(layout.tile_levels(size))]
        for (tile_level, tile_index), width in wanted:
            row = conn.exec_driver_sql(
                self._sql("SELECT width, hashes FROM tiles WHERE level = ? AND idx = ?"),
                (tile_level, tile_index),
            ).first()
            if row is None or row[0] < width:
                raise RuntimeError(
                    f"tile ({tile_level}, {tile_index}) is missing or narrower than {width}: "
                    "run `foodtrace audit`"
                )
            partial[tile_level] = layout.bottom_of(row[1], width)
        return layout.Edge(size, partial)

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

    # -- reading ---------------------------------------------------------------------------

    def _raw_cursor(self) -> Any:
        raw = getattr(self._local, "raw", None)
        if raw is None:
            raw = self.engine.raw_connection()
            if not self.sqlite:
                raw.driver_connection.autocommit = True  # type: ignore[union-attr]
            self._local.raw = raw
            with self._raw_lock:
                self._raw.append(raw)
        return raw.cursor()

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        cur = self._raw_cursor()
        try:
            cur.execute(self._sql(sql), tuple(params))
            return list(cur.fetchall())
        finally:
            cur.close()

    def size(self) -> int:
        """How many entries are committed."""
        size = int(self._query("SELECT COALESCE(MAX(leaf_index) + 1, 0) FROM entries")[0][0])
        self._known_size = max(self._known_size, size)
        return size

    def _check_size(self, size: int | None) -> int:
        if size is None:
            return self.size()
        if size < 0 or (size > self._known_size and size > self.size()):
            raise ValueError(
                f"tree size {size} is negative or beyond the log size {self._known_size}"
            )
        return size

    def read_nodes(self, nodes: Sequence[Node]) -> list[bytes]:
        """Stored hashes of perfect subtrees, in one query (a :data:`merkle.NodeReader`);
        the tiles above the bottom level come from :attr:`tiles`."""
        return self._tile_reader.read(nodes)

    def leaf_hash(self, index: int) -> bytes:
        self._check_index(index)
        return self.read_nodes([(0, index)])[0]

    def _check_index(self, index: int) -> None:
        if index < 0 or (index >= self._known_size and index >= self.size()):
            raise IndexError(f"entry {index} does not exist: the log has {self._known_size}")

    def record(self, index: int) -> Record:
        rows = self._query(
            "SELECT data, type, author, key_id, issued_at FROM entries WHERE leaf_index = ?",
            (index,),
        )
        if not rows:
            raise IndexError(f"entry {index} does not exist: the log has {self.size()}")
        data, type_, author, key, issued_at = rows[0]
        return Record.from_data(bytes(data), type_, author, key, issued_at)

    def entry(self, index: int) -> Entry:
        return self.record(index).entry()

    def root(self, size: int | None = None) -> bytes:
        """The tree head at any size up to the current one."""
        size = self._check_size(size)
        if size == 0:
            return EMPTY_ROOT
        hashes = self.read_nodes(_perfect_nodes(0, size))
        acc = hashes[-1]
        for h in reversed(hashes[:-1]):
            acc = hashlib.sha256(b"\x01" + h + acc).digest()
        return acc

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        return self._tile_reader.inclusion_proof(index, self._check_size(size))

    def consistency_proof(self, size1: int, size2: int | None = None) -> list[bytes]:
        return consistency_proof(size1, self._check_size(size2), self.read_nodes)

    # -- checkpoints -----------------------------------------------------------------------

    @property
    def key(self) -> Ed25519PrivateKey:
        """The log key; created only while no checkpoint was signed (a new key would not
        verify them): afterwards a missing file is a :class:`MissingKeyError`."""
        if self._key is None:
            from foodtrace.store.keyfiles import load_key

            signed = self._query("SELECT COUNT(*) FROM checkpoints")[0][0]
            self._key = load_key(
                self.settings.resolved_log_key_file,
                "log key",
                may_create=not signed,
                depends=f"{signed} checkpoints were signed with it",
            )
        return self._key

    def verifier_key(self) -> str:
        """The log's verifier key ``name+hex+base64`` (name = the log origin)."""
        return verifier_key(self.origin, self.key)

    def latest_checkpoint(self) -> SignedCheckpoint | None:
        rows = self._query(
            "SELECT size, root, note, created_at FROM checkpoints ORDER BY size DESC LIMIT 1"
        )
        return _checkpoint(rows[0]) if rows else None

    def checkpoint_at(self, size: int) -> SignedCheckpoint:
        rows = self._query(
            "SELECT size, root, note, created_at FROM checkpoints WHERE size = ?", (size,)
        )
        if not rows:
            raise LookupError(f"no checkpoint was issued at size {size}")
        return _checkpoint(rows[0])

    def checkpoints(self) -> list[SignedCheckpoint]:
        rows = self._query("SELECT size, root, note, created_at FROM checkpoints ORDER BY size")
        return [_checkpoint(r) for r in rows]

    def issue_checkpoint(self, size: int | None = None) -> SignedCheckpoint:
        """Sign and store a checkpoint at the current size, unless the latest one is there.

        ``size``: a checkpoint at that earlier size instead (the one already stored there, if
        any). The anchorer anchors aligned sizes, which may lie below the latest checkpoint;
        checkpoints are kept per size, so a past one sits beside the others."""
        if size is None:
            size = self.size()
            latest = self.latest_checkpoint()
            if latest is not None and latest.size >= size:
                return latest
        else:
            size = self._check_size(size)
            try:
                return self.checkpoint_at(size)
            except LookupError:
                pass
        root = self.root(size)
        note = sign_checkpoint(Checkpoint(self.origin, size, root), self.origin, self.key)
        created = datetime.now(UTC)
        with self.engine.begin() as conn:
            conn.exec_driver_sql(
                self._sql(
                    "INSERT INTO checkpoints (size, root, note, created_at) VALUES (?,?,?,?) "
                    "ON CONFLICT (size) DO NOTHING"
                ),
                (size, root, note, created.isoformat() if self.sqlite else created),
            )
        return self.checkpoint_at(size)

    def bundle(self, index: int, size: int | None = None) -> ProofBundle:
        """A C2SP proof bundle for ``index`` in the checkpoint at ``size`` (default latest,
        issuing one if the latest does not cover ``index``)."""
        if size is None:
            cp = self.latest_checkpoint()
            if cp is None or cp.size <= index:
                cp = self.issue_checkpoint()
        else:
            cp = self.checkpoint_at(size)
        if index >= cp.size:
            raise IndexError(f"entry {index} is not in the checkpoint of size {cp.size}")
        return ProofBundle(index, tuple(self.inclusion_proof(index, cp.size)), cp.note)

    def audit(self) -> AuditReport:
        """Recompute everything from stored data (see :func:`foodtrace.store.audit.audit`)."""
        from foodtrace.store.audit import audit

        return audit(self)


_INSERT_COLUMNS = (
    "INSERT INTO entries (leaf_index, data, type, author, key_id, issued_at) "
    "SELECT * FROM unnest(%s::bigint[], %s::bytea[], %s::text[], %s::text[], %s::text[], "
    "%s::text[])"
)


def _insert_columns(conn: Connection, indices: range, *columns: Sequence[Any]) -> None:
    """PostgreSQL: insert entries given in columns with one statement of six arrays (a
    multi-row VALUES of thousands of placeholders is re-parsed by the driver every time)."""
    cur = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    cur.execute(_INSERT_COLUMNS, [list(indices), *(list(c) for c in columns)])
    cur.close()


def _checkpoint(row: Sequence[Any]) -> SignedCheckpoint:
    size, root, note, created = row
    if isinstance(created, str):
        created = datetime.fromisoformat(created)
    if isinstance(created, datetime) and created.tzinfo is None:
        created = created.replace(tzinfo=UTC)
    return SignedCheckpoint(int(size), bytes(root), note, created)
