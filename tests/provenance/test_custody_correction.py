"""An ``errorDeclaration`` voids the custody and lineage effects of the event it declares,
live and in a rebuild from the log, and corrective events then apply; both databases."""

from __future__ import annotations

from typing import Any

from recordharness import Env, assert_problem
from sqlalchemy import select
from sqlalchemy.orm import Session
from supplychain import capture, captured, event, member, product_lot, qty, receive, ship

from foodtrace.provenance import rebuild, service
from foodtrace.provenance.models import Containment, CustodyTransit, LineageEdge
from foodtrace.trace.lineage import lot_canonical

DECLARED = {"declarationTime": "2026-11-22T00:00:00Z", "reason": "incorrect_data"}


def _declared(e: dict[str, Any], *corrective: str) -> dict[str, Any]:
    declaration = DECLARED | ({"correctiveEventIDs": list(corrective)} if corrective else {})
    return e | {"errorDeclaration": declaration}


def _history(env: Env, code: str, lot: str) -> list[tuple[str, str, bool, float | None]]:
    with Session(env.log.engine) as session:
        return [
            (h.holder, h.how, h.until is None, h.quantity)
            for h in service.holders_history(session, lot_canonical(code, lot))
        ]


def _open_transits(env: Env) -> int:
    with Session(env.log.engine) as session:
        return len(
            session.scalars(
                select(CustodyTransit).where(CustodyTransit.received_entry.is_(None))
            ).all()
        )


def _assert_rebuild_equals_live(env: Env) -> None:
    with Session(env.log.engine) as session:
        live = rebuild.contents(session)
    with Session(env.log.engine) as session, session.begin():
        rebuild.rebuild(session)
    with Session(env.log.engine) as session:
        assert rebuild.contents(session) == live


def test_a_shipment_declared_in_error_leaves_the_lot_with_its_sender(env: Env) -> None:
    farm, proc = member(env, "producer"), member(env, "processor")
    code, lot = product_lot(farm, 11, "E1", quantity=1000)
    shipped = ship("2026-11-21T14:00:00+08:00", farm, proc, [qty(code, lot, 1000)])
    captured(env, farm, [shipped])
    assert _open_transits(env) == 1
    captured(env, farm, [_declared(shipped)])
    assert _open_transits(env) == 0  # the shipment is void
    assert _history(env, code, lot) == [(farm.party_id, "created", True, 1000)]
    # The consignee of the void shipment cannot receive it...
    refused = capture(
        env, proc, [receive("2026-11-21T19:00:00+08:00", farm, proc, [qty(code, lot, 1000)])]
    )
    problem = assert_problem(refused, 403)
    assert [e["pointer"] for e in problem["errors"]] == ["/epcisBody/eventList/0/quantityList/0"]
    assert farm.party_id in problem["errors"][0]["detail"]  # who holds it
    # ...and the sender still speaks for the lot after the shipment's time.
    later = event(
        "ObjectEvent",
        "2026-11-23T10:00:00+08:00",
        action="OBSERVE",
        bizStep="storing",
        epcList=[],
        quantityList=[qty(code, lot)],
    )
    captured(env, farm, [later])
    _assert_rebuild_equals_live(env)


def test_the_corrective_shipment_applies(env: Env) -> None:
    farm, wrong, right = (member(env, k) for k in ("producer", "processor", "processor"))
    code, lot = product_lot(farm, 12, "E2", quantity=1000)
    shipped = ship("2026-11-21T14:00:00+08:00", farm, wrong, [qty(code, lot, 1000)])
    captured(env, farm, [shipped])
    corrective = ship(
        "2026-11-21T14:00:00+08:00", farm, right, [qty(code, lot, 1000)], eventID="urn:uuid:c-e2"
    )
    captured(env, farm, [_declared(shipped, "urn:uuid:c-e2"), corrective])
    assert_problem(
        capture(
            env, wrong, [receive("2026-11-21T19:00:00+08:00", farm, wrong, [qty(code, lot, 1000)])]
        ),
        403,
    )
    captured(
        env, right, [receive("2026-11-21T19:00:00+08:00", farm, right, [qty(code, lot, 1000)])]
    )
    assert _history(env, code, lot) == [
        (farm.party_id, "created", False, 1000),
        (right.party_id, "received", True, 1000),
    ]
    _assert_rebuild_equals_live(env)


def test_a_receipt_declared_in_error_reopens_the_shipment(env: Env) -> None:
    """A partial receipt voided gives the part back to the shipper and puts the shipment in
    transit again; the consignee can receive it anew."""
    farm, proc = member(env, "producer"), member(env, "processor")
    code, lot = product_lot(farm, 13, "E3", quantity=1000)
    captured(env, farm, [ship("2026-11-21T14:00:00+08:00", farm, proc, [qty(code, lot, 300)])])
    received = receive("2026-11-21T19:00:00+08:00", farm, proc, [qty(code, lot, 300)])
    captured(env, proc, [received])
    assert _history(env, code, lot) == [
        (farm.party_id, "created", True, 700),
        (proc.party_id, "received", True, 300),
    ]
    captured(env, proc, [_declared(received)])
    assert _history(env, code, lot) == [(farm.party_id, "created", True, 1000)]
    assert _open_transits(env) == 1
    again = receive("2026-11-21T20:00:00+08:00", farm, proc, [qty(code, lot, 300)])
    captured(env, proc, [again])
    assert _history(env, code, lot) == [
        (farm.party_id, "created", True, 700),
        (proc.party_id, "received", True, 300),
    ]
    _assert_rebuild_equals_live(env)


def test_a_transformation_declared_in_error_leaves_no_lineage(env: Env) -> None:
    """The outputs it produced are no longer held, the edges it drew are gone from traces,
    and a pallet packed and then unpacked in error holds its cases again."""
    proc = member(env, "processor")
    code, lot = product_lot(proc, 14, "E4", quantity=1000)
    made = event(
        "TransformationEvent",
        "2026-11-22T08:00:00+08:00",
        inputQuantityList=[qty(code, lot, 1000)],
        outputQuantityList=[qty("06901234999997", "S14", 800)],
    )
    sscc = "https://id.gs1.org/00/369012340000000147"
    packed = event(
        "AggregationEvent",
        "2026-11-22T09:00:00+08:00",
        action="ADD",
        parentID=sscc,
        childEPCs=[],
        childQuantityList=[qty(code, lot, 1000)],
    )
    unpacked = packed | {"action": "DELETE", "eventTime": "2026-11-22T10:00:00+08:00"}
    captured(env, proc, [made, packed, unpacked])
    with Session(env.log.engine) as session:
        assert session.scalars(select(LineageEdge.kind)).all() == [
            "transformation",
            "aggregation",
        ]
        assert service.holder(session, "06901234999997", "S14") == proc.party_id
        assert session.scalars(select(Containment.until_entry)).all() != [None]  # unpacked
    captured(env, proc, [_declared(made), _declared(unpacked)])
    with Session(env.log.engine) as session:
        assert session.scalars(select(LineageEdge.kind)).all() == ["aggregation"]
        assert service.holder(session, "06901234999997", "S14") is None
        assert session.scalars(select(Containment.until_entry)).all() == [None]  # packed again
    _assert_rebuild_equals_live(env)
