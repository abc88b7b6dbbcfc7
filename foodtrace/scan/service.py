"""Counting scans and flagging cloned serial codes.

A serial code names one physical item: it is scanned a handful of times (shop, buyer,
perhaps an inspector) in one or two places. A label photocopied onto fakes is scanned far
more often, from many places. So a serial code is flagged when it is scanned more than
``max_per_window`` times within ``window_seconds``, or from more than ``max_places`` distinct
places (over its life). Merchant and lot codes are counted but never flagged: many people
scan the same shop sign or lot label by design.

:func:`assess` is the pure decision; :func:`record_scan` keeps the counts with upserts (safe
under concurrent scans on PostgreSQL and SQLite) and flushes only: the caller commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import Table, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from foodtrace.config import Settings
from foodtrace.scan.models import CODE_KEY_MAX, REGION_MAX, ScanBucket, ScanCount, ScanPlace
from foodtrace.scan.schemas import SuspectOut
from foodtrace.trace.codes import AI_LOT, AI_SERIAL, CODE_VERSION, CodeKind

BUCKETS_PER_WINDOW = 24


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
    counts = cast(Table, ScanCount.__table__)
    ins = _insert(session, counts).values(
        code_key=code_key,
        kind=kind.value,
        scans=1,
        places=0,
        first_at=now,
        last_at=now,
        suspect=False,
    )
    session.execute(
        ins.on_conflict_do_update(
            index_elements=[counts.c.code_key],
            set_={"scans": counts.c.scans + 1, "last_at": now},
        )
    )
    place = normalize_region(region)
    if place is not None:
        added = session.execute(
            _insert(session, ScanPlace.__table__)
            .values(code_key=code_key, region=place)
            .on_conflict_do_nothing()
            .returning(ScanPlace.region)
        ).first()
        if added is not None:  # a new place (rowcount is not reliable here on psycopg)
            session.execute(
                update(counts)
                .where(counts.c.code_key == code_key)
                .values(places=counts.c.places + 1)
            )
    if kind is not CodeKind.SERIAL:
        return
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
    first_bucket = bucket - (t.window_seconds // t.bucket_seconds) + 1
    in_window = session.scalar(
        select(func.coalesce(func.sum(buckets.c.scans), 0)).where(
            buckets.c.code_key == code_key, buckets.c.bucket >= first_bucket
        )
    )
    row = session.execute(
        select(counts.c.places, counts.c.suspect).where(counts.c.code_key == code_key)
    ).one()
    if row.suspect:
        return
    reason = assess(kind, int(in_window or 0), int(row.places), t)
    if reason is not None:
        session.execute(
            update(counts)
            .where(counts.c.code_key == code_key)
            .values(suspect=True, reason=reason, flagged_at=now)
        )
    session.flush()


def scan_status(session: Session, code_key: str) -> ScanStatus:
    """How often and from how many places a code was scanned, and whether it is suspect."""
    row = session.get(ScanCount, code_key)
    if row is None:
        return ScanStatus(0, 0, False, None)
    return ScanStatus(row.scans, row.places, row.suspect, row.reason)


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
