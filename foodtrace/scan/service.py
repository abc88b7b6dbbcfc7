"""Counting scans and flagging cloned serial codes, over a session (the rules are in
:mod:`foodtrace.scan.rules`).

:func:`record_scan` counts one scan with upserts (safe under concurrent scans on PostgreSQL
and SQLite) and flushes only: the caller commits. For a serial code it also notes the
network (a keyed hash) it came from, forgets networks older than the detection window, and
flags the code when :func:`foodtrace.scan.rules.assess` says so. Merchant and lot codes are
counted but never flagged: many people scan the same shop sign or lot label by design.

An inspector or regulator clears a flag with a ``scan.clear`` entry (logged, signed, with a
note); its projection here marks the flag cleared and forgets the networks that raised it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, cast

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Table, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from foodtrace.auth.models import Role
from foodtrace.config import Settings
from foodtrace.record.registry import conflict, missing, register_type
from foodtrace.scan import rules
from foodtrace.scan.models import CODE_KEY_MAX, ScanCount, ScanSighting
from foodtrace.scan.rules import Thresholds, code_kind, code_text
from foodtrace.scan.schemas import ClearedOut, SuspectOut
from foodtrace.trace.codes import CodeKind
from foodtrace.trace.entry import Entry


@dataclass(frozen=True)
class ScanStatus:
    count: int
    places: int  # distinct networks within the window (serial codes)
    suspect: bool
    reason: str | None
    cleared_at: datetime | None = None


def thresholds_from(settings: Settings) -> Thresholds:
    return Thresholds(
        settings.scan_window_seconds, settings.scan_clone_networks, settings.scan_flag_decay_seconds
    )


@lru_cache(maxsize=1)
def default_thresholds() -> Thresholds:
    return thresholds_from(Settings())


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value  # SQLite drops it


def _insert(session: Session, table: Any) -> Any:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"scan counting supports postgresql and sqlite, not {dialect}")


def count_scans(
    session: Session, code_key: str, kind: CodeKind, scans: int, first: datetime, last: datetime
) -> None:
    """Add ``scans`` scans between ``first`` and ``last`` to the code's count."""
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


def last_seen(session: Session, code_key: str) -> dict[str, datetime]:
    """The networks a serial code was seen from (still within a window), and when last."""
    rows = session.execute(
        select(ScanSighting.network, ScanSighting.last_at).where(ScanSighting.code_key == code_key)
    )
    return {net: _utc(at) for net, at in rows}


def record_scan(
    session: Session,
    code_key: str,
    network: str | None,
    *,
    now: datetime | None = None,
    thresholds: Thresholds | None = None,
) -> None:
    """Count one scan of the code whose signed message is ``code_key``, from ``network``
    (a :func:`foodtrace.scan.rules.network_id`, None if unknown: counted, never a place);
    flag a serial code that looks cloned. Flushes only: the caller's transaction commits."""
    if len(code_key) > CODE_KEY_MAX:
        raise ValueError(f"code_key: expected at most {CODE_KEY_MAX} characters")
    kind = code_kind(code_key)
    now = now or datetime.now(UTC)
    t = thresholds or default_thresholds()
    count_scans(session, code_key, kind, 1, now, now)
    if kind is not CodeKind.SERIAL or network is None:
        session.flush()
        return
    sightings = cast(Table, ScanSighting.__table__)
    session.execute(
        _insert(session, sightings)
        .values(code_key=code_key, network=network, last_at=now, scans=1)
        .on_conflict_do_update(
            index_elements=[sightings.c.code_key, sightings.c.network],
            set_={"last_at": now, "scans": sightings.c.scans + 1},
        )
    )
    session.execute(  # short-lived: a network older than the window can no longer count
        delete(sightings).where(
            sightings.c.code_key == code_key, sightings.c.last_at <= now - t.window
        )
    )
    seen = rules.networks_in_window(last_seen(session, code_key), now, t)
    counts = cast(Table, ScanCount.__table__)
    row = session.execute(
        select(counts.c.flagged_at, counts.c.cleared_at).where(counts.c.code_key == code_key)
    ).one()
    values: dict[str, Any] = {"places": seen}
    flagged, cleared = (_utc(v) if v is not None else None for v in row)
    if not rules.flag_active(flagged, cleared, now, t):
        reason = rules.assess(kind, seen, t)
        if reason is not None:
            values |= {"suspect": True, "reason": reason, "flagged_at": now}
    session.execute(update(counts).where(counts.c.code_key == code_key).values(**values))
    session.flush()


