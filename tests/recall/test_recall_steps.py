"""A case's steps as signed entries: only affected parties acknowledge and report, only a
regulator closes; progress and overdue parties with controlled time; scope exports."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

from openpyxl import load_workbook
from recallgraph import A_GTIN, C_GTIN, Graph
from recordharness import assert_problem, pointers
from sqlalchemy.orm import Session

from foodtrace.recall import service
from foodtrace.recall.clocks import WorkCalendar


def _opened(g: Graph, level: int = 1) -> dict[str, Any]:
    body = {"gtin": A_GTIN, "lot_code": "A", "level": level, "reason": "检出沙门氏菌"}
    r = g.env.client.post("/api/v1/recalls", json=body, headers=g.farm1.actor.headers)
    assert r.status_code == 201, r.text
    case: dict[str, Any] = r.json()
    return case


def _post(g: Graph, who: Any, case: dict[str, Any], step: str, body: dict[str, Any]) -> Any:
    return g.env.client.post(f"/api/v1/recalls/{case['id']}/{step}", json=body, headers=who.headers)


def _close(g: Graph, case: dict[str, Any], note: str = "") -> Any:
    """The regulator signs its sign-off with its own key (it holds no server-held key)."""
    entry = g.env.regulator.sign("recall.close", {"recall_id": case["id"], "note": note})
    return g.env.client.post(
        f"/api/v1/recalls/{case['id']}/close",
        json={"entry": entry},
        headers=g.env.regulator.headers,
    )


def test_acknowledge_report_close(graph: Graph) -> None:
    g = graph
    case = _opened(g)
    before = g.env.snapshot()
    # farm2 is not affected; a producer cannot close; nobody reports before acknowledging
    assert_problem(_post(g, g.farm2.actor, case, "acknowledgements", {}), 403)
    assert_problem(_post(g, g.farm1.actor, case, "close", {"note": "完成"}), 403)
    item = {"gtin": C_GTIN, "lot_code": "C", "recovered": 600, "destroyed": 100}
    assert_problem(_post(g, g.shop1.actor, case, "reports", {"items": [item]}), 409)
    assert g.env.snapshot() == before

    r = _post(g, g.shop1.actor, case, "acknowledgements", {})
    assert r.status_code == 201, r.text
    assert r.json()["progress"]["acknowledged"] == 1
    assert_problem(_post(g, g.shop1.actor, case, "acknowledgements", {}), 409)
    bad = {"gtin": A_GTIN, "lot_code": "ZZ", "recovered": 1}
    r = _post(g, g.shop1.actor, case, "reports", {"items": [bad]})
    assert_problem(r, 422)
    assert pointers(r) == {"/body/items/0/lot_code"}
    r = _post(g, g.shop1.actor, case, "reports", {"items": [item], "final": True})
    assert r.status_code == 201, r.text
    got = r.json()
    assert got["progress"]["recovered"] == {"KGM": 700}
    [shop1] = [p for p in got["parties"] if p["party_id"] == g.shop1.party_id]
    assert shop1["recovered"] == {"KGM": 600} and shop1["destroyed"] == {"KGM": 100}
    assert shop1["finished_at"] is not None
    assert_problem(_post(g, g.shop1.actor, case, "reports", {"items": [item]}), 409)

    r = _close(g, case, "现场核查无误")
    assert r.status_code == 201, r.text
    closed = r.json()
    assert closed["status"] == "closed" and closed["closed_by"] == g.env.regulator.party_id
    assert_problem(_post(g, g.shop2.actor, case, "acknowledgements", {}), 409)
    assert_problem(_close(g, case), 409)
    # every step is a log entry of its author
    for index, (type_, author) in {
        closed["entry_index"]: ("recall.open", g.farm1.party_id),
        closed["close_entry_index"]: ("recall.close", g.env.regulator.party_id),
    }.items():
        entry = g.env.client.get(f"/api/v1/records/{index}").json()["entry"]
        assert (entry["type"], entry["author"]) == (type_, author)


def test_signed_step_must_name_the_case_of_the_path(graph: Graph) -> None:
    g = graph
    case = _opened(g)
    other = "RC-2026-0000-0000"
    r = g.env.client.post(
        f"/api/v1/recalls/{case['id']}/close",
        json={"entry": g.env.regulator.sign("recall.close", {"recall_id": other})},
        headers=g.env.regulator.headers,
    )
    assert_problem(r, 422)
    r = g.env.client.post(
        f"/api/v1/recalls/{case['id']}/close",
        json={"entry": g.env.regulator.sign("recall.close", {"recall_id": case["id"]})},
        headers=g.env.regulator.headers,
    )
    assert r.status_code == 201, r.text


def test_progress_and_overdue_with_controlled_time(graph: Graph) -> None:
    g = graph
    case = _opened(g, level=1)
    for shop in (g.shop1, g.shop3):
        assert _post(g, shop.actor, case, "acknowledgements", {}).status_code == 201
    with Session(g.env.log.engine) as session:
        row = session.get(service.Recall, case["id"])
        assert row is not None
        opened = service.utc(row.opened_at)
        assert opened is not None
        soon = service.case_out(session, row, opened + timedelta(hours=1), WorkCalendar())
        later = service.case_out(session, row, opened + timedelta(hours=25), WorkCalendar())
    assert soon.progress.acknowledged_pct == 50.0 and soon.progress.overdue_parties == []
    assert set(later.progress.overdue_parties) == {g.plant.party_id, g.shop2.party_id}
    assert later.overdue and later.start_due == opened + timedelta(hours=24)


def test_scope_exports(graph: Graph) -> None:
    g = graph
    case = _opened(g)
    r = g.env.client.get(f"/api/v1/recalls/{case['id']}/scope.csv")
    assert r.status_code == 200 and r.headers["content-type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert {(x["GTIN"], x["Lot Code"]) for x in rows if x["Type"] == "lot"} == {
        (lot["gtin"], lot["lot_code"]) for lot in case["scope"]["lots"]
    }
    parties = {x["Party"]: x for x in rows if x["Type"] == "party"}
    assert parties[g.shop1.party_id]["Received"] == "700 KGM"
    r = g.env.client.get(f"/api/v1/recalls/{case['id']}/scope.xlsx")
    assert r.status_code == 200
    book = load_workbook(io.BytesIO(r.content))
    assert book.sheetnames == ["Lots 批次", "Parties 企业"]
    assert book["Lots 批次"].max_row == 1 + len(case["scope"]["lots"])
    assert book["Parties 企业"].max_row == 1 + len(case["scope"]["parties"])
    assert g.env.client.get("/api/v1/recalls/RC-2026-0000-0000/scope.csv").status_code == 404


def test_case_page_shows_level_clocks_progress(graph: Graph) -> None:
    g = graph
    case = _opened(g, level=2)
    _post(g, g.shop1.actor, case, "acknowledgements", {})
    r = g.env.client.get(f"/recalls/{case['id']}")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    html = r.text
    assert "二级召回" in html and "主动召回" in html and "检出沙门氏菌" in html
    assert "1/4 家(25.0%)" in html
    assert "0 / 1900 KGM" in html
    assert g.env.client.get("/recalls/RC-2026-0000-0000").status_code == 404
