"""The persistent Merkle log: appends, reads, proofs, checkpoints.

:class:`MerkleLog` is the one object the rest of the service holds. Its parts live by
concept: the group-committing writer thread (:mod:`foodtrace.store.groupcommit`), the SQL of
an append per dialect (:mod:`foodtrace.store.appendsql`), checkpoints
(:mod:`foodtrace.store.checkpoints`), and what is appended (:mod:`foodtrace.store.leaves`).

Reads never recompute subtrees: proofs and roots come from stored tiles
(:mod:`foodtrace.trace.layout`), one query per proof (:mod:`foodtrace.store.proofs`).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable, Sequence
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine

from foodtrace.config import Settings
from foodtrace.store import db
from foodtrace.store.appendsql import paramstyle
from foodtrace.store.checkpoints import Checkpoints
from foodtrace.store.groupcommit import GroupCommit, Pending
from foodtrace.store.leaves import (
    Group,
    GroupResult,
    Leaves,
    Meta,
    Projector,
    Record,
    as_records,
    is_meta,
)
from foodtrace.store.proofs import TileReader
from foodtrace.store.tilecache import TileCache
from foodtrace.trace.entry import Entry
from foodtrace.trace.merkle import EMPTY_ROOT, Node, consistency_proof
from foodtrace.trace.merkle import perfect_nodes as _perfect_nodes

if TYPE_CHECKING:
    from foodtrace.store.audit import AuditReport


class MerkleLog(GroupCommit, Checkpoints):
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
        self._init_writer()
        self._local = threading.local()
        self._raw: list[Any] = []
        self._raw_lock = threading.Lock()
        self.tiles = TileCache()
        """Upper tiles read for proofs (:mod:`foodtrace.store.tilecache`)."""
        self._tile_reader = TileReader(self._query, self.tiles)
        self._known_size = 0

    # -- lifecycle -------------------------------------------------------------------------

    def __enter__(self) -> MerkleLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Finish queued appends, stop the writer and release connections."""
        self._stop_writer()
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
        self._enqueue(Pending([(as_records(group), tuple(projectors))], inner))
        return outer

    def append(self, group: Group, projectors: Sequence[Projector] = ()) -> range:
        """Append one atomic group and wait until it is committed."""
        return self.submit(group, projectors).result()

    def submit_many(self, groups: Iterable[Group]) -> Future[list[GroupResult]]:
        """Queue many groups (each atomic, no projectors) as one unit; the future gives, per
        group, its indices or the exception that rejected it."""
        future: Future[list[GroupResult]] = Future()
        self._enqueue(Pending([(as_records(g), ()) for g in groups], future))
        return future

    def submit_leaves(self, leaves: Leaves) -> Future[range]:
        """Queue entries given in columns, each its own group (nothing can reject one); the
        future gives their indices, in order, once committed."""
        future: Future[range] = Future()
        self._enqueue(Pending([], future, leaves))
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
        if not is_meta(metas) and len(metas) != len(datas):
            raise ValueError(f"got {len(datas)} leaves but {len(metas)} metadata tuples")
        chunk = chunk_entries or self.settings.bulk_batch_max_entries
        futures: list[Future[range]] = []
        for start in range(0, len(datas), chunk):
            part = datas[start : start + chunk]
            meta: Sequence[Meta] | Meta = (
                metas if is_meta(metas) else metas[start : start + chunk]  # type: ignore[assignment]
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
            cur.execute(paramstyle(self.sqlite, sql), tuple(params))
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

    def audit(self) -> AuditReport:
        """Recompute everything from stored data (see :func:`foodtrace.store.audit.audit`)."""
        from foodtrace.store.audit import audit

        return audit(self)
