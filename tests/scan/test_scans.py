"""Scan counting and clone detection: the pure decision, the counting service on both
databases, and the inspectors' list."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from recordharness import Env, assert_problem
from sqlalchemy import create_engine, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from foodtrace.scan.models import ScanCount
from foodtrace.scan.service import (
    ScanBuffer,
    Thresholds,
    assess,
    code_kind,
    code_text,
    record_scan,
    scan_status,
)
from foodtrace.trace.codes import CodeKind, Lot, Merchant, Serial

GTIN = "06901234567892"
T = Thresholds(window_seconds=3600, max_per_window=5, max_places=3)
T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
SERIAL = Serial(GTIN, "SN0001").message().decode()
LOT = Lot(GTIN, "L2026-05").message().decode()
MERCHANT = Merchant("91110105MA04G7WX3L").message().decode()


def test_assess_flags_serials_only() -> None:
    assert assess(CodeKind.SERIAL, 5, 3, T) is None
    reason = assess(CodeKind.SERIAL, 6, 1, T)
    assert reason is not None and "6次" in reason and "1小时" in reason
    reason = assess(CodeKind.SERIAL, 1, 4, T)
    assert reason is not None and "4个不同地区" in reason
    assert assess(CodeKind.LOT, 10_000, 500, T) is None
    assert assess(CodeKind.MERCHANT, 10_000, 500, T) is None


def test_code_keys() -> None:
    assert code_kind(SERIAL) is CodeKind.SERIAL
    assert code_kind(LOT) is CodeKind.LOT
    assert code_kind(MERCHANT) is CodeKind.MERCHANT
    assert code_text(SERIAL) == f"(01){GTIN}(21)SN0001"
    with pytest.raises(ValueError, match="code_key"):
        code_kind("https://example.com/01/1")


def _scan(env: Env, key: str, region: str | None, at: datetime) -> None:
    with Session(env.log.engine) as session, session.begin():
        record_scan(session, key, region, now=at, thresholds=T)


def test_serial_scanned_too_often_in_window(env: Env) -> None:
    for i in range(5):
        _scan(env, SERIAL, "110105", T0 + timedelta(minutes=i))
    # spread out over more than the window: old scans fall out, still not suspect
    for i in range(5):
        _scan(env, SERIAL, "110105", T0 + timedelta(hours=3, minutes=i))
    with Session(env.log.engine) as session:
        status = scan_status(session, SERIAL)
    assert (status.count, status.places, status.suspect) == (10, 1, False)
    _scan(env, SERIAL, None, T0 + timedelta(hours=3, minutes=10))
    with Session(env.log.engine) as session:
        status = scan_status(session, SERIAL)
    assert status.suspect and status.reason is not None and "6次" in status.reason
    assert status.count == 11

    inspector = env.add_party("inspector")
    r = env.client.get("/api/v1/scan/suspects", headers=inspector.headers)
    assert r.status_code == 200, r.text
    [item] = r.json()
    assert item["code_key"] == SERIAL and item["code_text"] == f"(01){GTIN}(21)SN0001"
    assert_problem(env.client.get("/api/v1/scan/suspects"), 401)
    shop = env.add_party("restaurant")
    assert_problem(env.client.get("/api/v1/scan/suspects", headers=shop.headers), 403)


def test_serial_scanned_from_too_many_places(env: Env) -> None:
    for i, region in enumerate(["110105", "310101", "440305", "310101", " 110105 "]):
        _scan(env, SERIAL, region, T0 + timedelta(days=i))
    with Session(env.log.engine) as session:
        assert scan_status(session, SERIAL).suspect is False
        assert scan_status(session, SERIAL).places == 3
    _scan(env, SERIAL, "510104", T0 + timedelta(days=9))
    with Session(env.log.engine) as session:
        status = scan_status(session, SERIAL)
    assert status.suspect and status.places == 4 and "4个不同地区" in (status.reason or "")


def test_lot_and_merchant_counted_never_flagged(env: Env) -> None:
    for i in range(30):
        _scan(env, LOT, f"r{i}", T0 + timedelta(seconds=i))
        _scan(env, MERCHANT, None, T0 + timedelta(seconds=i))
    with Session(env.log.engine) as session:
        lot, merchant = scan_status(session, LOT), scan_status(session, MERCHANT)
        unknown = scan_status(session, Serial(GTIN, "never").message().decode())
    assert (lot.count, lot.places, lot.suspect, lot.reason) == (30, 30, False, None)
    assert (merchant.count, merchant.places, merchant.suspect) == (30, 0, False)
    assert (unknown.count, unknown.suspect) == (0, False)


# --- the buffer: counting off the request path --------------------------------------------


def _flag_sequence() -> list[tuple[str | None, datetime]]:
    """Scans that end flagged (too many in the window), with old ones falling out of it and
    places repeated, so the buffered path must decide exactly as the direct one."""
    seq: list[tuple[str | None, datetime]] = [
        ("110105", T0 + timedelta(minutes=i)) for i in range(5)
    ]
    seq += [(" 310101 ", T0 + timedelta(hours=3, minutes=i)) for i in range(5)]
    seq += [(None, T0 + timedelta(hours=3, minutes=10)), ("110105", T0 + timedelta(hours=4))]
    return seq


def test_buffered_scans_flag_exactly_as_direct_ones(env: Env) -> None:
    direct, buffered = SERIAL, Serial(GTIN, "SN0002").message().decode()
    seq = _flag_sequence()
    for region, at in seq:
        _scan(env, direct, region, at)
    with ScanBuffer(env.log.engine, T) as buffer:
        for region, at in seq:
            buffer.add(buffered, region, now=at)
        assert buffer.unwritten() == len(seq)
        with Session(env.log.engine) as session:
            assert scan_status(session, buffered).count == 0  # nothing written yet
            shown = buffer.status(session, buffered)
        assert buffer.flush() == len(seq)
        assert buffer.unwritten() == 0
    with Session(env.log.engine) as session:
        a, b = scan_status(session, direct), scan_status(session, buffered)
        flagged = {r.code_key: r.flagged_at for r in session.scalars(select(ScanCount))}
    assert (a.count, a.places, a.suspect, a.reason) == (b.count, b.places, b.suspect, b.reason)
    assert (b.count, b.places, b.suspect) == (12, 2, True) and "6次" in (b.reason or "")
    assert flagged[direct] == flagged[buffered]  # flagged at the same scan
    # before the flush the page already showed the counts and the flag
    assert (shown.count, shown.places, shown.suspect, shown.reason) == (12, 2, True, a.reason)


def test_buffer_status_adds_unwritten_scans_and_places_once(env: Env) -> None:
    with ScanBuffer(env.log.engine, T) as buffer:
        for i, region in enumerate(["r1", "r2", None]):
            buffer.add(LOT, region, now=T0 + timedelta(seconds=i))
        buffer.flush()
        for i, region in enumerate(["r2", "r3", "r3", None]):  # r2 is already stored
            buffer.add(LOT, region, now=T0 + timedelta(minutes=1, seconds=i))
        with Session(env.log.engine) as session:
            stored = scan_status(session, LOT)
            shown = buffer.status(session, LOT)
    assert (stored.count, stored.places) == (3, 2)
    assert (shown.count, shown.places, shown.suspect) == (7, 3, False)
    with Session(env.log.engine) as session:  # closing wrote the rest
        row = session.get(ScanCount, LOT)
        assert row is not None and (row.scans, row.places) == (7, 3)
        assert row.first_at.replace(tzinfo=UTC) == T0
        assert row.last_at.replace(tzinfo=UTC) == T0 + timedelta(minutes=1, seconds=3)


def test_the_flusher_writes_in_the_background(env: Env) -> None:
    buffer = ScanBuffer(env.log.engine, T, flush_every=0.05).start()
    try:
        buffer.add(MERCHANT, None)
        deadline = time.monotonic() + 10
        while buffer.unwritten() and time.monotonic() < deadline:
            time.sleep(0.02)
        with Session(env.log.engine) as session:
            assert scan_status(session, MERCHANT).count == 1
    finally:
        buffer.close()


def test_a_failed_flush_keeps_its_scans(env: Env, tmp_path: Path) -> None:
    empty = create_engine(f"sqlite:///{tmp_path / 'no-tables.db'}")  # no scan tables
    buffer = ScanBuffer(empty, T)
    buffer.add(MERCHANT, "r1", now=T0)
    with pytest.raises(OperationalError):
        buffer.flush()
    buffer.add(MERCHANT, "r2", now=T0 + timedelta(seconds=1))
    assert buffer.unwritten() == 2
    buffer.engine = env.log.engine
    assert buffer.flush() == 2
    with Session(env.log.engine) as session:
        status = scan_status(session, MERCHANT)
    assert (status.count, status.places) == (2, 2)
    empty.dispose()