def forget_old_sightings(session: Session, now: datetime, t: Thresholds) -> int:
    """Delete every sighting older than the window (all codes); how many went."""
    result = session.execute(delete(ScanSighting).where(ScanSighting.last_at <= now - t.window))
    return int(getattr(result, "rowcount", 0) or 0)


def scan_status(
    session: Session,
    code_key: str,
    *,
    now: datetime | None = None,
    thresholds: Thresholds | None = None,
) -> ScanStatus:
    """How often a code was scanned, from how many networks lately, and whether its flag
    holds (raised, not decayed, not cleared)."""
    t = thresholds or default_thresholds()
    now = now or datetime.now(UTC)
    counts = cast(Table, ScanCount.__table__)
    row = session.execute(  # a Core row, not an ORM object: this runs on every page view
        select(
            counts.c.scans,
            counts.c.places,
            counts.c.reason,
            counts.c.flagged_at,
            counts.c.cleared_at,
        ).where(counts.c.code_key == code_key)
    ).first()
    if row is None:
        return ScanStatus(0, 0, False, None)
    flagged = _utc(row.flagged_at) if row.flagged_at is not None else None
    cleared = _utc(row.cleared_at) if row.cleared_at is not None else None
    active = rules.flag_active(flagged, cleared, now, t)
    return ScanStatus(
        int(row.scans), int(row.places), active, row.reason if active else None, cleared
    )


def suspects(
    session: Session,
    limit: int = 100,
    *,
    before: tuple[datetime, str] | None = None,
    now: datetime | None = None,
    thresholds: Thresholds | None = None,
) -> list[SuspectOut]:
    """Codes whose flag holds, most recently flagged first; ``before`` is the (flagged_at,
    code_key) of the previous page's last one."""
    t = thresholds or default_thresholds()
    now = now or datetime.now(UTC)
    q = select(ScanCount).where(ScanCount.suspect.is_(True), ScanCount.flagged_at > now - t.decay)
    if before is not None:
        at, key = before
        q = q.where(
            (ScanCount.flagged_at < at)
            | ((ScanCount.flagged_at == at) & (ScanCount.code_key < key))
        )
    rows = session.scalars(
        q.order_by(ScanCount.flagged_at.desc(), ScanCount.code_key.desc()).limit(limit)
    )
    return [
        SuspectOut(
            code_key=r.code_key,
            kind=r.kind,
            code_text=code_text(r.code_key),
            scans=r.scans,
            places=r.places,
            reason=r.reason,
            first_at=_utc(r.first_at),
            last_at=_utc(r.last_at),
            flagged_at=_utc(r.flagged_at) if r.flagged_at is not None else None,
        )
        for r in rows
    ]


# --- clearing a flag (a logged entry) --------------------------------------------------------


class ClearBody(BaseModel):
    """``scan.clear``: an inspector reviewed a flagged code and found it genuine."""

    model_config = ConfigDict(extra="forbid")

    code_key: str = Field(min_length=1, max_length=CODE_KEY_MAX)
    note: str = Field(min_length=1, max_length=500)


def project_clear(session: Session, index: int, entry: Entry) -> None:
    body = ClearBody.model_validate(entry.body)
    row = session.get(ScanCount, body.code_key)
    if row is None:
        raise missing("code_key", "no scan of this code is recorded")
    if not row.suspect:
        raise conflict("code_key", "this code is not flagged as a suspected clone")
    row.suspect = False
    row.cleared_at = datetime.fromisoformat(entry.issued_at.replace("Z", "+00:00"))
    row.cleared_by = entry.author
    row.cleared_entry = index
    # the networks that raised the flag are reviewed: they do not count towards a new one
    session.execute(delete(ScanSighting).where(ScanSighting.code_key == body.code_key))
    session.flush()


register_type(
    "scan.clear",
    roles=frozenset({Role.INSPECTOR, Role.REGULATOR}),
    project=project_clear,
    body=ClearBody,
)


def cleared(session: Session, entry_index: int) -> ClearedOut:
    """The flag the ``scan.clear`` entry at ``entry_index`` cleared."""
    row = session.scalars(select(ScanCount).where(ScanCount.cleared_entry == entry_index)).one()
    assert row.cleared_at is not None and row.cleared_by is not None
    return ClearedOut(
        code_key=row.code_key,
        code_text=code_text(row.code_key),
        cleared_at=_utc(row.cleared_at),
        cleared_by=row.cleared_by,
        entry_index=entry_index,
    )
