"""Counting scans and flagging cloned serial codes.

A serial code names one physical item: it is scanned a handful of times (shop, buyer,
perhaps an inspector) in one or two places. A label photocopied onto fakes is scanned far
more often, from many places. So a serial code is flagged when it is scanned more than
``max_per_window`` times within ``window_seconds``, or from more than ``max_places`` distinct
places (over its life). Merchant and lot codes are counted but never flagged: many people
scan the same shop sign or lot label by design.

:func:`assess` is the pure decision; :func:`record_scan` keeps the counts with upserts (safe
under concurrent scans on PostgreSQL and SQLite) and flushes only: the caller commits.

The resolver does not write on every request: SQLite has one writer, and a write (and its
fsync) in every page view's transaction serialises page views behind each other. It counts
into a :class:`ScanBuffer` instead, which writes the scans in batches from a background
thread about every second (and at shutdown), replaying each serial-code scan through
:func:`record_scan` with its own time, so clone flags are decided exactly as if each scan
had been written at once; :meth:`ScanBuffer.status` adds the scans not yet written.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import Engine, Table, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from foodtrace.config import Settings
from foodtrace.scan.models import CODE_KEY_MAX, REGION_MAX, ScanBucket, ScanCount, ScanPlace
from foodtrace.scan.schemas import SuspectOut
from foodtrace.store.db import writer_engine
from foodtrace.trace.codes import AI_LOT, AI_SERIAL, CODE_VERSION, CodeKind

BUCKETS_PER_WINDOW = 24
FLUSH_EVERY_SECONDS = 1.0  # how often a ScanBuffer writes what it counted

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Thresholds:
    window_seconds: int
    max_per_window: int
    max_places: int

    @classmethod
    def from_settings(cls, settings: Settings) -> Thresholds:
        return cls(
            settings.scan_window_seconds, settings.scan_max_per_window, settings.scan_max_places
        )

    @property
    def bucket_seconds(self) -> int:
        return max(self.window_seconds // BUCKETS_PER_WINDOW, 1)


@dataclass(frozen=True)
class ScanStatus:
    count: int
    places: int
    suspect: bool
    reason: str | None


@lru_cache(maxsize=1)
def default_thresholds() -> Thresholds:
    return Thresholds.from_settings(Settings())


def code_kind(code_key: str) -> CodeKind:
    """The kind of code a signed message names (``ft1|m|…``, ``ft1|01|…|10|…``, ``…|21|…``)."""
    parts = code_key.split("|")
    if len(parts) == 3 and parts[:2] == [CODE_VERSION, "m"]:
        return CodeKind.MERCHANT
    if len(parts) == 5 and parts[0] == CODE_VERSION and parts[1] == "01":
        if parts[3] == AI_LOT:
            return CodeKind.LOT
        if parts[3] == AI_SERIAL:
            return CodeKind.SERIAL
    raise ValueError(f"code_key: expected a code's signed message (ft1|…), got {code_key!r:.80}")


def code_text(code_key: str) -> str:
    """The human-readable form: the merchant id or the GS1 element string."""
    parts = code_key.split("|")
    if code_kind(code_key) is CodeKind.MERCHANT:
        return parts[2]
    return f"(01){parts[2]}({parts[3]}){parts[4]}"


def assess(kind: CodeKind, scans_in_window: int, places: int, t: Thresholds) -> str | None:
    """Why a code looks cloned (in Chinese, for the page and inspectors), or None."""
    if kind is not CodeKind.SERIAL:
        return None
    if scans_in_window > t.max_per_window:
        hours = t.window_seconds / 3600
        span = f"{hours:g}小时" if hours >= 1 else f"{t.window_seconds}秒"
        return f"{span}内被扫描{scans_in_window}次，超过单件商品合理次数（{t.max_per_window}次）"
    if places > t.max_places:
        return f"在{places}个不同地区被扫描，超过单件商品合理范围（{t.max_places}个）"
    return None


def normalize_region(region: str | None) -> str | None:
    """A coarse place label, trimmed to its column; None (not counted) if empty."""
    if region is None:
        return None
    text = " ".join(region.split())[:REGION_MAX]
    return text or None


def _insert(session: Session, table: Any) -> Any:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"scan counting supports postgresql and sqlite, not {dialect}")


def _count(
    session: Session,
    code_key: str,
    kind: CodeKind,
    scans: int,
    first: datetime,
    last: datetime,
    places: Iterable[str],
) -> None:
    """Add ``scans`` scans between ``first`` and ``last`` and the (normalized) ``places``."""
    counts = cast(Table, ScanCount.__table__)
    ins = _insert(session, counts).values(
        code_key=code_key,
        kind=kind.value,
        scans=scans,
        places=0,
        first_at=first,
        last_at=last,
        suspect=False,
    )
    session.execute(
        ins.on_conflict_do_update(
            index_elements=[counts.c.code_key],
            set_={"scans": counts.c.scans + scans, "last_at": last},
        )
    )
    added = 0
    for place in places:
        new = session.execute(
            _insert(session, ScanPlace.__table__)
            .values(code_key=code_key, region=place)
            .on_conflict_do_nothing()
            .returning(ScanPlace.region)
        ).first()
        added += new is not None  # a new place (rowcount is not reliable here on psycopg)
    if added:
        session.execute(
            update(counts)
            .where(counts.c.code_key == code_key)
            .values(places=counts.c.places + added)
        )


def _window_first_bucket(bucket: int, t: Thresholds) -> int:
    return bucket - (t.window_seconds // t.bucket_seconds) + 1


def _scans_in_window(session: Session, code_key: str, first_bucket: int) -> int:
    buckets = cast(Table, ScanBucket.__table__)
    total = session.scalar(
        select(func.coalesce(func.sum(buckets.c.scans), 0)).where(
            buckets.c.code_key == code_key, buckets.c.bucket >= first_bucket
        )
    )
    return int(total or 0)


def record_scan(
    session: Session,
    code_key: str,
    region: str | None,
    *,
    now: datetime | None = None,
    thresholds: Thresholds | None = None,
) -> None:
    """Count one scan of the code whose signed message is ``code_key``; flag a serial code
    that looks cloned. Flushes only: the caller's transaction commits."""
    if len(code_key) > CODE_KEY_MAX:
        raise ValueError(f"code_key: expected at most {CODE_KEY_MAX} characters")
    kind = code_kind(code_key)
    now = now or datetime.now(UTC)
    t = thresholds or default_thresholds()
    place = normalize_region(region)
    _count(session, code_key, kind, 1, now, now, [] if place is None else [place])
    if kind is not CodeKind.SERIAL:
        return
    counts = cast(Table, ScanCount.__table__)
    buckets = cast(Table, ScanBucket.__table__)
    bucket = int(now.timestamp()) // t.bucket_seconds
    session.execute(
        _insert(session, buckets)
        .values(code_key=code_key, bucket=bucket, scans=1)
        .on_conflict_do_update(
            index_elements=[buckets.c.code_key, buckets.c.bucket],
            set_={"scans": buckets.c.scans + 1},
        )
    )
    in_window = _scans_in_window(session, code_key, _window_first_bucket(bucket, t))
    row = session.execute(
        select(counts.c.places, counts.c.suspect).where(counts.c.code_key == code_key)
    ).one()
    if row.suspect:
        return
    reason = assess(kind, in_window, int(row.places), t)
    if reason is not None:
        session.execute(
            update(counts)
            .where(counts.c.code_key == code_key)
            .values(suspect=True, reason=reason, flagged_at=now)
        )
    session.flush()


