"""Complaints with owners (所社联动) through the HTTP API and with controlled clocks:
routing to the shop's grid, both confirmations, the complainant's rating, escalation to the
station head, the grid's dashboard."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from gridharness import GridCase, make_grid
from recordharness import Actor, Env, assert_problem, pointers

from foodtrace.complaint import owners
from foodtrace.complaint.schemas import Category, ComplaintIn, Stage
from foodtrace.complaint.service import file_complaint, record_update
from foodtrace.store.db import session_factory

T0 = datetime(2026, 3, 5, 9, 0, tzinfo=UTC)


def _file(env: Env, shop: Actor, at: datetime = T0) -> str:
    data = ComplaintIn(merchant_id=shop.party_id, category=Category.HYGIENE, description="脏")
    return file_complaint(env.log, session_factory(env.log.engine), env.settings, data, now=at)


def _confirm(who: Actor, tracking: str, capacity: str) -> Any:
    body = {
        "tracking_number": tracking,
        "capacity": capacity,
        "confirmed_at": datetime.now(UTC).isoformat(),
    }
    return who.post(f"/api/v1/complaints/{tracking}/confirmations", "complaint.confirm", body)


def test_a_complaint_goes_to_its_grid_and_closes_with_both_and_a_rating(env: Env) -> None:
    g: GridCase = make_grid(env)
    tracking = _file(env, g.shops[0], datetime.now(UTC))
    r = env.client.get(f"/api/v1/complaints/{tracking}/owners", headers=g.officer.headers)
    assert r.status_code == 200, r.text
    got = r.json()
    assert (got["grid_id"], got["officer"], got["grid_worker"], got["station_head"]) == (
        g.grid_id,
        g.officer.party_id,
        g.worker.party_id,
        g.head.party_id,
    )
    owned = env.client.get("/api/v1/complaints-owned?open=true", headers=g.worker.headers)
    assert [c["tracking_number"] for c in owned.json()] == [tracking]

    # not before both confirmed
    r = env.client.post(f"/api/v1/complaints/{tracking}/rating", json={"rating": 5})
    assert_problem(r, 409)
    # the worker cannot confirm as officer, nor a stranger at all
    assert_problem(_confirm(g.worker, tracking, "officer"), 403)
    assert_problem(_confirm(env.add_party("inspector"), tracking, "grid_worker"), 403)
    assert _confirm(g.officer, tracking, "officer").status_code == 201
    assert_problem(_confirm(g.officer, tracking, "officer"), 409)
    r = _confirm(g.worker, tracking, "grid_worker")
    assert r.status_code == 201, r.text
    assert not r.json()["closed"]
    assert_problem(
        env.client.post(f"/api/v1/complaints/{tracking}/rating", json={"rating": 9}), 422
    )
    r = env.client.post(f"/api/v1/complaints/{tracking.lower()}/rating", json={"rating": 4})
    assert r.status_code == 201, r.text
    assert r.json()["closed"] and r.json()["rating"] == 4
    assert_problem(
        env.client.post(f"/api/v1/complaints/{tracking}/rating", json={"rating": 4}), 409
    )
    assert (
        env.client.get("/api/v1/complaints-owned?open=true", headers=g.worker.headers).json() == []
    )


def test_confirmation_must_name_the_path_complaint(env: Env) -> None:
    g = make_grid(env)
    tracking = _file(env, g.shops[0])
    body = {
        "tracking_number": "TS-2026-0000-0000",
        "capacity": "officer",
        "confirmed_at": T0.isoformat(),
    }
    r = g.officer.post(f"/api/v1/complaints/{tracking}/confirmations", "complaint.confirm", body)
    assert_problem(r, 422)
    assert pointers(r) == {"/body/tracking_number"}


def test_overdue_clocks_escalate_once_to_the_station_head(env: Env) -> None:
    g = make_grid(env)
    late, answered = _file(env, g.shops[0]), _file(env, g.shops[1])
    sessions = session_factory(env.log.engine)
    record_update(
        env.log,
        sessions,
        env.settings,
        answered,
        Stage.RESPONSE,
        g.officer.party_id,
        "已联系",
        now=T0 + timedelta(minutes=10),
    )
    assert (
        owners.escalate_overdue(env.log, sessions, env.settings, T0 + timedelta(minutes=29)) == []
    )
    out = owners.escalate_overdue(env.log, sessions, env.settings, T0 + timedelta(minutes=31))
    assert [(e.tracking_number, e.stage, e.to) for e in out] == [
        (late, Stage.RESPONSE, g.head.party_id)
    ]
    # once per stage: the same run later adds nothing until the feedback clock runs out too
    assert owners.escalate_overdue(env.log, sessions, env.settings, T0 + timedelta(hours=2)) == []
    out = owners.escalate_overdue(env.log, sessions, env.settings, T0 + timedelta(hours=25))
    assert sorted((e.tracking_number, e.stage) for e in out) == sorted(
        [(late, Stage.FEEDBACK), (answered, Stage.FEEDBACK)]
    )
    entry = env.client.get(f"/api/v1/records/{out[0].entry_index}").json()["entry"]
    assert entry["type"] == "complaint.escalate" and entry["body"]["to"] == g.head.party_id


def test_clocks_are_configurable(env: Env) -> None:
    g = make_grid(env, shops=1)
    tracking = _file(env, g.shops[0])
    sessions = session_factory(env.log.engine)
    fast = env.settings.model_copy(update={"complaint_response_minutes": 5})
    out = owners.escalate_overdue(env.log, sessions, fast, T0 + timedelta(minutes=6))
    assert [(e.tracking_number, e.stage) for e in out] == [(tracking, Stage.RESPONSE)]


def test_dashboard_counts_handled_on_time_and_satisfied(env: Env) -> None:
    g = make_grid(env)
    now = datetime.now(UTC)
    good = _file(env, g.shops[0], now - timedelta(hours=30))
    sessions = session_factory(env.log.engine)
    for stage, minutes in ((Stage.RESPONSE, 5), (Stage.FEEDBACK, 60)):
        record_update(
            env.log,
            sessions,
            env.settings,
            good,
            stage,
            g.officer.party_id,
            "处理",
            now=now - timedelta(hours=30) + timedelta(minutes=minutes),
        )
    assert _confirm(g.officer, good, "officer").status_code == 201
    assert _confirm(g.worker, good, "grid_worker").status_code == 201
    assert (
        env.client.post(f"/api/v1/complaints/{good}/rating", json={"rating": 5}).status_code == 201
    )
    _file(env, g.shops[1], now - timedelta(hours=26))  # never answered: late on both clocks
    _file(env, g.shops[1], now)  # just in: its clocks have not run out, so not counted yet
    r = env.client.get(f"/api/v1/grids/{g.grid_id}/dashboard", headers=g.head.headers)
    assert r.status_code == 200, r.text
    assert r.json() | {"name": None} == {
        "grid_id": g.grid_id,
        "name": None,
        "complaints": 3,
        "handled": 1,
        "on_time": 1,
        "on_time_pct": 50.0,
        "rated": 1,
        "satisfied": 1,
        "satisfaction_pct": 100.0,
        "escalated": 0,
    }
    assert_problem(env.client.get(f"/api/v1/grids/{g.grid_id}/dashboard"), 401)


def test_a_shop_in_no_grid_is_not_routed(env: Env) -> None:
    shop, inspector = env.add_party("restaurant"), env.add_party("inspector")
    tracking = _file(env, shop)
    r = env.client.get(f"/api/v1/complaints/{tracking}/owners", headers=inspector.headers)
    assert_problem(r, 404)
