"""Trace on graphs with known answers: fan-in, fan-out, a cycle through re-packing, an
aggregation, a shipment, depth limits, every origin, JSON and CSV, on both databases."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

import pytest
from recordharness import Env, assert_problem, gtin
from sqlalchemy.orm import Session
from supplychain import DL, Member, captured, event, member, qty, receive, ship, transform

from foodtrace.provenance import service
from foodtrace.trace.provenance import Origin

SSCC = "369012340000000017"
PO = "urn:epcglobal:cbv:bt:6901234000004:PO-7"


def lot(name: str) -> str:
    """Lot ``name`` of product gtin(500): ``A1`` -> (gtin(500), "A1")."""
    return f"{DL}/01/{gtin(500)}/10/{name}"


def q(name: str, quantity: float | None = None) -> dict[str, object]:
    return qty(gtin(500), name, quantity)


@dataclass
class Graph:
    env: Env
    processor: Member
    retailer: Member
    entries: dict[str, int]


@pytest.fixture
def graph(env: Env) -> Graph:
    """A1, A2, A3 -> B (fan-in); B -> C1..C4 (fan-out); C1 -> D -> C1 (re-packing back:
    a cycle); C2 packed in an SSCC; C3 shipped to a retailer under a purchase order."""
    pro, shop = member(env, "processor"), member(env, "retailer")
    steps = [
        transform(
            "2026-11-21T08:00:00+08:00", [q("A1", 10), q("A2", 20), q("A3", 30)], [q("B", 60)]
        ),
        transform(
            "2026-11-21T09:00:00+08:00",
            [q("B", 60)],
            [q("C1", 15), q("C2", 15), q("C3", 15), q("C4", 15)],
        ),
        transform("2026-11-21T10:00:00+08:00", [q("C1", 15)], [q("D", 15)]),
        transform("2026-11-21T11:00:00+08:00", [q("D", 15)], [q("C1", 15)]),
        event(
            "AggregationEvent",
            "2026-11-21T12:00:00+08:00",
            action="ADD",
            bizStep="packing",
            parentID=f"{DL}/00/{SSCC}",
            childEPCs=[],
            childQuantityList=[q("C2", 15)],
        ),
        ship(
            "2026-11-21T13:00:00+08:00",
            pro,
            shop,
            [q("C3", 15)],
            bizTransactionList=[{"type": "po", "bizTransaction": PO}],
        ),
    ]
    indices = captured(env, pro, steps)
    indices += captured(env, shop, [receive("2026-11-21T18:00:00+08:00", pro, shop, [q("C3", 15)])])
    names = ["fan_in", "fan_out", "repack", "repack_back", "pack", "ship", "receive"]
    return Graph(env, pro, shop, dict(zip(names, indices, strict=True)))


def _trace(g: Graph, origin: Origin, direction: str, depth: int | None = None):  # type: ignore[no-untyped-def]
    with Session(g.env.log.engine) as session:
        return service.trace(session, origin, direction=direction, depth=depth)  # type: ignore[arg-type]


def _depths(result) -> dict[str, int]:  # type: ignore[no-untyped-def]
    return {lot.id: lot.depth for lot in result.lots}


def test_downstream_across_fan_in_fan_out_cycle_and_packing(graph: Graph) -> None:
    result = _trace(graph, Origin.lot(gtin(500), "A1"), "downstream")
    assert _depths(result) == {
        lot("A1"): 0,
        lot("B"): 1,
        **{lot(c): 2 for c in ("C1", "C2", "C3", "C4")},
        lot("D"): 3,  # and C1 again at 4, which keeps its least depth
        f"{DL}/00/{SSCC}": 3,
    }
    kinds = {(e.source, e.target, e.kind) for e in result.edges}
    assert (lot("A1"), lot("B"), "transformation") in kinds
    assert (lot("D"), lot("C1"), "transformation") in kinds  # the cycle's edge is listed
    assert (lot("C2"), f"{DL}/00/{SSCC}", "aggregation") in kinds
    assert (lot("A2"), lot("B"), "transformation") not in kinds  # upstream of B: not walked
    shipment = [e for e in result.edges if e.kind == "shipment"]
    assert [(e.source, e.from_party, e.to_party, e.entry_index) for e in shipment] == [
        (lot("C3"), graph.processor.party_id, graph.retailer.party_id, graph.entries["receive"])
    ]


def test_upstream_fan_in_and_cycle(graph: Graph) -> None:
    result = _trace(graph, Origin.lot(gtin(500), "C1"), "upstream")
    assert _depths(result) == {
        lot("C1"): 0,
        lot("B"): 1,
        lot("D"): 1,  # C1 was re-packed from D (which came from C1: the cycle ends here)
        lot("A1"): 2,
        lot("A2"): 2,
        lot("A3"): 2,
    }


@pytest.mark.parametrize(
    ("depth", "reached"),
    [
        (0, {"A1"}),
        (1, {"A1", "B"}),
        (2, {"A1", "B", "C1", "C2", "C3", "C4"}),
    ],
)
def test_depth_limits(graph: Graph, depth: int, reached: set[str]) -> None:
    result = _trace(graph, Origin.lot(gtin(500), "A1"), "downstream", depth)
    assert set(_depths(result)) == {lot(n) for n in reached}
    assert result.depth == depth


def test_nodes_carry_proofs_holders_quantities_and_dates(graph: Graph) -> None:
    result = _trace(graph, Origin.lot(gtin(500), "B"), "downstream", 1)
    by_id = {lot.id: lot for lot in result.lots}
    b = by_id[lot("B")]
    assert b.holder == graph.processor.party_id
    assert b.quantity == 60 and b.unit == "KGM"  # as the transformation produced it
    assert set(b.entry_indices) == {graph.entries["fan_in"], graph.entries["fan_out"]}
    assert b.first_event_time is not None and b.first_event_time.hour == 0  # 08:00 +08:00
    c3 = by_id[lot("C3")]
    assert c3.holders == (graph.retailer.party_id,)  # all 15 kg it held were shipped
    assert by_id[lot("C4")].holder == graph.processor.party_id
    assert graph.entries["receive"] in c3.entry_indices
    parties = {p.party_id: p for p in result.parties}
    shop = parties[graph.retailer.party_id]
    assert shop.roles == ("received",)
    assert shop.received == (("KGM", 15.0),)
    assert shop.entry_indices == (graph.entries["receive"],)
    assert "transformed" in parties[graph.processor.party_id].roles


def test_other_origins(graph: Graph) -> None:
    from_unit = _trace(graph, Origin.logistic_unit(SSCC), "upstream")
    assert _depths(from_unit) == {
        f"{DL}/00/{SSCC}": 0,
        lot("C2"): 0,  # what was packed in it
        lot("B"): 1,
        lot("A1"): 2,
        lot("A2"): 2,
        lot("A3"): 2,
    }
    from_po = _trace(graph, Origin.business_transaction(PO), "upstream", 1)
    assert _depths(from_po) == {lot("C3"): 0, lot("B"): 1}
    from_shop = _trace(graph, Origin.party(graph.retailer.party_id), "downstream")
    assert _depths(from_shop) == {lot("C3"): 0}
    with pytest.raises(service.UnknownOrigin):
        _trace(graph, Origin.lot(gtin(500), "nope"), "downstream")


def test_trace_endpoint_json_csv_and_who_may_trace(graph: Graph) -> None:
    env = graph.env
    url = f"/api/v1/lots/{gtin(500)}/A1/trace"
    inspector = env.add_party("inspector", custodial=True)
    r = env.client.get(
        url, params={"direction": "downstream", "depth": 1}, headers=inspector.headers
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert [(x["gtin"], x["lot_code"], x["depth"]) for x in body["lots"]] == [
        (gtin(500), "A1", 0),
        (gtin(500), "B", 1),
    ]
    assert {p["party_id"] for p in body["parties"]} == {graph.processor.party_id}
    assert body["edges"][0]["kind"] == "transformation"
    assert body["edges"][0]["entry_index"] == graph.entries["fan_in"]

    r = env.client.get(
        url,
        params={"direction": "downstream", "depth": 1, "format": "csv"},
        headers=inspector.headers,
    )
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [(row["lot_code"], row["depth"]) for row in rows] == [("A1", "0"), ("B", "1")]
    assert rows[1]["entry_indices"] == " ".join(
        str(i) for i in sorted({graph.entries["fan_in"], graph.entries["fan_out"]})
    )
    r = env.client.get(
        url, params={"direction": "downstream"}, headers={**inspector.headers, "accept": "text/csv"}
    )
    assert r.headers["content-type"].startswith("text/csv")

    r = env.client.get(
        url, params={"direction": "downstream"}, headers=graph.processor.actor.headers
    )
    assert_problem(r, 403)
    r = env.client.get(url, params={"direction": "sideways"}, headers=inspector.headers)
    assert_problem(r, 422)
    r = env.client.get(
        f"/api/v1/lots/{gtin(500)}/ZZ/trace",
        params={"direction": "upstream"},
        headers=inspector.headers,
    )
    assert_problem(r, 404)
    for path, params in [
        (f"/api/v1/parties/{graph.retailer.party_id}/trace", {}),
        (f"/api/v1/ssccs/{SSCC}/trace", {}),
        ("/api/v1/transactions/trace", {"id": PO}),
    ]:
        r = env.client.get(
            path, params={"direction": "upstream", **params}, headers=env.regulator.headers
        )
        assert r.status_code == 200, (path, r.text)
        assert r.json()["lots"], path
