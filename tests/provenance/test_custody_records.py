"""Custody on records other than EPCIS events, through the HTTP API on both databases: a lab's
report about a lot is accepted only once the lot's holder (or an inspector) recorded sending
the lab a sample, and is refused with 403 naming ``/body/subject`` and the holder otherwise,
storing nothing."""

from __future__ import annotations

import hashlib
from typing import Any

from recordharness import Env, assert_problem
from supplychain import (
    Member,
    capture,
    captured,
    event,
    member,
    product_lot,
    qty,
    receive,
    ship,
)

PDF = b"%PDF-1.4\n1 0 obj << >> endobj\n%%EOF\n"


def _sampling(when: str, code: str, lot: str, lab: Member, **fields: Any) -> dict[str, Any]:
    return event(
        "ObjectEvent",
        when,
        action="OBSERVE",
        bizStep="sampling",
        epcList=[],
        quantityList=[qty(code, lot, 2)],
        destinationList=[{"type": "possessing_party", "destination": lab.pgln}],
        **fields,
    )


def _report(env: Env, lab: Member, code: str, lot: str, number: str, tested_on: str) -> Any:
    r = env.client.post(
        "/api/v1/blobs",
        content=PDF,
        headers={**lab.actor.headers, "content-type": "application/pdf"},
    )
    assert r.status_code == 201, r.text
    body = {
        "report_number": number,
        "subject": {"kind": "lot", "gtin": code, "lot_code": lot},
        "tested_on": tested_on,
        "items": [{"name": "铅", "value": "未检出", "standard": "GB 2762-2022", "result": "pass"}],
        "conclusion": "pass",
        "pdf_sha256": hashlib.sha256(PDF).hexdigest(),
        "pdf_size": len(PDF),
    }
    return lab.actor.post("/api/v1/reports", "report.issue", body)


def test_a_lab_reports_on_a_lot_its_holder_sent_it_a_sample_of(env: Env) -> None:
    farm, lab = member(env, "producer"), member(env, "lab")
    code, lot = product_lot(farm, 21, "R1")
    captured(env, farm, [_sampling("2026-11-21T09:00:00+08:00", code, lot, lab)])
    r = _report(env, lab, code, lot, "R-21", "2026-11-21")
    assert r.status_code == 201, r.text
    assert len(env.client.get(f"/api/v1/lots/{code}/{lot}/reports").json()) == 1


def test_a_lab_nobody_sent_a_sample_is_refused_and_nothing_is_stored(env: Env) -> None:
    farm, lab, other = member(env, "producer"), member(env, "lab"), member(env, "lab")
    code, lot = product_lot(farm, 22, "R2")
    captured(env, farm, [_sampling("2026-11-21T09:00:00+08:00", code, lot, other)])
    before = env.snapshot()
    problem = assert_problem(_report(env, lab, code, lot, "R-22", "2026-11-21"), 403)
    assert [e["pointer"] for e in problem["errors"]] == ["/body/subject"]
    assert farm.party_id in problem["errors"][0]["detail"]  # says who holds the lot
    after = env.snapshot()
    assert after.pop("blob_uploads") == before.pop("blob_uploads") + 1  # the PDF, not a record
    assert after == before  # no entry, no report row
    assert _report(env, other, code, lot, "R-22", "2026-11-21").status_code == 201


def test_a_sample_taken_after_the_test_does_not_commission_it(env: Env) -> None:
    farm, lab = member(env, "producer"), member(env, "lab")
    code, lot = product_lot(farm, 23, "R3")
    captured(env, farm, [_sampling("2026-11-25T09:00:00+08:00", code, lot, lab)])
    assert_problem(_report(env, lab, code, lot, "R-23", "2026-11-21"), 403)
    assert _report(env, lab, code, lot, "R-23", "2026-11-25").status_code == 201


