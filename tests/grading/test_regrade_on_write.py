"""Regrading on write (foodtrace.grading.hook), on by default: a write of each of the 8 input
kinds, through its own route, changes the business's stored grade entry with no recompute
asked for; a capture of many events regrades once; a regrade reads and writes for the
businesses the write touched, however many there are; it runs off the event loop; and a
regrade that fails loses no write."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from recordharness import Actor, Env, credit_code
from sqlalchemy import event as sa_event
from sqlalchemy import insert
from supplychain import captured, event, lot_class, member, product_lot

from foodtrace.grading import flows, hook
from foodtrace.grading import views as grading_views
from foodtrace.grading.flows import local_day
from foodtrace.inspection.models import Inspection
from foodtrace.party.models import Licence, Party
from foodtrace.report.models import Report

TODAY = local_day()
PDF = b"%PDF-1.4\n1 0 obj << >> endobj\n%%EOF\n"


def _grades(env: Env, party_id: str) -> list[dict[str, Any]]:
    """The party's computed grade records, newest first."""
    r = env.client.get(f"/api/v1/parties/{party_id}/grades")
    assert r.status_code == 200, r.text
    return [g["record"] for g in r.json() if g["record"].get("kind") != "set"]


def _indicator(grade: dict[str, Any] | None, name: str) -> tuple[Any, Any] | None:
    if grade is None:
        return None
    [found] = [i for i in grade["indicators"] if i["name"] == name]
    return found["value"], found.get("facts")


def _ok(r: Any) -> None:
    assert r.status_code == 201, r.text


def _licence(env: Env, shop: Actor, number: str) -> None:
    body = {
        "number": number,
        "kind": "food_business",
        "holder": shop.party_id,
        "scope": "热食类食品制售",
        "issuer": "崇明区市场监督管理局",
        "valid_from": (TODAY - timedelta(days=365)).isoformat(),
        "valid_until": (TODAY + timedelta(days=900)).isoformat(),
    }
    _ok(env.regulator.post("/api/v1/licences", "licence.issue", body))


def _inspect(env: Env, inspector: Actor, shop: Actor, result: str = "不合格") -> None:
    visit = {"party_id": shop.party_id, "inspected_on": TODAY.isoformat(), "result": result}
    _ok(inspector.post("/api/v1/inspections", "inspection.record", visit))


def _observe(code: str, lot: str, hours_ago: float, **fields: Any) -> dict[str, Any]:
    return event(
        "ObjectEvent",
        (datetime.now(UTC) - timedelta(hours=hours_ago)).isoformat(timespec="seconds"),
        action="OBSERVE",
        bizStep="storing",
        quantityList=[{"epcClass": lot_class(code, lot)}],
        **fields,
    )


# --- one write of each input kind, and the indicator it must move ----------------------------
# Each returns (the business, what to write); the write is timed after the business's grade
# before it is read. Penalties and complaint findings are also regraded by their own routes:
# those tests switch that off, so only the hook can have moved the grade.

Write = Callable[[], None]


def licence(env: Env, _: pytest.MonkeyPatch) -> tuple[Actor, Write]:
    shop = env.add_party("restaurant")
    return shop, lambda: _licence(env, shop, "JY23101150000099")


def health_certificate(env: Env, _: pytest.MonkeyPatch) -> tuple[Actor, Write]:
    shop = env.add_party("restaurant")
    body = {
        "certificate_number": "HC-hook-1",
        "holder_commitment": "ab" * 32,
        "issuer": "崇明区疾控中心",
        "valid_from": (TODAY - timedelta(days=30)).isoformat(),
        "valid_until": (TODAY + timedelta(days=300)).isoformat(),
    }
    return shop, lambda: _ok(
        shop.post("/api/v1/health-certificates", "health.certificate.issue", body)
    )


def inspection(env: Env, _: pytest.MonkeyPatch) -> tuple[Actor, Write]:
    shop, inspector = env.add_party("restaurant"), env.add_party("inspector")
    return shop, lambda: _inspect(env, inspector, shop)