def scan_status(session: Session, code_key: str) -> ScanStatus:
    """How often and from how many places a code was scanned, and whether it is suspect."""
    counts = cast(Table, ScanCount.__table__)
    row = session.execute(  # a Core row, not an ORM object: this runs on every page view
        select(counts.c.scans, counts.c.places, counts.c.suspect, counts.c.reason).where(
            counts.c.code_key == code_key
        )
    ).first()
    if row is None:
        return ScanStatus(0, 0, False, None)
    return ScanStatus(int(row.scans), int(row.places), bool(row.suspect), row.reason)


@dataclass
class _Unwritten:
    """Scans of one code counted in memory and not yet written."""

    kind: CodeKind
    count: int = 0
    first: datetime | None = None
    last: datetime | None = None
    places: dict[str, None] = field(default_factory=dict)  # normalized, in arrival order
    serial_scans: list[tuple[datetime, str | None]] = field(default_factory=list)

    def add(self, now: datetime, place: str | None) -> None:
        self.count += 1
        self.first = self.first or now
        self.last = now
        if place is not None:
            self.places.setdefault(place)
        if self.kind is CodeKind.SERIAL:
            self.serial_scans.append((now, place))

    def merge(self, later: _Unwritten) -> None:
        self.count += later.count
        self.first = self.first or later.first
        self.last = later.last or self.last
        self.places.update(later.places)
        self.serial_scans += later.serial_scans


