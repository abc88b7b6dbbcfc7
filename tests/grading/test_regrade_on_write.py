"""Regrading on write (foodtrace.grading.hook): every input type, written through its own
route, adds a grade entry when it moves the grade; a capture of many events regrades once;
with the setting off nothing is regraded."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from recordharness import Actor, Env
from supplychain import captured, event, lot_class, member, product_lot

from foodtrace.grading import flows
from foodtrace.grading.flows import local_day

TODAY = local_day()
PDF = b"%PDF-1.4\n1 0 obj << >> endobj\n%%EOF\n"


@pytest.fixture
def regrading(env: Env, monkeypatch: pytest.MonkeyPatch) -> Env:
    on = env.settings.model_copy(update={"grade_recompute_on_write": True})
    monkeypatch.setattr(env.log, "settings", on)
    return env


def _grades(env: Env, party_id: str) -> list[dict[str, Any]]:
    r = env.client.get(f"/api/v1/parties/{party_id}/grades")
    assert r.status_code == 200, r.text
    return [g["record"] for g in r.json() if g["record"].get("kind") != "set"]


def _ok(r: Any) -> None:
    assert r.status_code == 201, r.text


def test_each_input_type_regrades_its_business(regrading: Env) -> None:
    env = regrading
    shop, inspector, lab = (env.add_party(k) for k in ("restaurant", "inspector", "lab"))
    seen = [len(_grades(env, shop.party_id))]

    def step(what: str) -> None:
        n = len(_grades(env, shop.party_id))
        assert n == seen[-1] + 1, f"{what} did not add a grade entry"
        seen.append(n)

    _ok(
        env.regulator.post(
            "/api/v1/licences",
            "licence.issue",
            {
                "number": "JY23101150000099",
                "kind": "food_business",
                "holder": shop.party_id,
                "scope": "热食类食品制售",
                "issuer": "崇明区市场监督管理局",
                "valid_from": (TODAY - timedelta(days=365)).isoformat(),
                "valid_until": (TODAY + timedelta(days=900)).isoformat(),
            },
        )
    )
    step("licence")
    _ok(
        shop.post(
            "/api/v1/health-certificates",
            "health.certificate.issue",
            {
                "certificate_number": "HC-hook-1",
                "holder_commitment": "ab" * 32,
                "issuer": "崇明区疾控中心",
                "valid_from": (TODAY - timedelta(days=30)).isoformat(),
                "valid_until": (TODAY + timedelta(days=300)).isoformat(),
            },
        )
    )
    step("health certificate")
    visit = {"party_id": shop.party_id, "inspected_on": TODAY.isoformat(), "result": "不合格"}
    _ok(inspector.post("/api/v1/inspections", "inspection.record", visit))
    step("inspection")
    r = env.client.post(
        "/api/v1/blobs", content=PDF, headers={**lab.headers, "content-type": "application/pdf"}
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
    step("test report")
    penalty = {
        "party_id": shop.party_id,
        "decision_number": "沪市监崇处〔2026〕99号",
        "decided_on": TODAY.isoformat(),
        "amount": "5000.00",
        "severity": "general",
        "reason": "未按规定查验供货者许可证",
    }
    _ok(env.regulator.post("/api/v1/penalties", "penalty.record", penalty))
    step("penalty")
    grades = _grades(env, shop.party_id)
    assert grades[0]["policy_version"] and len(grades[0]["indicators"]) == 8


def test_trace_records_and_recalls_regrade_the_producer(regrading: Env) -> None:
    env = regrading
    producer = member(env, "producer")
    code, lot = product_lot(producer, 5, "L5")
    before = len(_grades(env, producer.party_id))
    now = datetime.now(UTC) - timedelta(hours=1)
    observe = event(
        "ObjectEvent",
        now.isoformat(timespec="seconds"),
        action="OBSERVE",
        bizStep="storing",
        quantityList=[{"epcClass": lot_class(code, lot)}],
    )
    captured(env, producer, [observe])
    after_event = len(_grades(env, producer.party_id))
    assert after_event == before + 1
    recalled = dict(observe, disposition="recalled", bizStep="holding")
    captured(env, producer, [recalled])
    grades = _grades(env, producer.party_id)
    assert len(grades) == after_event + 1
    recall = next(i for i in grades[0]["indicators"] if i["name"] == "recalls")
    assert recall["value"] != 0


def test_a_capture_of_many_events_regrades_once(
    regrading: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = regrading
    producer = member(env, "producer")
    code, lot = product_lot(producer, 6, "L6")
    calls: list[list[str] | None] = []
    real = flows.recompute

    def counted(*args: Any, **kw: Any) -> Any:
        calls.append(sorted(kw.get("only") or []))
        return real(*args, **kw)

    monkeypatch.setattr(flows, "recompute", counted)
    t0 = datetime.now(UTC) - timedelta(hours=3)
    events = [
        event(
            "ObjectEvent",
            (t0 + timedelta(seconds=i)).isoformat(timespec="seconds"),
            action="OBSERVE",
            bizStep="storing",
            quantityList=[{"epcClass": lot_class(code, lot)}],
        )
        for i in range(200)
    ]
    indices = captured(env, producer, events)
    assert len(indices) == 200
    assert calls == [[producer.party_id]]


def test_off_by_default_nothing_is_regraded(env: Env) -> None:
    shop: Actor = env.add_party("restaurant")
    visit = {"party_id": shop.party_id, "inspected_on": TODAY.isoformat(), "result": "合格"}
    _ok(env.add_party("inspector").post("/api/v1/inspections", "inspection.record", visit))
    assert _grades(env, shop.party_id) == []