def failed_report(env: Env, _: pytest.MonkeyPatch) -> tuple[Actor, Write]:
    shop, lab = env.add_party("restaurant"), env.add_party("lab")

    def write() -> None:
        r = env.client.post(
            "/api/v1/blobs",
            content=PDF,
            headers={**lab.headers, "content-type": "application/pdf"},
        )
        assert r.status_code == 201, r.text
        report = {
            "report_number": "SHJC-HOOK-1",
            "subject": {"kind": "party", "party_id": shop.party_id},
            "tested_on": TODAY.isoformat(),
            "items": [{"name": "菌落总数", "value": "9e5", "standard": "GB", "result": "fail"}],
            "conclusion": "fail",
            "pdf_sha256": hashlib.sha256(PDF).hexdigest(),
            "pdf_size": len(PDF),
        }
        _ok(lab.post("/api/v1/reports", "report.issue", report))

    return shop, write


def complaint_substantiated(env: Env, monkeypatch: pytest.MonkeyPatch) -> tuple[Actor, Write]:
    shop = env.add_party("restaurant")
    r = env.client.post(
        "/api/v1/complaints",
        json={"merchant_id": shop.party_id, "category": "hygiene", "description": "餐具不洁"},
    )
    assert r.status_code == 201, r.text
    finding = {
        "tracking_number": r.json()["tracking_number"],
        "substantiated": True,
        "found_on": TODAY.isoformat(),
    }
    monkeypatch.setattr(grading_views, "_recompute", lambda *_: None)
    return shop, lambda: _ok(
        env.regulator.post("/api/v1/complaint-findings", "complaint.finding", finding)
    )


def recall(env: Env, _: pytest.MonkeyPatch) -> tuple[Actor, Write]:
    """Another party (an inspector) records the recall of a lot the producer handled: the
    producer is regraded through the lot, not through an event of its own."""
    producer = member(env, "producer")
    code, lot = product_lot(producer, 5, "L5")
    captured(env, producer, [_observe(code, lot, 2)])
    inspector = env.add_party("inspector", custodial=True)
    recalled = _observe(code, lot, 1, disposition="recalled")
    return producer.actor, lambda: captured(env, inspector, [dict(recalled, bizStep="holding")])


def trace_completeness(env: Env, _: pytest.MonkeyPatch) -> tuple[Actor, Write]:
    producer = member(env, "producer")
    code, lot = product_lot(producer, 6, "L6")
    return producer.actor, lambda: captured(env, producer, [_observe(code, lot, 1)])


def penalty(env: Env, monkeypatch: pytest.MonkeyPatch) -> tuple[Actor, Write]:
    shop = env.add_party("restaurant")
    body = {
        "party_id": shop.party_id,
        "decision_number": "沪市监崇处〔2026〕99号",
        "decided_on": TODAY.isoformat(),
        "amount": "5000.00",
        "severity": "general",
        "reason": "未按规定查验供货者许可证",
    }
    monkeypatch.setattr(grading_views, "_recompute", lambda *_: None)
    return shop, lambda: _ok(env.regulator.post("/api/v1/penalties", "penalty.record", body))


INPUTS = {
    "licences": licence,
    "health_certificates": health_certificate,
    "inspections": inspection,
    "test_reports": failed_report,
    "complaints": complaint_substantiated,
    "recalls": recall,
    "trace_records": trace_completeness,
    "penalties": penalty,
}


@pytest.mark.parametrize("indicator", sorted(INPUTS))
def test_a_write_of_each_input_changes_the_stored_grade(
    env: Env, monkeypatch: pytest.MonkeyPatch, indicator: str
) -> None:
    assert env.settings.grade_recompute_on_write  # the default, nothing switched on here
    business, write = INPUTS[indicator](env, monkeypatch)
    before = _grades(env, business.party_id)
    write()
    after = _grades(env, business.party_id)
    assert len(after) == len(before) + 1, f"a {indicator} write logged no grade entry"
    previous = before[0] if before else None
    assert _indicator(after[0], indicator) != _indicator(previous, indicator)
    assert after[0]["policy_version"] and len(after[0]["indicators"]) == 8


