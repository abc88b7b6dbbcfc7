"""The custody rules, pure: every rule that accepts and every one that must refuse."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from foodtrace.trace import custody, lineage
from foodtrace.trace.custody import Claim, Custody, Hold, Pack, Receive, Ship, Transit, Unpack
from foodtrace.trace.epcis import events

DL = "https://id.gs1.org"
LOT = f"{DL}/01/06901234000011/10/L1"
OUT = f"{DL}/01/06901234000028/10/S1"
SSCC = f"{DL}/00/369012340000000017"
ITEM = f"{DL}/01/06901234000011/21/1001"
T0 = datetime(2026, 11, 20, tzinfo=UTC)
NOON = "2026-11-21T12:00:00Z"


def _event(kind: str = "ObjectEvent", **fields: Any) -> dict[str, Any]:
    return {"type": kind, "eventTime": NOON, "eventTimeZoneOffset": "+00:00", **fields}


def _q(cls: str, quantity: float | None = None) -> dict[str, Any]:
    return {"epcClass": cls} | ({"quantity": quantity, "uom": "KGM"} if quantity else {})


def _judge(
    event: dict[str, Any],
    state: dict[str, Custody],
    author: str = "farm",
    *,
    exempt: bool = False,
    regulator: bool = False,
    consignees: frozenset[str] = frozenset(),
    carriers: frozenset[str] = frozenset(),
    declared_author: str | None = None,
) -> custody.Verdict:
    ctx = custody.EventContext(
        author=author,
        exempt=exempt,
        regulator=regulator,
        facts=events.extract(event),
        refs=lineage.object_refs(event),
        consignees=consignees,
        carriers=carriers,
        declares_error="errorDeclaration" in event,
        declared_author=declared_author,
    )
    return custody.judge(ctx, state)


def _held(holder: str, quantity: float | None = None, **kw: Any) -> Custody:
    return Custody(holds=(Hold(holder, T0, None, quantity, "KGM" if quantity else None),), **kw)


OBSERVE = {"action": "OBSERVE", "bizStep": "inspecting", "epcList": []}


def test_the_holder_may_write_about_its_lot() -> None:
    verdict = _judge(_event(**OBSERVE, quantityList=[_q(LOT)]), {LOT: _held("farm")})
    assert verdict.refusals == [] and verdict.effects == []


def test_a_party_that_never_held_it_is_refused_with_the_pointer_and_the_holder() -> None:
    event = _event(**OBSERVE | {"epcList": [ITEM]}, quantityList=[_q(OUT), _q(LOT)])
    state = {LOT: _held("farm"), OUT: _held("rival"), ITEM: _held("rival")}
    verdict = _judge(event, state, "rival")
    assert [r.field for r in verdict.refusals] == ["event.quantityList.1"]
    assert "held by farm" in verdict.refusals[0].detail
    assert verdict.effects == []


def test_a_former_holder_may_write_about_the_time_it_held_it_only() -> None:
    history = Custody(
        holds=(
            Hold("farm", T0, datetime(2026, 11, 21, 6, tzinfo=UTC)),
            Hold("processor", datetime(2026, 11, 21, 6, tzinfo=UTC), None),
        )
    )
    before = _event(**OBSERVE, quantityList=[_q(LOT)]) | {"eventTime": "2026-11-21T05:00:00Z"}
    assert _judge(before, {LOT: history}).refusals == []
    after = _event(**OBSERVE, quantityList=[_q(LOT)])  # noon: the processor holds it
    refused = _judge(after, {LOT: history}).refusals
    assert [r.field for r in refused] == ["event.quantityList.0"]
    assert "held by processor" in refused[0].detail


def test_inspectors_and_regulators_are_exempt() -> None:
    event = _event(**OBSERVE, disposition="recalled", quantityList=[_q(LOT)])
    verdict = _judge(event, {LOT: _held("farm")}, "gov", exempt=True)
    assert verdict.refusals == [] and verdict.effects == []


def test_an_object_nobody_holds_is_claimed_by_its_first_writer() -> None:
    verdict = _judge(_event(action="ADD", epcList=[ITEM]), {}, "farm")
    assert verdict.effects == [Claim(ITEM, "farm", "claimed", None, None)]


def test_a_registered_gtin_is_introduced_only_by_its_producer() -> None:
    state = {ITEM: Custody(owner="farm")}
    refused = _judge(_event(action="ADD", epcList=[ITEM]), state, "rival").refusals
    assert [r.field for r in refused] == ["event.epcList.0"]
    assert "farm's product" in refused[0].detail
    assert _judge(_event(action="ADD", epcList=[ITEM]), state, "farm").refusals == []


SHIP = {"action": "OBSERVE", "bizStep": "shipping", "disposition": "in_transit", "epcList": []}
RECEIVE = {"action": "OBSERVE", "bizStep": "receiving", "epcList": []}


def test_shipping_opens_a_transit_to_the_consignee_with_the_carrier() -> None:
    verdict = _judge(
        _event(**SHIP, quantityList=[_q(LOT, 1000)]),
        {LOT: _held("farm", 1000)},
        consignees=frozenset({"processor"}),
        carriers=frozenset({"truck"}),
    )
    assert verdict.effects == [
        Ship(LOT, "farm", frozenset({"processor"}), frozenset({"truck"}), 1000, "KGM")
    ]


def test_only_the_holder_may_ship() -> None:
    verdict = _judge(
        _event(**SHIP, quantityList=[_q(LOT)]),
        {LOT: _held("farm")},
        "rival",
        consignees=frozenset({"rival2"}),
    )
    assert [r.field for r in verdict.refusals] == ["event.quantityList.0"]


def _in_transit(held: float | None = 1000, shipped: float | None = 1000) -> Custody:
    transit = Transit(7, "farm", frozenset({"processor"}), frozenset({"truck"}), shipped, "KGM")
    return Custody(holds=_held("farm", held).holds, transits=(transit,))


def test_the_consignees_receipt_moves_a_whole_shipment() -> None:
    verdict = _judge(
        _event(**RECEIVE, quantityList=[_q(LOT, 1000)]), {LOT: _in_transit()}, "processor"
    )
    assert verdict.effects == [Receive(LOT, 7, "processor", "farm", 1000, "KGM", True, None)]


def test_a_partial_shipment_leaves_the_shipper_holding_the_rest() -> None:
    verdict = _judge(
        _event(**RECEIVE, quantityList=[_q(LOT, 400)]), {LOT: _in_transit(1000, 400)}, "processor"
    )
    assert verdict.effects == [Receive(LOT, 7, "processor", "farm", 400, "KGM", False, 600)]


def test_a_party_not_named_on_the_shipment_may_not_receive_it() -> None:
    refused = _judge(_event(**RECEIVE, quantityList=[_q(LOT)]), {LOT: _in_transit()}, "rival")
    assert [r.field for r in refused.refusals] == ["event.quantityList.0"]


def test_the_carrier_may_record_readings_in_transit_but_not_receive_or_ship() -> None:
    reading = _event(
        action="OBSERVE",
        bizStep="transporting",
        epcList=[],
        quantityList=[_q(LOT)],
        sensorElementList=[{"sensorReport": [{"type": "Temperature", "value": 3.1, "uom": "CEL"}]}],
    )
    assert _judge(reading, {LOT: _in_transit()}, "truck").refusals == []
    assert _judge(reading, {LOT: _held("farm")}, "truck").refusals != []  # not in transit
    receipt = _event(**RECEIVE, quantityList=[_q(LOT)])
    assert _judge(receipt, {LOT: _in_transit()}, "truck").refusals != []
    onward = _event(**SHIP, quantityList=[_q(LOT)])
    assert _judge(onward, {LOT: _in_transit()}, "truck", consignees=frozenset({"x"})).refusals


def test_a_transformation_needs_the_inputs_and_gives_the_outputs_to_the_holder() -> None:
    event = _event(
        "TransformationEvent", inputQuantityList=[_q(LOT, 500)], outputQuantityList=[_q(OUT, 200)]
    )
    verdict = _judge(event, {LOT: _held("processor")}, "processor")
    assert verdict.effects == [Claim(OUT, "processor", "produced", 200, "KGM")]
    refused = _judge(event, {LOT: _held("farm")}, "processor").refusals
    assert [r.field for r in refused] == ["event.inputQuantityList.0"]
    taken = _judge(event, {LOT: _held("processor"), OUT: _held("rival")}, "processor")
    assert [r.field for r in taken.refusals] == ["event.outputQuantityList.0"]


def test_aggregation_packs_held_children_and_shipping_the_unit_moves_them() -> None:
    pack = _event("AggregationEvent", action="ADD", parentID=SSCC, childEPCs=[ITEM])
    verdict = _judge(pack, {ITEM: _held("farm")})
    assert verdict.effects == [Claim(SSCC, "farm", "claimed", None, None), Pack(ITEM, SSCC)]
    assert _judge(pack, {ITEM: _held("rival")}).refusals[0].field == "event.childEPCs.0"
    state = {SSCC: _held("farm", children=(ITEM,)), ITEM: _held("farm")}
    shipped = _judge(_event(**SHIP | {"epcList": [SSCC]}), state, consignees=frozenset({"shop"}))
    assert {e.canonical for e in shipped.effects if isinstance(e, Ship)} == {SSCC, ITEM}
    unpack = _event("AggregationEvent", action="DELETE", parentID=SSCC, childEPCs=[])
    assert _judge(unpack, state).effects == [Unpack(ITEM, SSCC)]


def test_receiving_a_unit_moves_what_is_packed_in_it() -> None:
    transit = Transit(3, "farm", frozenset({"shop"}), frozenset(), None, None)
    state = {
        SSCC: Custody(holds=_held("farm").holds, transits=(transit,), children=(ITEM,)),
        ITEM: Custody(holds=_held("farm").holds, transits=(transit,)),
    }
    verdict = _judge(_event(**RECEIVE | {"epcList": [SSCC]}), state, "shop")
    assert [(e.canonical, e.shipper_done) for e in verdict.effects if isinstance(e, Receive)] == [
        (SSCC, True),
        (ITEM, True),
    ]


@pytest.mark.parametrize(
    ("author", "declared", "regulator", "refused"),
    [
        ("farm", "farm", False, False),
        ("gov", "farm", True, False),
        ("rival", "farm", False, True),
        ("inspector", "farm", False, True),  # inspectors may not retract others' events
    ],
)
def test_error_declarations_come_from_the_author_or_a_regulator(
    author: str, declared: str, regulator: bool, refused: bool
) -> None:
    event = _event(**OBSERVE, quantityList=[_q(LOT)]) | {
        "errorDeclaration": {"declarationTime": NOON, "reason": "incorrect_data"}
    }
    verdict = _judge(
        event,
        {LOT: _held("farm")},
        author,
        exempt=author in ("gov", "inspector"),
        regulator=regulator,
        declared_author=declared,
    )
    assert bool(verdict.refusals) is refused
    if refused:
        assert verdict.refusals[0].field == "event.errorDeclaration"
    assert verdict.effects == []


@pytest.mark.parametrize(
    ("held", "held_uom", "shipped", "shipped_uom", "after"),
    [
        (700.0, "KGM", 300.0, "KGM", 1000.0),  # the part a partial receipt took comes back
        (None, None, 300.0, "KGM", None),  # an unknown amount stays unknown
        (700.0, "KGM", 300.0, "LTR", 700.0),  # another unit: nothing was taken
        (700.0, "KGM", None, None, 700.0),  # shipped without a quantity: nothing was taken
    ],
)
def test_voiding_a_receipt_gives_the_shipper_back_what_it_took(
    held: float | None,
    held_uom: str | None,
    shipped: float | None,
    shipped_uom: str | None,
    after: float | None,
) -> None:
    assert custody.given_back(held, held_uom, shipped, shipped_uom) == after


_LATER = datetime(2026, 11, 25, tzinfo=UTC)
_SHIPPED = Custody(
    holds=(Hold("farm", T0, datetime(2026, 11, 22, tzinfo=UTC)), Hold("proc", T0, None))
)


@pytest.mark.parametrize(
    ("author", "exempt", "at", "sampled", "samplers", "refused"),
    [
        ("proc", False, _LATER, False, {}, False),  # the holder now
        ("farm", False, datetime(2026, 11, 21, tzinfo=UTC), False, {}, False),  # held it then
        ("farm", False, _LATER, False, {}, True),  # not after it passed the lot on
        ("rival", False, _LATER, False, {}, True),  # never held it
        ("gov", True, _LATER, False, {}, False),  # an inspector or regulator
        ("lab", False, _LATER, True, {LOT: frozenset({"lab"})}, False),  # sent a sample
        ("lab", False, _LATER, True, {LOT: frozenset({"lab2"})}, True),  # another lab was
        ("lab", False, _LATER, False, {LOT: frozenset({"lab"})}, True),  # not a lab's record
    ],
)
def test_records_about_a_lot_come_from_its_holders_samplers_or_exempt_authors(
    author: str,
    exempt: bool,
    at: datetime,
    sampled: bool,
    samplers: dict[str, frozenset[str]],
    refused: bool,
) -> None:
    subject = custody.Subject("subject", LOT, at, sampled=sampled)
    refusals = custody.judge_record(author, exempt, [subject], {LOT: _SHIPPED}, samplers)
    assert bool(refusals) is refused
    if refused:
        assert [r.field for r in refusals] == ["subject"]
        assert "held by proc" in refusals[0].detail  # names who holds it


def test_a_record_about_an_object_with_no_custody_is_left_to_its_own_rules() -> None:
    subject = custody.Subject("subject", LOT, _LATER, sampled=True)
    assert custody.judge_record("lab", False, [subject], {}, {}) == []
