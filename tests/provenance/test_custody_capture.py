"""Custody enforced on capture, on both databases: who may write about a lot, how
shipping and receiving move it, the carrier, exempt authors, error declarations, and the
projection rebuilt from the log matching the live one."""

from __future__ import annotations

from typing import Any

from recordharness import Env, assert_problem
from sqlalchemy import select
from sqlalchemy.orm import Session
from supplychain import (
    capture,
    captured,
    event,
    lot_class,
    member,
    product_lot,
    qty,
    receive,
    ship,
)
from typer.testing import CliRunner

from foodtrace.cli import app
from foodtrace.provenance import rebuild, service
from foodtrace.provenance.models import (
    CustodyHold,
    LineageNode,
)
from foodtrace.trace.lineage import lot_canonical


def _observe(when: str, quantities: list[dict[str, Any]], **fields: Any) -> dict[str, Any]:
    return event(
        "ObjectEvent",
        when,
        action="OBSERVE",
        bizStep="inspecting",
        epcList=[],
        quantityList=quantities,
        **fields,
    )


def _recall(when: str, quantities: list[dict[str, Any]]) -> dict[str, Any]:
    return event(
        "ObjectEvent",
        when,
        action="OBSERVE",
        bizStep="holding",
        disposition="recalled",
        epcList=[],
        quantityList=quantities,
    )


def test_a_rival_cannot_write_about_a_lot_it_never_held(env: Env) -> None:
    farm, rival = member(env, "producer"), member(env, "producer")
    code, lot = product_lot(farm, 1, "L1")
    before = env.snapshot()
    r = capture(
        env,
        rival,
        [
            event(
                "ObjectEvent",
                "2026-11-21T08:00:00+08:00",
                action="ADD",
                bizStep="commissioning",
                epcList=[],
                quantityList=[qty("06901234999997", "OWN", 5)],
            ),
            _recall("2026-11-21T09:00:00+08:00", [qty(code, lot, 1000)]),
        ],
    )
    problem = assert_problem(r, 403)
    assert [e["pointer"] for e in problem["errors"]] == ["/epcisBody/eventList/1/quantityList/0"]
    assert farm.party_id in problem["errors"][0]["detail"]  # says who holds it
    assert env.snapshot() == before  # nothing stored, not even the first event or a job


def test_shipping_and_receiving_move_custody(env: Env) -> None:
    farm, proc, truck = (member(env, k) for k in ("producer", "processor", "logistics"))
    code, lot = product_lot(farm, 2, "L2", quantity=1000)
    captured(
        env,
        farm,
        [ship("2026-11-21T14:00:00+08:00", farm, proc, [qty(code, lot, 1000)], carrier=truck)],
    )
    reading = _observe("2026-11-21T16:00:00+08:00", [qty(code, lot)]) | {
        "bizStep": "transporting",
        "sensorElementList": [
            {"sensorReport": [{"type": "Temperature", "value": 3.0, "uom": "CEL"}]}
        ],
    }
    captured(env, truck, [reading])  # the carrier, while in transit
    refused = capture(env, proc, [_observe("2026-11-21T17:00:00+08:00", [qty(code, lot)])])
    assert_problem(refused, 403)  # not received yet: the farm still holds it
    captured(env, proc, [receive("2026-11-21T19:00:00+08:00", farm, proc, [qty(code, lot, 1000)])])
    with Session(env.log.engine) as session:
        assert service.holder(session, code, lot) == proc.party_id
        history = service.holders_history(session, lot_canonical(code, lot))
        assert [(h.holder, h.how, h.until is None) for h in history] == [
            (farm.party_id, "created", False),
            (proc.party_id, "received", True),
        ]
    # The farm may still speak of the time it held the lot, not of after the receipt.
    captured(env, farm, [_observe("2026-11-21T10:00:00+08:00", [qty(code, lot)])])
    late = capture(env, farm, [_observe("2026-11-22T10:00:00+08:00", [qty(code, lot)])])
    problem = assert_problem(late, 403)
    assert proc.party_id in problem["errors"][0]["detail"]
    # The carrier's right ended with the receipt.
    assert_problem(capture(env, truck, [reading | {"eventTime": "2026-11-22T01:00:00+08:00"}]), 403)


def test_a_partial_shipment_leaves_both_holding(env: Env) -> None:
    farm, proc = member(env, "producer"), member(env, "processor")
    code, lot = product_lot(farm, 3, "L3", quantity=1000)
    captured(env, farm, [ship("2026-11-21T14:00:00+08:00", farm, proc, [qty(code, lot, 300)])])
    captured(env, proc, [receive("2026-11-21T19:00:00+08:00", farm, proc, [qty(code, lot, 300)])])
    with Session(env.log.engine) as session:
        assert service.holders(session, code, lot) == [farm.party_id, proc.party_id]
        quantities = [
            h.quantity for h in service.holders_history(session, lot_canonical(code, lot))
        ]
        assert quantities == [700, 300]