class ScanBuffer:
    """Scan counting off the request path: :meth:`add` counts in memory (thread-safe) and a
    background thread writes the counts every ``flush_every`` seconds, in one transaction,
    and once more at :meth:`close`.

    Merchant and lot codes are written as one upsert per code per flush (they are never
    flagged); each serial-code scan is replayed through :func:`record_scan` with its own
    time, so clone flags are decided exactly as before. A flush that fails keeps its scans
    for the next one. Scans are lost only if the process dies between two flushes."""

    def __init__(
        self,
        engine: Engine,
        thresholds: Thresholds | None = None,
        flush_every: float = FLUSH_EVERY_SECONDS,
    ) -> None:
        self.engine = engine
        self.thresholds = thresholds or default_thresholds()
        self.flush_every = flush_every
        self._lock = threading.Lock()  # guards _unwritten and _writing
        self._flush_lock = threading.Lock()  # one flush at a time
        self._unwritten: dict[str, _Unwritten] = {}
        self._writing: dict[str, _Unwritten] = {}  # taken by a flush, not yet committed
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

    def add(self, code_key: str, region: str | None, now: datetime | None = None) -> None:
        """Count one scan (in memory; written at the next flush)."""
        if len(code_key) > CODE_KEY_MAX:
            raise ValueError(f"code_key: expected at most {CODE_KEY_MAX} characters")
        kind = code_kind(code_key)
        now = now or datetime.now(UTC)
        place = normalize_region(region)
        with self._lock:
            pending = self._unwritten.get(code_key)
            if pending is None:
                pending = self._unwritten[code_key] = _Unwritten(kind)
            pending.add(now, place)

    def unwritten(self) -> int:
        """How many scans are counted but not yet committed."""
        with self._lock:
            return sum(p.count for p in (*self._unwritten.values(), *self._writing.values()))

    def flush(self) -> int:
        """Write every counted scan in one transaction; returns how many were written."""
        with self._flush_lock:
            with self._lock:
                batch, self._unwritten = self._unwritten, {}
                self._writing = batch
            if not batch:
                return 0
            try:
                # BEGIN IMMEDIATE on SQLite: take the write lock up front (waiting for it
                # under the busy timeout) rather than fail to upgrade a read lock later.
                with Session(writer_engine(self.engine)) as session, session.begin():
                    for key, p in batch.items():
                        if p.kind is CodeKind.SERIAL:
                            for at, place in p.serial_scans:
                                record_scan(session, key, place, now=at, thresholds=self.thresholds)
                        else:
                            assert p.first is not None and p.last is not None
                            _count(session, key, p.kind, p.count, p.first, p.last, p.places)
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
            return sum(p.count for p in batch.values())

    def status(self, session: Session, code_key: str) -> ScanStatus:
        """:func:`scan_status` plus the scans counted here and not yet written. For a serial
        code the unwritten scans are replayed in memory as the flush will write them, so a
        scan that will flag it shows it flagged now (the flag itself is written by the
        flush)."""
        stored = scan_status(session, code_key)
        with self._lock:
            parts = [p for p in (self._writing.get(code_key), self._unwritten.get(code_key)) if p]
            if not parts:
                return stored
            kind = parts[0].kind
            count = sum(p.count for p in parts)
            places = list(dict.fromkeys(r for p in parts for r in p.places))
            serial_scans = [s for p in parts for s in p.serial_scans]
        known: set[str] = set()
        if places:
            known = set(
                session.scalars(
                    select(ScanPlace.region).where(
                        ScanPlace.code_key == code_key, ScanPlace.region.in_(places)
                    )
                )
            )
        total_places = stored.places + sum(r not in known for r in places)
        if stored.suspect or kind is not CodeKind.SERIAL or not serial_scans:
            return ScanStatus(stored.count + count, total_places, stored.suspect, stored.reason)
        return self._replay(session, code_key, stored, serial_scans, known, count)

    def _replay(
        self,
        session: Session,
        code_key: str,
        stored: ScanStatus,
        serial_scans: list[tuple[datetime, str | None]],
        known: set[str],
        count: int,
    ) -> ScanStatus:
        """What :func:`record_scan` will decide for each unwritten serial scan, in order."""
        t = self.thresholds
        per_bucket: dict[int, int] = {}
        first = _window_first_bucket(int(serial_scans[0][0].timestamp()) // t.bucket_seconds, t)
        buckets = cast(Table, ScanBucket.__table__)
        for bucket, n in session.execute(
            select(buckets.c.bucket, buckets.c.scans).where(
                buckets.c.code_key == code_key, buckets.c.bucket >= first
            )
        ):
            per_bucket[int(bucket)] = int(n)
        places, seen, reason = stored.places, set(known), None
        for at, place in serial_scans:
            bucket = int(at.timestamp()) // t.bucket_seconds
            per_bucket[bucket] = per_bucket.get(bucket, 0) + 1
            if place is not None and place not in seen:
                seen.add(place)
                places += 1
            low = _window_first_bucket(bucket, t)
            in_window = sum(n for b, n in per_bucket.items() if b >= low)
            reason = assess(CodeKind.SERIAL, in_window, places, t)
            if reason is not None:
                break
        return ScanStatus(
            stored.count + count, stored.places + len(seen - known), bool(reason), reason
        )


def suspects(session: Session, limit: int = 100) -> list[SuspectOut]:
    """Flagged codes, most recently flagged first."""
    rows = session.scalars(
        select(ScanCount)
        .where(ScanCount.suspect.is_(True))
        .order_by(ScanCount.flagged_at.desc())
        .limit(limit)
    )
    return [
        SuspectOut(
            code_key=r.code_key,
            kind=r.kind,
            code_text=code_text(r.code_key),
            scans=r.scans,
            places=r.places,
            reason=r.reason,
            first_at=r.first_at,
            last_at=r.last_at,
            flagged_at=r.flagged_at,
        )
        for r in rows
    ]
