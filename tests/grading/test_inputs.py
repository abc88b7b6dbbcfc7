"""The grade inputs read from real EPCIS captures and reports, on both databases: trace
completeness and timeliness, recalls of lots a party handled, failed reports about its lots."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from recordharness import TEST_PREFIX, Actor, Env, gtin, lab_gln, sample

from foodtrace.grading import inputs
from foodtrace.grading.flows import local_day

PDF = b"%PDF-1.4 failed test report\n%%EOF\n"
GTIN = gtin(1)


def _dl(lot: str) -> str:
    return f"https://id.gs1.org/01/{GTIN}/10/{lot}"


def _event(hours_ago: float, step: str, lot: str, **extra: Any) -> dict[str, Any]:
    at = datetime.now(UTC) - timedelta(hours=hours_ago)
    return {
        "type": "ObjectEvent",
        "eventTime": at.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "eventTimeZoneOffset": "+08:00",
        "action": "OBSERVE",
        "bizStep": step,
        "quantityList": [{"epcClass": _dl(lot), "quantity": 10, "uom": "KGM"}],
        **extra,
    }


def _capture(env: Env, actor: Actor, events: list[dict[str, Any]]) -> None:
    document = {
        "@context": ["https://ref.gs1.org/standards/epcis/epcis-context.jsonld"],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "epcisBody": {"eventList": events},
    }
    r = env.client.post(
        "/epcis/capture",
        json=document,
        headers={**actor.headers, "Content-Type": "application/ld+json"},
    )
    assert r.status_code in (201, 202), r.text
    assert r.json()["success"], r.json()


def test_epcis_and_report_inputs(env: Env) -> None:
    farm = env.add_party("producer", custodial=True)
    inspector = env.add_party("inspector", custodial=True)
    number = lab_gln()
    lab = env.add_party("lab", details={"gln": number})
    env.assign_prefix(farm.party_id, TEST_PREFIX)
    assert (
        farm.post(
            "/api/v1/products", "product.register", {"gtin": GTIN, "name": "菠菜"}
        ).status_code
        == 201
    )
    lot = {
        "gtin": GTIN,
        "lot_code": "L1",
        "production_date": "2026-03-01",
        "quantity": 10,
        "unit": "kg",
    }
    assert farm.post("/api/v1/lots", "lot.create", lot).status_code == 201
    where = {"readPoint": {"id": "urn:epc:id:sgln:0614141.00777.0"}}
    _capture(
        env,
        farm,
        [
            _event(1, "commissioning", "L1", **where),  # complete and timely
            _event(2, "shipping", "L1", **where),  # shipping without source/destination
            _event(48, "commissioning", "L2", **where),  # recorded two days late
        ],
    )
    _capture(env, inspector, [_event(0.5, "holding", "L1", disposition="recalled", **where)])
    sample(env, inspector, number, GTIN, "L1", f"{local_day().isoformat()}T00:00:00+08:00")
    r = env.client.post(
        "/api/v1/blobs", content=PDF, headers={**lab.headers, "content-type": "application/pdf"}
    )
    assert r.status_code == 201, r.text
    report = {
        "report_number": "R-FAIL-1",
        "subject": {"kind": "lot", "gtin": GTIN, "lot_code": "L1"},
        "tested_on": local_day().isoformat(),
        "items": [
            {
                "name": "毒死蜱",
                "value": "0.12",
                "limit": "≤0.05",
                "unit": "mg/kg",
                "standard": "GB 2763-2021",
                "result": "fail",
            }
        ],
        "conclusion": "fail",
        "pdf_sha256": r.json()["sha256"],
        "pdf_size": len(PDF),
    }
    assert lab.post("/api/v1/reports", "report.issue", report).status_code == 201

    since = local_day() - timedelta(days=30)
    with env.client.app.state.sessions() as session:  # type: ignore[attr-defined]
        trace = inputs.gather_trace_events(session, since)[farm.party_id]
        recalls = inputs.recalled_lots(session, since)
        failed = inputs.gather_failed_reports(session, since)
        assert inputs.businesses(session) == [farm.party_id]
    assert sorted((e.biz_step, e.has_where, e.has_what, e.has_destination) for e in trace) == [
        ("commissioning", True, True, False),
        ("commissioning", True, True, False),
        ("shipping", True, True, False),
    ]
    assert len(recalls[farm.party_id]) == 1  # it handled the recalled lot L1
    assert failed[farm.party_id] == [local_day()]  # the failed report names its lot

    r = env.client.post("/api/v1/grades/recompute", headers=env.regulator.headers)
    assert r.status_code == 200, r.text
    [grade] = env.client.get(f"/api/v1/parties/{farm.party_id}/grades").json()
    values = {i["name"]: i for i in grade["record"]["indicators"]}
    assert values["trace_records"]["facts"] == {"events": 3, "complete": 2, "timely": 2}
    assert values["trace_records"]["value"] == 0.3333  # only the first is complete and timely
    assert (values["recalls"]["value"], values["test_reports"]["value"]) == (1, 1)