def test_inspectors_and_regulators_write_about_any_lot(env: Env) -> None:
    farm = member(env, "producer")
    code, lot = product_lot(farm, 4, "L4")
    inspector = env.add_party("inspector", custodial=True)
    captured(env, inspector, [_observe("2026-11-22T09:00:00+08:00", [qty(code, lot, 2)])])
    r = env.client.post(
        "/api/v1/custodial-keys",
        json={"party_id": env.regulator.party_id},
        headers=env.regulator.headers,
    )
    assert r.status_code == 201, r.text
    key = {"party_id": env.regulator.party_id, "public_key": r.json()["public_key"]}
    r = env.client.post(
        "/api/v1/party-keys",
        json={"entry": env.regulator.sign("party.key.register", key)},
        headers=env.regulator.headers,
    )
    assert r.status_code == 201, r.text
    captured(env, env.regulator, [_recall("2026-11-22T10:00:00+08:00", [qty(code, lot, 1000)])])
    with Session(env.log.engine) as session:
        assert service.holder(session, code, lot) == farm.party_id  # exempt: custody unmoved


def test_an_error_declaration_comes_from_the_events_author(env: Env) -> None:
    farm, proc = member(env, "producer"), member(env, "processor")
    code, lot = product_lot(farm, 5, "L5", quantity=1000)
    shipped = ship("2026-11-21T14:00:00+08:00", farm, proc, [qty(code, lot, 1000)])
    captured(env, farm, [shipped])
    captured(env, proc, [receive("2026-11-21T19:00:00+08:00", farm, proc, [qty(code, lot, 1000)])])
    declared = shipped | {
        "errorDeclaration": {"declarationTime": "2026-11-22T00:00:00Z", "reason": "incorrect_data"}
    }
    problem = assert_problem(capture(env, proc, [declared]), 403)  # proc holds it, but
    assert [e["pointer"] for e in problem["errors"]] == ["/epcisBody/eventList/0/errorDeclaration"]
    captured(env, farm, [declared])  # the author may, though it no longer holds the lot


def test_the_record_path_refuses_the_same_way(env: Env) -> None:
    farm, rival = member(env, "producer"), member(env, "producer")
    code, lot = product_lot(farm, 6, "L6")
    document_event = _recall("2026-11-21T09:00:00+08:00", [qty(code, lot, 1)])
    r = capture(env, rival, [document_event])
    assert_problem(r, 403)
    assert lot_class(code, lot) in r.json()["errors"][0]["detail"]


def test_custody_and_lineage_rebuild_from_the_log(env: Env) -> None:
    farm, proc, shop = (member(env, k) for k in ("producer", "processor", "retailer"))
    code, lot = product_lot(farm, 7, "L7", quantity=1000)
    sscc = "https://id.gs1.org/00/369012340000000017"
    captured(
        env,
        farm,
        [
            ship(
                "2026-11-21T14:00:00+08:00",
                farm,
                proc,
                [qty(code, lot, 1000)],
                bizTransactionList=[
                    {"type": "po", "bizTransaction": "urn:epcglobal:cbv:bt:6901234000004:PO-1"}
                ],
            )
        ],
    )
    captured(
        env,
        proc,
        [
            receive("2026-11-21T19:00:00+08:00", farm, proc, [qty(code, lot, 1000)]),
            event(
                "TransformationEvent",
                "2026-11-22T08:00:00+08:00",
                inputQuantityList=[qty(code, lot, 1000)],
                outputQuantityList=[qty("06901234999997", "S7", 800)],
            ),
            event(
                "AggregationEvent",
                "2026-11-22T09:00:00+08:00",
                action="ADD",
                parentID=sscc,
                childEPCs=[],
                childQuantityList=[qty("06901234999997", "S7", 800)],
            ),
            ship("2026-11-22T10:00:00+08:00", proc, shop, []) | {"epcList": [sscc]},
        ],
    )
    captured(
        env, shop, [receive("2026-11-22T18:00:00+08:00", proc, shop, []) | {"epcList": [sscc]}]
    )
    # A shipment back to the farm, declared in error: the rebuild must void it too.
    wrong = ship("2026-11-23T08:00:00+08:00", shop, farm, []) | {"epcList": [sscc]}
    captured(env, shop, [wrong])
    declaration = {"declarationTime": "2026-11-23T01:00:00Z", "reason": "incorrect_data"}
    captured(env, shop, [wrong | {"errorDeclaration": declaration}])
    with Session(env.log.engine) as session:
        assert service.in_transit(session, sscc) == []
        live = rebuild.contents(session)
        assert (
            session.scalar(
                select(CustodyHold.holder).where(
                    CustodyHold.node_id
                    == select(LineageNode.id)
                    .where(LineageNode.canonical == lot_canonical("06901234999997", "S7"))
                    .scalar_subquery(),
                    CustodyHold.until.is_(None),
                )
            )
            == shop.party_id
        )  # moved with its pallet
    with Session(env.log.engine) as session, session.begin():
        assert rebuild.rebuild(session) == 9  # one lot, seven events, one declaration
    with Session(env.log.engine) as session:
        assert rebuild.contents(session) == live
    url = env.log.engine.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(app, ["rebuild-provenance", "--db", url])
    assert result.exit_code == 0, result.output
    assert "rebuilt from 9 entries" in result.output
    with Session(env.log.engine) as session:
        assert rebuild.contents(session) == live
    assert all(live.values())  # every table had rows to compare
