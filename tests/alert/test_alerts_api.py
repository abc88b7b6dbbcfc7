"""Alerts through the HTTP API on both databases: each kind from its source, the grid and
kind filters, who may read them, and the ladder the business sees."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from gridharness import make_grid
from recallgraph import A_GTIN, Graph
from recordharness import Actor, Env, assert_problem
from sqlalchemy.orm import Session
from supplychain import captured, event, lot_class, member, product_lot

from foodtrace.alert import service
from foodtrace.alert.rules import STEP_INTERVAL, Kind
from foodtrace.complaint.schemas import Category, ComplaintIn
from foodtrace.complaint.service import file_complaint
from foodtrace.grading.flows import local_day
from foodtrace.grading.planning import schedule
from foodtrace.recall import service as recall_service
from foodtrace.scan.models import ScanCount
from foodtrace.store.db import session_factory

TODAY = local_day()


def _licence(env: Env, shop: Actor, n: int, until: date) -> None:
    body = {
        "number": f"JY2310115{n:07d}",
        "kind": "food_business",
        "holder": shop.party_id,
        "scope": "热食类食品制售",
        "issuer": "崇明区市场监督管理局",
        "valid_from": (TODAY - timedelta(days=365)).isoformat(),
        "valid_until": until.isoformat(),
    }
    r = env.regulator.post("/api/v1/licences", "licence.issue", body)
    assert r.status_code == 201, r.text


def _certificate(shop: Actor, until: date) -> None:
    body = {
        "certificate_number": f"HC-{shop.party_id}",
        "holder_commitment": "ab" * 32,
        "issuer": "崇明区疾控中心",
        "valid_from": (until - timedelta(days=365)).isoformat(),
        "valid_until": until.isoformat(),
    }
    r = shop.post("/api/v1/health-certificates", "health.certificate.issue", body)
    assert r.status_code == 201, r.text


def _kinds(alerts: list[dict[str, Any]], party_id: str) -> set[str]:
    return {a["kind"] for a in alerts if a["party_id"] == party_id}


def test_alerts_of_every_source_per_grid(env: Env) -> None:
    g = make_grid(env, shops=1)
    shop, outsider = g.shops[0], env.add_party("restaurant")
    _licence(env, shop, 1, TODAY + timedelta(days=10))
    _licence(env, outsider, 2, TODAY + timedelta(days=400))
    _certificate(shop, TODAY - timedelta(days=2))
    data = ComplaintIn(merchant_id=shop.party_id, category=Category.HYGIENE, description="脏")
    file_complaint(
        env.log,
        session_factory(env.log.engine),
        env.settings,
        data,
        now=datetime.now(UTC) - timedelta(hours=1),
    )
    visit = {"party_id": shop.party_id, "inspected_on": TODAY.isoformat(), "result": "合格"}
    assert g.officer.post("/api/v1/inspections", "inspection.record", visit).status_code == 201
    # a cold-chain reading above 8 °C, captured by a producer
    producer = member(env, "producer")
    code, lot = product_lot(producer, 1, "L1")
    when = (datetime.now(UTC) - timedelta(hours=2)).isoformat(timespec="seconds")
    captured(
        env,
        producer,
        [
            event(
                "ObjectEvent",
                when,
                action="OBSERVE",
                bizStep="storing",
                quantityList=[{"epcClass": lot_class(code, lot)}],
                sensorElementList=[
                    {"sensorReport": [{"type": "Temperature", "value": 9.6, "uom": "CEL"}]}
                ],
            )
        ],
    )

    r = env.client.get("/api/v1/alerts", headers=g.officer.headers)
    assert r.status_code == 200, r.text
    everything = r.json()
    assert _kinds(everything, shop.party_id) == {
        "licence_expiring",
        "certificate_expired",
        "complaint_overdue",
        "inspection_unacknowledged",
    }
    [excursion] = [a for a in everything if a["kind"] == "temperature_excursion"]
    assert excursion["party_id"] == producer.party_id and "9.6" in excursion["detail"]
    # its licence write graded the outsider today (regrade on write, the default): never
    # visited, its first inspection is due one interval of its grade from today, so no alert
    # yet; nothing else either (its licence runs for 400 days)
    assert _kinds(everything, outsider.party_id) == set()

    r = env.client.get(f"/api/v1/alerts?grid_id={g.grid_id}", headers=g.worker.headers)
    assert {a["party_id"] for a in r.json()} == {shop.party_id}
    # the grid's sources, queried for its businesses only, give the district's answer filtered
    assert r.json() == [a for a in everything if a["grid_id"] == g.grid_id]
    assert all(a["grid_id"] == g.grid_id for a in r.json())
    r = env.client.get(
        "/api/v1/alerts",
        params={"kind": ["licence_expiring", "complaint_overdue"]},
        headers=g.worker.headers,
    )
    assert {a["kind"] for a in r.json()} == {"licence_expiring", "complaint_overdue"}
    assert_problem(env.client.get("/api/v1/alerts?kind=nonsense", headers=g.worker.headers), 422)
    assert_problem(env.client.get("/api/v1/alerts", headers=shop.headers), 403)
    assert_problem(env.client.get("/api/v1/alerts"), 401)

    # the business sees its own, and nobody else's
    r = env.client.get(f"/api/v1/parties/{shop.party_id}/alerts", headers=shop.headers)
    assert r.status_code == 200, r.text
    assert {a["kind"] for a in r.json()["alerts"]} == _kinds(everything, shop.party_id)
    r = env.client.get(f"/api/v1/parties/{shop.party_id}/alerts", headers=outsider.headers)
    assert_problem(r, 403)


def test_unanswered_alerts_climb_the_ladder_and_the_business_sees_each_step(env: Env) -> None:
    # The ladder of one licence alert. Both shops are graded by their licence writes (regrade
    # on write, the default) and never visited: their first inspections fall due an interval
    # of their grades later (121 days at best for the expired one, a C), so no inspection
    # alert joins the licence's in these 12 days, nor climbs the ladder with it.
    g = make_grid(env, shops=2)
    late, fine = g.shops
    _licence(env, late, 3, TODAY - timedelta(days=1))
    _licence(env, fine, 4, TODAY + timedelta(days=400))
    r = env.client.post("/api/v1/alerts/escalations", headers=g.officer.headers)
    assert r.status_code == 200, r.text
    [first] = r.json()
    assert (first["party_id"], first["step"], first["kinds"]) == (
        late.party_id,
        "提醒",
        ["licence_expired"],
    )
    # asked again at once: nothing new
    assert env.client.post("/api/v1/alerts/escalations", headers=g.officer.headers).json() == []
    sessions = session_factory(env.log.engine)
    now = datetime.now(UTC)
    steps = [
        [
            e.step.value
            for e in service.escalate(env.log, sessions, env.settings, now + k * STEP_INTERVAL)
        ]
        for k in (1, 2, 3, 4)
    ]
    assert steps == [["警示"], ["约谈"], ["检查"], []]
    r = env.client.get(f"/api/v1/parties/{late.party_id}/alerts", headers=late.headers)
    assert [e["step"] for e in r.json()["escalations"]] == ["提醒", "警示", "约谈", "检查"]
    entry = env.client.get(f"/api/v1/records/{first['entry_index']}").json()["entry"]
    assert entry["type"] == "alert.escalate" and entry["body"]["party_id"] == late.party_id
    assert (
        env.client.get(f"/api/v1/parties/{fine.party_id}/alerts", headers=fine.headers).json()[
            "escalations"
        ]
        == []
    )
    assert_problem(env.client.post("/api/v1/alerts/escalations", headers=late.headers), 403)


def test_a_never_visited_business_alerts_once_its_first_interval_has_passed(env: Env) -> None:
    """No alert flood when a district is graded: a business graded today has an interval of
    its grade for its first inspection; only once that has passed unvisited is it overdue,
    and only then does it climb the ladder."""
    g = make_grid(env, shops=1)
    [shop] = g.shops
    _licence(env, shop, 5, TODAY + timedelta(days=400))  # graded by this write
    sessions = session_factory(env.log.engine)
    now = datetime.now(UTC)

    def inspection_kinds(at: datetime) -> set[Kind]:
        with sessions() as session:
            found = service.list_alerts(session, env.settings, at, party_id=shop.party_id)
        return {a.kind for a in found} & {Kind.INSPECTION_DUE, Kind.INSPECTION_OVERDUE}

    with sessions() as session:
        [item] = schedule(session, TODAY, party_id=shop.party_id)
    assert item.status == "scheduled" and item.last_inspected_on is None
    assert inspection_kinds(now) == set()
    assert service.escalate(env.log, sessions, env.settings, now) == []
    first_due = datetime.combine(item.due_on, datetime.min.time(), UTC) + timedelta(hours=12)
    assert inspection_kinds(first_due - timedelta(days=1)) == {Kind.INSPECTION_DUE}
    later = first_due + timedelta(days=2)
    assert inspection_kinds(later) == {Kind.INSPECTION_OVERDUE}
    [step] = service.escalate(env.log, sessions, env.settings, later)
    assert (step.party_id, step.kinds) == (shop.party_id, [Kind.INSPECTION_OVERDUE])


def test_clone_suspects_come_from_the_scan_service_and_name_the_business(env: Env) -> None:
    """The flagged rows stand in for the scan service's detection (reworked elsewhere): the
    alert reads them only through its public ``suspects`` query."""
    g = make_grid(env, shops=1)
    shop = g.shops[0]
    producer = member(env, "producer")
    code, _ = product_lot(producer, 2, "L2")
    now = datetime.now(UTC)
    with Session(env.log.engine) as session, session.begin():
        for key, kind in (
            (f"ft1|m|{shop.party_id}", "merchant"),
            (f"ft1|01|{code}|21|S9", "serial"),
        ):
            session.add(
                ScanCount(
                    code_key=key,
                    kind=kind,
                    scans=500,
                    places=9,
                    first_at=now - timedelta(hours=1),
                    last_at=now,
                    suspect=True,
                    reason="scanned in 9 places within an hour",
                    flagged_at=now,
                )
            )
    r = env.client.get("/api/v1/alerts?kind=clone_suspect", headers=g.officer.headers)
    assert sorted((a["party_id"], a["subject"]) for a in r.json()) == sorted(
        [(shop.party_id, shop.party_id), (producer.party_id, f"(01){code}(21)S9")]
    )
    r = env.client.get(
        f"/api/v1/alerts?kind=clone_suspect&grid_id={g.grid_id}", headers=g.officer.headers
    )
    assert [a["party_id"] for a in r.json()] == [shop.party_id]


def test_overdue_recall_steps_alert_each_late_party(graph: Graph) -> None:
    """Level 1 must start within 24 hours: two days on, every affected party that has not
    acknowledged is late; one that acknowledged is not."""
    g = graph
    body = {"gtin": A_GTIN, "lot_code": "A", "level": 1, "reason": "检出沙门氏菌"}
    r = g.env.client.post("/api/v1/recalls", json=body, headers=g.farm1.actor.headers)
    assert r.status_code == 201, r.text
    case = r.json()
    r = g.env.client.post(
        f"/api/v1/recalls/{case['id']}/acknowledgements", json={}, headers=g.shop1.actor.headers
    )
    assert r.status_code == 201, r.text
    affected = {p["party_id"] for p in r.json()["parties"]}
    with Session(g.env.log.engine) as session:
        now = datetime.now(UTC)
        assert (
            service.list_alerts(session, g.env.settings, now, kinds={Kind.RECALL_STEP_OVERDUE})
            == []
        )
        later = service.list_alerts(
            session, g.env.settings, now + timedelta(days=2), kinds={Kind.RECALL_STEP_OVERDUE}
        )
        one = sorted(affected - {g.shop1.party_id})[0]
        narrowed = [  # the cases naming that business only: its own late step
            (a.party_id, a.subject)
            for a in service.list_alerts(
                session,
                g.env.settings,
                now + timedelta(days=2),
                party_id=one,
                kinds={Kind.RECALL_STEP_OVERDUE},
            )
        ]
        cases = recall_service.list_cases(
            session, now, recall_service.calendar(g.env.settings), party_ids=["nobody"]
        )
    late = {a.party_id for a in later}
    assert late == affected - {g.shop1.party_id} and late
    assert all(a.subject == case["id"] and "start" in a.detail for a in later)
    assert narrowed == [(one, case["id"])]
    assert cases == []  # a case names its affected parties only
