"""Scan counting and clone detection over the database (both backends): one network never
flags, six networks within the window do, flags decay and are cleared by a logged entry,
sightings are short-lived, and the buffer decides exactly as direct writes (bounded)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from recordharness import Env, assert_problem, pointers
from sqlalchemy import create_engine, func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from foodtrace.scan.buffer import ScanBuffer, ScanBufferFull
from foodtrace.scan.models import ScanCount, ScanSighting
from foodtrace.scan.rules import Thresholds, code_kind, code_text
from foodtrace.scan.service import record_scan, scan_status, suspects
from foodtrace.trace.codes import CodeKind, Lot, Merchant, Serial

GTIN = "06901234567892"
T = Thresholds(window_seconds=600, min_networks=6, decay_seconds=86400)
T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
SERIAL = Serial(GTIN, "SN0001").message().decode()
LOT = Lot(GTIN, "L2026-05").message().decode()
MERCHANT = Merchant("91110105MA04G7WX3L").message().decode()
CLEAR = "/api/v1/scan/suspects/clear"


def test_code_keys() -> None:
    assert code_kind(SERIAL) is CodeKind.SERIAL
    assert code_kind(LOT) is CodeKind.LOT
    assert code_kind(MERCHANT) is CodeKind.MERCHANT
    assert code_text(SERIAL) == f"(01){GTIN}(21)SN0001"
    with pytest.raises(ValueError, match="code_key"):
        code_kind("https://example.com/01/1")


def _refused(r: httpx.Response, status: int, pointer: str) -> None:
    assert_problem(r, status)
    assert any(p.endswith(pointer) for p in pointers(r)), r.text  # /body/entry/body/… if signed


def _scan(env: Env, key: str, network: str | None, at: datetime) -> None:
    with Session(env.log.engine) as session, session.begin():
        record_scan(session, key, network, now=at, thresholds=T)


def _status(env: Env, key: str, at: datetime) -> tuple[int, int, bool]:
    with Session(env.log.engine) as session:
        s = scan_status(session, key, now=at, thresholds=T)
    return s.count, s.places, s.suspect


def test_51_scans_from_one_network_never_flag(env: Env) -> None:
    for i in range(51):
        _scan(env, SERIAL, "net-a", T0 + timedelta(seconds=i))
    assert _status(env, SERIAL, T0 + timedelta(minutes=1)) == (51, 1, False)
    for i in range(200):  # nor do scans whose network is unknown
        _scan(env, SERIAL, None, T0 + timedelta(seconds=60 + i))
    assert _status(env, SERIAL, T0 + timedelta(minutes=5)) == (251, 1, False)


def test_six_networks_in_a_minute_flag(env: Env) -> None:
    for i in range(5):
        _scan(env, SERIAL, f"net-{i}", T0 + timedelta(seconds=10 * i))
    assert _status(env, SERIAL, T0 + timedelta(seconds=50)) == (5, 5, False)
    _scan(env, SERIAL, "net-5", T0 + timedelta(seconds=55))
    count, places, suspect = _status(env, SERIAL, T0 + timedelta(minutes=1))
    assert (count, places, suspect) == (6, 6, True)
    with Session(env.log.engine) as session:
        [listed] = suspects(session, now=T0 + timedelta(minutes=1), thresholds=T)
        assert listed.code_key == SERIAL and "6个不同网络" in (listed.reason or "")


def test_networks_spread_over_more_than_the_window_do_not_flag(env: Env) -> None:
    for i in range(12):  # one new network every 3 minutes: at most 4 within 10 minutes
        _scan(env, SERIAL, f"net-{i}", T0 + timedelta(minutes=3 * i))
    assert _status(env, SERIAL, T0 + timedelta(minutes=33)) == (12, 4, False)
    with Session(env.log.engine) as session:  # sightings older than the window are gone
        kept = session.scalar(select(func.count()).select_from(ScanSighting))
    assert kept == 4


def test_a_flag_decays_and_new_anomalies_flag_again(env: Env) -> None:
    for i in range(6):
        _scan(env, SERIAL, f"net-{i}", T0 + timedelta(seconds=i))
    assert _status(env, SERIAL, T0 + timedelta(hours=23))[2] is True
    later = T0 + timedelta(days=1, seconds=5)  # flagged at the sixth scan, T0 + 5 s
    assert _status(env, SERIAL, later)[2] is False  # decayed
    with Session(env.log.engine) as session:
        assert suspects(session, now=later, thresholds=T) == []
    for i in range(6):
        _scan(env, SERIAL, f"other-{i}", later + timedelta(seconds=i))
    assert _status(env, SERIAL, later + timedelta(minutes=1))[2] is True
    with Session(env.log.engine) as session:
        row = session.get(ScanCount, SERIAL)
        assert row is not None and row.flagged_at is not None
        assert row.flagged_at.replace(tzinfo=UTC) == later + timedelta(seconds=5)


def test_lot_and_merchant_counted_never_flagged(env: Env) -> None:
    for i in range(30):
        _scan(env, LOT, f"net-{i}", T0 + timedelta(seconds=i))
        _scan(env, MERCHANT, f"net-{i}", T0 + timedelta(seconds=i))
    at = T0 + timedelta(minutes=1)
    assert _status(env, LOT, at) == (30, 0, False)
    assert _status(env, MERCHANT, at) == (30, 0, False)
    assert _status(env, Serial(GTIN, "never").message().decode(), at) == (0, 0, False)
    with Session(env.log.engine) as session:  # no network is kept for them
        assert session.scalar(select(func.count()).select_from(ScanSighting)) == 0


def test_an_inspector_clears_a_flag_with_a_logged_entry(env: Env) -> None:
    now = datetime.now(UTC)
    for i in range(6):
        _scan(env, SERIAL, f"net-{i}", now - timedelta(seconds=10 - i))
    inspector = env.add_party("inspector")
    r = env.client.get("/api/v1/scan/suspects", headers=inspector.headers)
    assert r.status_code == 200, r.text
    [item] = r.json()
    assert item["code_key"] == SERIAL and item["code_text"] == f"(01){GTIN}(21)SN0001"
    assert_problem(env.client.get("/api/v1/scan/suspects"), 401)
    shop = env.add_party("restaurant")
    assert_problem(env.client.get("/api/v1/scan/suspects", headers=shop.headers), 403)

    body = {"code_key": SERIAL, "note": "现场核查为正品"}
    size = env.log.size()
    assert_problem(env.client.post("/api/v1/scan/suspects/clear", json=body), 401)
    assert_problem(shop.post(CLEAR, "scan.clear", body), 403)
    assert env.log.size() == size  # refused: nothing logged, still flagged
    r = inspector.post(CLEAR, "scan.clear", body)
    assert r.status_code == 201, r.text
    cleared = r.json()
    assert cleared["cleared_by"] == inspector.party_id and cleared["code_key"] == SERIAL
    entry = env.client.get(f"/api/v1/records/{cleared['entry_index']}").json()
    assert entry["entry"]["type"] == "scan.clear" and entry["entry"]["body"] == body
    with Session(env.log.engine) as session:
        status = scan_status(session, SERIAL)
        assert status.suspect is False and status.cleared_at is not None
        assert session.scalar(select(func.count()).select_from(ScanSighting)) == 0
    assert env.client.get("/api/v1/scan/suspects", headers=inspector.headers).json() == []
    # clearing again, or a code never scanned: refused, naming the field
    _refused(inspector.post(CLEAR, "scan.clear", body), 409, "/body/code_key")
    unknown = {"code_key": LOT, "note": "x"}
    _refused(inspector.post(CLEAR, "scan.clear", unknown), 422, "/body/code_key")
    # the same networks again do not count: a new flag needs new anomalies
    for i in range(5):
        _scan(env, SERIAL, f"net-{i}", datetime.now(UTC))
    with Session(env.log.engine) as session:
        assert scan_status(session, SERIAL).suspect is False


def test_the_suspects_list_pages_with_a_cursor(env: Env) -> None:
    now = datetime.now(UTC)
    keys = [Serial(GTIN, f"P{n}").message().decode() for n in range(5)]
    for n, key in enumerate(keys):
        for i in range(6):
            _scan(env, key, f"net-{i}", now - timedelta(minutes=5 - n, seconds=10 - i))
    inspector = env.add_party("inspector")
    seen: list[str] = []
    url = "/api/v1/scan/suspects?perPage=2"
    while url:
        r = env.client.get(url, headers=inspector.headers)
        assert r.status_code == 200, r.text
        assert len(r.json()) <= 2
        seen += [s["code_key"] for s in r.json()]
        token = r.headers.get("Next-Page-Token")
        url = f"/api/v1/scan/suspects?perPage=2&nextPageToken={token}" if token else ""
    assert seen == keys[::-1]  # newest flag first, each once
    bad = env.client.get("/api/v1/scan/suspects?nextPageToken=zz", headers=inspector.headers)
    _refused(bad, 400, "/query/nextPageToken")
    big = env.client.get("/api/v1/scan/suspects?perPage=100000", headers=inspector.headers)
    _refused(big, 400, "/query/perPage")


# --- the buffer: counting off the request path --------------------------------------------


def _sequence() -> list[tuple[str | None, datetime]]:
    """Scans that end flagged, with networks repeated, unknown ones, and old ones leaving
    the window, so the buffered path must decide exactly as the direct one."""
    seq: list[tuple[str | None, datetime]] = [
        (f"net-{i % 3}", T0 + timedelta(minutes=i)) for i in range(9)
    ]
    seq += [(None, T0 + timedelta(minutes=20))]
    seq += [(f"late-{i}", T0 + timedelta(minutes=30, seconds=i)) for i in range(6)]
    return seq


def test_buffered_scans_flag_exactly_as_direct_ones(env: Env) -> None:
    direct, buffered = SERIAL, Serial(GTIN, "SN0002").message().decode()
    seq = _sequence()
    for net, at in seq:
        _scan(env, direct, net, at)
    end = T0 + timedelta(minutes=31)
    with ScanBuffer(env.log.engine, T) as buffer:
        for net, at in seq:
            buffer.add(buffered, net, now=at)
        assert buffer.unwritten() == len(seq)
        with Session(env.log.engine) as session:
            assert scan_status(session, buffered, now=end, thresholds=T).count == 0
            shown = buffer.status(session, buffered, now=end)
        assert buffer.flush() == len(seq)
        assert buffer.unwritten() == 0
    with Session(env.log.engine) as session:
        a = scan_status(session, direct, now=end, thresholds=T)
        b = scan_status(session, buffered, now=end, thresholds=T)
        flagged = {r.code_key: r.flagged_at for r in session.scalars(select(ScanCount))}
    assert (a.count, a.places, a.suspect, a.reason) == (b.count, b.places, b.suspect, b.reason)
    assert (b.count, b.places, b.suspect) == (16, 6, True)
    assert flagged[direct] == flagged[buffered]  # flagged at the same scan
    # before the flush the page already showed the counts and the flag
    assert (shown.count, shown.places, shown.suspect, shown.reason) == (16, 6, True, a.reason)


def test_a_full_buffer_refuses_more_scans(env: Env) -> None:
    buffer = ScanBuffer(env.log.engine, T, max_unwritten=3)
    for i in range(3):
        buffer.add(MERCHANT, None, now=T0 + timedelta(seconds=i))
    with pytest.raises(ScanBufferFull) as refused:
        buffer.add(SERIAL, "net-a", now=T0)
    assert refused.value.retry_after >= 1
    assert buffer.flush() == 3
    buffer.add(SERIAL, "net-a", now=T0)  # room again once written
    assert buffer.unwritten() == 1
    buffer.close()


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
    buffer.add(MERCHANT, "net-a", now=T0)
    with pytest.raises(OperationalError):
        buffer.flush()
    buffer.add(MERCHANT, "net-b", now=T0 + timedelta(seconds=1))
    assert buffer.unwritten() == 2
    buffer.engine = env.log.engine
    assert buffer.flush() == 2
    assert buffer.unwritten() == 0
    with Session(env.log.engine) as session:
        assert scan_status(session, MERCHANT).count == 2
    empty.dispose()
