"""Scan counting off the request path, bounded.

The resolver does not write on every request: SQLite has one writer, and a write (and its
fsync) in every page view's transaction serialises page views behind each other. It counts
into a :class:`ScanBuffer` instead, which writes the scans in batches from a background
thread about every second (and at shutdown), replaying each serial-code scan through
:func:`~foodtrace.scan.service.record_scan` with its own time, so clone flags are decided
exactly as if each scan had been written at once; :meth:`ScanBuffer.status` adds the scans
not yet written.

The buffer holds at most ``max_unwritten`` scans: past that (the database has stalled, or a
flood outruns it) :meth:`ScanBuffer.add` raises :class:`ScanBufferFull` and the resolver
answers 503 with ``Retry-After`` instead of growing without bound.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from foodtrace.config import SCAN_BUFFER_MAX
from foodtrace.scan import rules
from foodtrace.scan.models import CODE_KEY_MAX
from foodtrace.scan.rules import Thresholds, code_kind
from foodtrace.scan.service import (
    ScanStatus,
    count_scans,
    default_thresholds,
    forget_old_sightings,
    last_seen,
    record_scan,
    scan_status,
)
from foodtrace.store.db import writer_engine
from foodtrace.trace.codes import CodeKind

FLUSH_EVERY_SECONDS = 1.0  # how often a ScanBuffer writes what it counted

log = logging.getLogger(__name__)


class ScanBufferFull(Exception):
    """More scans are waiting to be written than the buffer holds."""

    def __init__(self, retry_after: float) -> None:
        self.retry_after = retry_after
        super().__init__(f"the scan buffer is full; retry after {retry_after:g} s")


@dataclass
class _Unwritten:
    """Scans of one code counted in memory and not yet written."""

    kind: CodeKind
    count: int = 0
    first: datetime | None = None
    last: datetime | None = None
    serial_scans: list[tuple[datetime, str | None]] = field(default_factory=list)

    def add(self, now: datetime, network: str | None) -> None:
        self.count += 1
        self.first = self.first or now
        self.last = now
        if self.kind is CodeKind.SERIAL:
            self.serial_scans.append((now, network))

    def merge(self, later: _Unwritten) -> None:
        self.count += later.count
        self.first = self.first or later.first
        self.last = later.last or self.last
        self.serial_scans += later.serial_scans


class ScanBuffer:
    """:meth:`add` counts in memory (thread-safe) and a background thread writes the counts
    every ``flush_every`` seconds, in one transaction, and once more at :meth:`close`.

    Merchant and lot codes are written as one upsert per code per flush (they are never
    flagged); each serial-code scan is replayed through ``record_scan`` with its own time.
    A flush that fails keeps its scans for the next one. Scans are lost only if the process
    dies between two flushes."""

    def __init__(
        self,
        engine: Engine,
        thresholds: Thresholds | None = None,
        flush_every: float = FLUSH_EVERY_SECONDS,
        max_unwritten: int = SCAN_BUFFER_MAX,
    ) -> None:
        self.engine = engine
        self.thresholds = thresholds or default_thresholds()
        self.flush_every = flush_every
        self.max_unwritten = max_unwritten
        self._lock = threading.Lock()  # guards _unwritten, _writing and _held
        self._flush_lock = threading.Lock()  # one flush at a time
        self._unwritten: dict[str, _Unwritten] = {}
        self._writing: dict[str, _Unwritten] = {}  # taken by a flush, not yet committed
        self._held = 0  # scans in both
        self._closed = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> ScanBuffer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> ScanBuffer:
        """Start the background flusher (idempotent)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="scan-flush", daemon=True)
            self._thread.start()
        return self

    def close(self) -> None:
        """Stop the flusher and write what is left."""
        self._closed.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        self.flush()

    def _run(self) -> None:
        while not self._closed.wait(self.flush_every):
            try:
                self.flush()
            except Exception:  # kept for the next flush; never kill the flusher
                log.exception("writing scan counts failed; retrying at the next flush")

    def add(self, code_key: str, network: str | None, now: datetime | None = None) -> None:
        """Count one scan (in memory; written at the next flush), or raise
        :class:`ScanBufferFull`."""
        if len(code_key) > CODE_KEY_MAX:
            raise ValueError(f"code_key: expected at most {CODE_KEY_MAX} characters")
        kind = code_kind(code_key)
        now = now or datetime.now(UTC)
        with self._lock:
            if self._held >= self.max_unwritten:
                raise ScanBufferFull(max(self.flush_every, 1.0))
            pending = self._unwritten.get(code_key)
            if pending is None:
                pending = self._unwritten[code_key] = _Unwritten(kind)
            pending.add(now, network)
            self._held += 1

    def unwritten(self) -> int:
        """How many scans are counted but not yet committed."""
        with self._lock:
            return self._held

    def flush(self) -> int:
        """Write every counted scan in one transaction; returns how many were written."""
        with self._flush_lock:
            with self._lock:
                batch, self._unwritten = self._unwritten, {}
                self._writing = batch
            if not batch:
                return 0
            written = sum(p.count for p in batch.values())
            try:
                # BEGIN IMMEDIATE on SQLite: take the write lock up front (waiting for it
                # under the busy timeout) rather than fail to upgrade a read lock later.
                with Session(writer_engine(self.engine)) as session, session.begin():
                    for key, p in batch.items():
                        if p.kind is CodeKind.SERIAL:
                            for at, net in p.serial_scans:
                                record_scan(session, key, net, now=at, thresholds=self.thresholds)
                        else:
                            assert p.first is not None and p.last is not None
                            count_scans(session, key, p.kind, p.count, p.first, p.last)
                    forget_old_sightings(session, datetime.now(UTC), self.thresholds)
            except BaseException:
                with self._lock:  # keep them, before anything counted since
                    for key, later in self._unwritten.items():
                        if key in batch:
                            batch[key].merge(later)
                        else:
                            batch[key] = later
                    self._unwritten, self._writing = batch, {}
                raise
            with self._lock:
                self._writing = {}
                self._held -= written
            return written

    def status(self, session: Session, code_key: str, now: datetime | None = None) -> ScanStatus:
        """``scan_status`` plus the scans counted here and not yet written. For a serial
        code the unwritten scans are replayed in memory as the flush will write them, so a
        scan that will flag it shows it flagged now (the flag itself is written by the
        flush)."""
        t = self.thresholds
        stored = scan_status(session, code_key, now=now, thresholds=t)
        with self._lock:
            parts = [p for p in (self._writing.get(code_key), self._unwritten.get(code_key)) if p]
            if not parts:
                return stored
            kind = parts[0].kind
            count = sum(p.count for p in parts)
            serial_scans = [s for p in parts for s in p.serial_scans if s[1] is not None]
        total = stored.count + count
        if kind is not CodeKind.SERIAL or not serial_scans:
            return ScanStatus(
                total, stored.places, stored.suspect, stored.reason, stored.cleared_at
            )
        seen = last_seen(session, code_key)
        places, reason = stored.places, stored.reason
        for at, net in serial_scans:
            assert net is not None
            seen[net] = at
            places = rules.networks_in_window(seen, at, t)
            if reason is None:
                reason = rules.assess(kind, places, t)
        return ScanStatus(total, places, reason is not None, reason, stored.cleared_at)