def test_only_a_holder_or_an_inspector_can_send_a_sample(env: Env) -> None:
    farm, proc, rival, lab = (member(env, k) for k in ("producer", "processor", "producer", "lab"))
    inspector = member(env, "inspector")
    code, lot = product_lot(farm, 24, "R4")
    # A rival cannot commission a report about the farm's lot, nor can the lab itself.
    for who in (rival, lab):
        refused = capture(env, who, [_sampling("2026-11-21T09:00:00+08:00", code, lot, lab)])
        assert_problem(refused, 403)
    assert_problem(_report(env, lab, code, lot, "R-24", "2026-11-21"), 403)
    # Official sampling (监督抽检) by an inspector commissions the lab.
    captured(env, inspector, [_sampling("2026-11-21T10:00:00+08:00", code, lot, lab)])
    assert _report(env, lab, code, lot, "R-24", "2026-11-21").status_code == 201
    # The next holder may commission a test once it received the lot, the farm for the
    # time it held it.
    captured(env, farm, [ship("2026-11-22T08:00:00+08:00", farm, proc, [qty(code, lot, 1000)])])
    captured(env, proc, [receive("2026-11-22T18:00:00+08:00", farm, proc, [qty(code, lot, 1000)])])
    late = capture(env, farm, [_sampling("2026-11-23T09:00:00+08:00", code, lot, lab)])
    assert proc.party_id in assert_problem(late, 403)["errors"][0]["detail"]
    captured(env, proc, [_sampling("2026-11-23T09:00:00+08:00", code, lot, lab)])
    assert _report(env, lab, code, lot, "R-24b", "2026-11-23").status_code == 201


def test_a_sampling_event_declared_in_error_commissions_nothing(env: Env) -> None:
    farm, lab = member(env, "producer"), member(env, "lab")
    code, lot = product_lot(farm, 25, "R5")
    sampled = _sampling("2026-11-21T09:00:00+08:00", code, lot, lab)
    captured(env, farm, [sampled])
    declaration = {"declarationTime": "2026-11-21T12:00:00Z", "reason": "incorrect_data"}
    captured(env, farm, [sampled | {"errorDeclaration": declaration}])
    assert_problem(_report(env, lab, code, lot, "R-25", "2026-11-21"), 403)


def test_a_report_about_an_unknown_lot_is_still_unknown(env: Env) -> None:
    lab = member(env, "lab")
    r = _report(env, lab, "06901234999997", "NOPE", "R-26", "2026-11-21")
    assert_problem(r, 422)  # not a custody refusal: there is no such lot


def test_the_openapi_document_states_the_custody_refusal(env: Env) -> None:
    responses = env.client.get("/openapi.json").json()["paths"]["/api/v1/reports"]["post"]
    assert {"403", "409", "422"} <= set(responses["responses"])
    assert "sampling" in responses["description"]


def _pack(when: str, code: str, lot: str, sscc: str, action: str = "ADD") -> dict[str, Any]:
    return event(
        "AggregationEvent",
        when,
        action=action,
        parentID=sscc,
        childEPCs=[],
        childQuantityList=[qty(code, lot, 1000)],
    )


def _sample_unit(when: str, sscc: str, lab: Member) -> dict[str, Any]:
    return event(
        "ObjectEvent",
        when,
        action="OBSERVE",
        bizStep="sampling",
        epcList=[sscc],
        destinationList=[{"type": "possessing_party", "destination": lab.pgln}],
    )


def test_a_sample_sent_through_the_logistic_unit_holding_the_lot_commissions_the_lab(
    env: Env,
) -> None:
    farm, lab = member(env, "producer"), member(env, "lab")
    code, lot = product_lot(farm, 31, "R31")
    other_code, other_lot = product_lot(farm, 32, "R32")
    sscc = "https://id.gs1.org/00/369012340000000314"
    captured(env, farm, [_pack("2026-11-21T08:00:00+08:00", code, lot, sscc)])
    captured(env, farm, [_sample_unit("2026-11-21T09:00:00+08:00", sscc, lab)])
    r = _report(env, lab, code, lot, "R-31", "2026-11-21")
    assert r.status_code == 201, r.text
    # the unit never held the other lot: its sample says nothing about it
    refused = assert_problem(_report(env, lab, other_code, other_lot, "R-32", "2026-11-21"), 403)
    assert [e["pointer"] for e in refused["errors"]] == ["/body/subject"]


def test_a_unit_sampled_after_the_lot_was_unpacked_does_not_commission_the_lab(
    env: Env,
) -> None:
    farm, lab = member(env, "producer"), member(env, "lab")
    code, lot = product_lot(farm, 33, "R33")
    sscc = "https://id.gs1.org/00/369012340000000338"
    captured(
        env,
        farm,
        [
            _pack("2026-11-21T08:00:00+08:00", code, lot, sscc),
            _pack("2026-11-21T08:30:00+08:00", code, lot, sscc, "DELETE"),
        ],
    )
    captured(env, farm, [_sample_unit("2026-11-21T09:00:00+08:00", sscc, lab)])
    refused = assert_problem(_report(env, lab, code, lot, "R-33", "2026-11-21"), 403)
    assert [e["pointer"] for e in refused["errors"]] == ["/body/subject"]
