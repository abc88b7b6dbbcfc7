"""Opening a recall on graphs with known answers: the scope is the downstream blast radius
(fan-out, fan-in, a cycle through re-packing), every affected lot gets a recalled EPCIS
event in the same atomic group, and only the producer or a regulator may open one."""

from __future__ import annotations

import pytest
from recallgraph import A_GTIN, B_GTIN, C_GTIN, Graph, regulator_holds_a_key
from recordharness import assert_problem
from sqlalchemy import select
from sqlalchemy.orm import Session

from foodtrace.epcis.models import EpcisEvent
from foodtrace.recall.flows import RECALLING, verify_scope
from foodtrace.recall.schemas import OpenBody
from foodtrace.record.registry import ProjectionError
from foodtrace.trace.epcis import vocab


def _open(g: Graph, who, gtin: str, lot: str, level: int = 1):  # type: ignore[no-untyped-def]
    body = {"gtin": gtin, "lot_code": lot, "level": level, "reason": "检出沙门氏菌"}
    return g.env.client.post("/api/v1/recalls", json=body, headers=who.headers)


def _received(case: dict, party_id: str) -> list[dict]:  # type: ignore[type-arg]
    [p] = [p for p in case["scope"]["parties"] if p["party_id"] == party_id]
    return p["received"]  # type: ignore[no-any-return]


def test_voluntary_recall_reaches_everything_downstream(graph: Graph) -> None:
    g = graph
    r = _open(g, g.farm1.actor, A_GTIN, "A")
    assert r.status_code == 201, r.text
    case = r.json()
    assert case["id"].startswith("RC-") and case["kind"] == "voluntary"
    lots = {(x["gtin"], x["lot_code"]) for x in case["scope"]["lots"]}
    # fan-out to shop3 and the plant, through the transformation to C, round the R cycle
    assert lots == {(A_GTIN, "A"), (C_GTIN, "C"), (C_GTIN, "R")}
    parties = {p["party_id"] for p in case["scope"]["parties"]}
    assert parties == {g.plant.party_id, g.shop1.party_id, g.shop2.party_id, g.shop3.party_id}
    assert _received(case, g.shop3.party_id) == [{"quantity": 300, "uom": "KGM"}]
    assert _received(case, g.shop1.party_id) == [{"quantity": 700, "uom": "KGM"}]
    assert _received(case, g.plant.party_id) == [{"quantity": 600, "uom": "KGM"}]
    assert case["progress"]["shipped"] == {"KGM": 600 + 300 + 700 + 300}
    assert case["progress"]["acknowledged_pct"] == 0
    assert g.env.client.get(f"/api/v1/recalls/{case['id']}").json() == case


def test_fan_in_recall_of_the_other_input_misses_the_first_farms_customers(graph: Graph) -> None:
    g = graph
    regulator_holds_a_key(g.env)
    r = _open(g, g.env.regulator, B_GTIN, "B", level=2)
    assert r.status_code == 201, r.text
    case = r.json()
    assert case["kind"] == "ordered" and case["level_label"] == "二级召回"
    assert {(x["gtin"], x["lot_code"]) for x in case["scope"]["lots"]} == {
        (B_GTIN, "B"),
        (C_GTIN, "C"),
        (C_GTIN, "R"),
    }
    assert {p["party_id"] for p in case["scope"]["parties"]} == {
        g.plant.party_id,
        g.shop1.party_id,
        g.shop2.party_id,
    }  # shop3 only ever had A
    assert _received(case, g.plant.party_id) == [{"quantity": 400, "uom": "KGM"}]


def test_each_affected_lot_gets_a_recalled_event_by_the_right_author(graph: Graph) -> None:
    g = graph
    case = _open(g, g.farm1.actor, A_GTIN, "A").json()
    with Session(g.env.log.engine) as session:
        rows = session.scalars(select(EpcisEvent).where(EpcisEvent.disposition == "recalled")).all()
        assert len(rows) == len(case["scope"]["lots"]) == 3
        assert all(vocab.normalise(vocab.BIZ_STEP, r.biz_step or "") == RECALLING for r in rows)
        by_hash = {r.hash_id: r for r in rows}
        for lot in case["scope"]["lots"]:
            row = by_hash[lot["event_hash_id"]]
            held = set(lot.get("holders") or []) | {lot.get("holder")}
            expected = g.farm1.party_id if g.farm1.party_id in held else "foodtrace-platform"
            assert row.author == expected, (lot, row.author)
        authors = {r.author for r in rows}
        assert "foodtrace-platform" in authors  # C and R are held by others
        # the case entry comes last in the same group, right after the events
        indices = sorted(r.entry_index for r in rows)
        assert case["entry_index"] == indices[-1] + 1
        assert indices == list(range(indices[0], indices[0] + 3))


def test_only_the_producer_or_a_regulator_opens_a_recall(graph: Graph) -> None:
    g = graph
    before = g.env.snapshot()
    r = _open(g, g.farm2.actor, A_GTIN, "A")  # a producer, but not A's
    assert_problem(r, 403)
    assert "only the producer of" in r.text
    r = _open(g, g.shop1.actor, A_GTIN, "A")
    assert_problem(r, 403)
    r = _open(g, g.farm1.actor, A_GTIN, "NOPE")
    assert_problem(r, 404)
    r = g.env.client.post(
        "/api/v1/recalls",
        json={"gtin": A_GTIN, "lot_code": "A", "level": 4, "reason": ""},
        headers=g.farm1.actor.headers,
    )
    assert r.status_code == 422
    assert g.env.snapshot() == before


def test_a_scope_that_leaves_a_party_out_is_refused(graph: Graph) -> None:
    """The projection recomputes the trace: a ``recall.open`` entry cannot understate it."""
    g = graph
    case = _open(g, g.farm1.actor, A_GTIN, "A").json()
    fields = ("gtin", "lot_code", "level", "reason", "kind", "scope")  # as the case echoes them
    body = OpenBody.model_validate(
        {"recall_id": "RC-2026-0000-0000"} | {k: case[k] for k in fields}
    )
    with Session(g.env.log.engine) as session:
        verify_scope(session, body)  # the true scope passes
        body.scope.parties = [p for p in body.scope.parties if p.party_id != g.shop3.party_id]
        with pytest.raises(ProjectionError) as refused:
            verify_scope(session, body)
    assert refused.value.status == 409
    assert g.shop3.party_id in refused.value.problems[0][1]


def test_openapi_states_the_recall_routes(graph: Graph) -> None:
    paths = graph.env.client.get("/openapi.json").json()["paths"]
    opened = paths["/api/v1/recalls"]["post"]["responses"]
    assert {"201", "401", "403", "404", "409", "422"} <= set(opened)
    for step in ("acknowledgements", "reports", "close"):
        op = paths[f"/api/v1/recalls/{{recall_id}}/{step}"]["post"]
        assert {"201", "401", "403", "404", "409", "422"} <= set(op["responses"]), step
        assert "oneOf" in op["requestBody"]["content"]["application/json"]["schema"]
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    scope = paths["/api/v1/recalls/{recall_id}/scope.xlsx"]["get"]["responses"]["200"]
    assert list(scope["content"]) == [xlsx]
    sheet = paths["/api/v1/lots/{gtin}/{lot_code}/fsma204.{fmt}"]["get"]["responses"]["200"]
    assert set(sheet["content"]) == {"text/csv; charset=utf-8", xlsx}
    page = paths["/recalls/{recall_id}"]["get"]["responses"]["200"]
    assert "text/html" in page["content"]