def test_a_capture_of_many_events_regrades_once(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    producer = member(env, "producer")
    code, lot = product_lot(producer, 6, "L6")
    calls: list[list[str]] = []
    real = flows.recompute

    def counted(*args: Any, **kw: Any) -> Any:
        calls.append(sorted(kw.get("only") or []))
        return real(*args, **kw)

    monkeypatch.setattr(flows, "recompute", counted)
    events = [_observe(code, lot, 3 - i / 3600) for i in range(200)]
    assert len(captured(env, producer, events)) == 200
    assert calls == [[producer.party_id]]


def _district(env: Env, n: int, start: int) -> None:
    """``n`` more licensed, inspected, reported-on businesses, inserted as rows (by Core, as
    an import would: no write of theirs is waiting for a regrade)."""
    ids = [f"biz-{i:05d}" for i in range(start, start + n)]
    if not ids:
        return
    lab = env.regulator.party_id
    rows: list[tuple[Any, list[dict[str, Any]]]] = [
        (
            Party.__table__,
            [
                {
                    "party_id": p,
                    "name": p,
                    "kind": "restaurant",
                    "credit_code": credit_code(),
                    "entry_index": 0,
                }
                for p in ids
            ],
        ),
        (
            Licence.__table__,
            [
                {
                    "number": f"JY9{start + k:015d}",
                    "kind": "food_business",
                    "holder": p,
                    "scope": "热食类",
                    "issuer": "市场监督管理局",
                    "valid_from": TODAY - timedelta(days=30),
                    "valid_until": TODAY + timedelta(days=300),
                    "entry_index": 0,
                }
                for k, p in enumerate(ids)
            ],
        ),
        (
            Inspection.__table__,
            [
                {
                    "entry_index": 10_000_000 + start + k,
                    "inspector": lab,
                    "party_id": p,
                    "inspected_on": TODAY,
                    "result": "合格",
                    "findings": [],
                    "photos": [],
                }
                for k, p in enumerate(ids)
            ],
        ),
        (
            Report.__table__,
            [
                {
                    "report_number": f"R-{p}",
                    "lab": lab,
                    "subject_kind": "party",
                    "subject_party": p,
                    "tested_on": TODAY,
                    "conclusion": "fail",
                    "items": [],
                    "pdf_sha256": "00" * 32,
                    "pdf_size": 1,
                    "entry_index": 0,
                }
                for p in ids
            ],
        ),
    ]
    with env.client.app.state.engine.begin() as connection:  # type: ignore[attr-defined]
        for table, values in rows:
            connection.execute(insert(table), values)


def test_a_regrade_costs_the_same_however_many_businesses(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The queries a write's regrade makes (counted on the thread that regrades) and what
    it regrades do not grow when the district grows from 1 to 61 businesses."""
    shop, inspector = env.add_party("restaurant"), env.add_party("inspector")
    _licence(env, shop, "JY23101150000098")  # the platform's key is registered by now
    regrading: dict[str, Any] = {}
    real_flush, real_recompute = hook.flush, flows.recompute

    def flush(*args: Any) -> int:
        regrading["thread"] = threading.get_ident()
        try:
            return real_flush(*args)
        finally:
            regrading["thread"] = None

    def recompute(*args: Any, **kw: Any) -> Any:
        out = real_recompute(*args, **kw)
        regrading["regraded"] = (sorted(kw["only"]), out.written)
        return out

    def count(*_: Any) -> None:
        if regrading.get("thread") == threading.get_ident():
            regrading["queries"] += 1

    monkeypatch.setattr(hook, "flush", flush)
    monkeypatch.setattr(flows, "recompute", recompute)
    engines = {env.log.engine, env.client.app.state.engine}  # type: ignore[attr-defined]
    for engine in engines:
        sa_event.listen(engine, "before_cursor_execute", count)
    seen = []
    try:
        for size in (0, 20, 40):
            _district(env, size, start=len(seen) * 100)
            regrading["queries"] = 0
            _inspect(env, inspector, shop)
            seen.append((regrading["queries"], regrading["regraded"]))
    finally:
        for engine in engines:
            sa_event.remove(engine, "before_cursor_execute", count)
    assert seen[0][0] > 5  # the regrade's reads were counted
    assert seen == [seen[0]] * 3
    assert seen[0][1] == ([shop.party_id], 1)  # only the shop, and its new grade entry


def test_the_regrade_runs_off_the_event_loop(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    """Through the API (a plain route, and the EPCIS capture that hands its work to the
    thread pool) the regrade runs on the writer's worker thread, where no loop runs; called
    from a coroutine, it is handed to a thread of its own."""
    where: list[tuple[bool, int]] = []
    real_flush = hook.flush
    done = threading.Event()

    def flush(*args: Any) -> int:
        where.append((hook._on_event_loop(), threading.get_ident()))
        done.set()
        return real_flush(*args)

    monkeypatch.setattr(hook, "flush", flush)
    shop, inspector = env.add_party("restaurant"), env.add_party("inspector")
    where.clear()
    _inspect(env, inspector, shop)
    producer = member(env, "producer")
    code, lot = product_lot(producer, 7, "L7")
    where.clear()
    captured(env, producer, [_observe(code, lot, 1)])
    assert where and not any(on_loop for on_loop, _ in where)

    where.clear()
    done.clear()

    async def write_from_a_coroutine() -> int:
        hook.after_write(env.log, env.client.app.state.sessions)  # type: ignore[attr-defined]
        return threading.get_ident()

    loop_thread = asyncio.run(write_from_a_coroutine())
    assert done.wait(10)
    [(on_loop, thread)] = where
    assert not on_loop and thread != loop_thread


def test_concurrent_writes_regrade_one_at_a_time(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two writes at once: their regrades do not overlap (overlapping, the one that read
    first could log last and leave a stale grade newest), and both shops are regraded."""
    shops = [env.add_party("restaurant") for _ in range(2)]
    inspector = env.add_party("inspector")
    running, most = [0], [0]
    guard, first_regrading = threading.Lock(), threading.Event()
    real = flows.recompute

    def slow(*args: Any, **kw: Any) -> Any:
        with guard:
            running[0] += 1
            most[0] = max(most[0], running[0])
        first_regrading.set()
        try:
            time.sleep(0.5)  # long enough for the second write to commit and regrade
            return real(*args, **kw)
        finally:
            with guard:
                running[0] -= 1

    monkeypatch.setattr(flows, "recompute", slow)
    writes = [threading.Thread(target=_inspect, args=(env, inspector, s)) for s in shops]
    writes[0].start()
    assert first_regrading.wait(30)  # the first write is committed and being regraded
    writes[1].start()
    for w in writes:
        w.join(60)
    assert most[0] == 1
    for shop in shops:
        [grade] = _grades(env, shop.party_id)
        assert _indicator(grade, "inspections")[1] == {"count": 1, "failed": 1}  # type: ignore[index]


def test_a_failed_regrade_loses_no_write(
    env: Env, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The inspection is logged and answered 201 even though its regrade fails. What then:
    the error is logged, the shop waits in the pending set, and the next write (here another
    shop's inspection) regrades both; ``foodtrace grades recompute`` would too."""
    shop, other, inspector = (env.add_party(k) for k in ("restaurant", "restaurant", "inspector"))
    before = env.log.size()
    real = flows.recompute

    def broken(*_: Any, **__: Any) -> Any:
        raise RuntimeError("the grading database went away")

    monkeypatch.setattr(flows, "recompute", broken)
    with caplog.at_level(logging.ERROR, logger="foodtrace.grading.hook"):
        _inspect(env, inspector, shop)
    assert env.log.size() == before + 1  # the inspection itself
    assert env.client.get(f"/api/v1/records/{before}").status_code == 200
    assert _grades(env, shop.party_id) == []
    assert "regrading after a write failed" in caplog.text
    assert shop.party_id in hook.pending(env.log.engine)

    monkeypatch.setattr(flows, "recompute", real)
    _inspect(env, inspector, other)
    assert shop.party_id not in hook.pending(env.log.engine)
    for party in (shop, other):
        [grade] = _grades(env, party.party_id)
        assert _indicator(grade, "inspections")[1] == {"count": 1, "failed": 1}  # type: ignore[index]


def test_off_nothing_is_regraded(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    off = env.settings.model_copy(update={"grade_recompute_on_write": False})
    monkeypatch.setattr(env.log, "settings", off)
    shop, inspector = env.add_party("restaurant"), env.add_party("inspector")
    _inspect(env, inspector, shop, "合格")
    assert _grades(env, shop.party_id) == []
    assert hook.pending(env.log.engine) == set()  # the notes were dropped, not kept
