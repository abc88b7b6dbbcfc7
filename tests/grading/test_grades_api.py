"""Computed grades end to end on both databases: recomputation, penalties, findings, credit
repair, the schedule, and who may write what."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from recordharness import Actor, Env, assert_problem, pointers

from foodtrace.api.problems import Problem
from foodtrace.auth.models import Principal, Role
from foodtrace.grading import indicators as ind
from foodtrace.grading import policyfile
from foodtrace.grading.current import current
from foodtrace.grading.flows import grade_body, local_day
from foodtrace.grading.policy import INDICATORS
from foodtrace.grading.schemas import GradeKind
from foodtrace.grading.service import current_grades
from foodtrace.record.service import submit
from foodtrace.store.db import session_factory
from foodtrace.trace import entry as entry_mod

TODAY = local_day()
POLICY = policyfile.load()


def _licensed_shop(env: Env, n: int) -> Actor:
    shop = env.add_party("restaurant")
    r = env.regulator.post(
        "/api/v1/licences",
        "licence.issue",
        {
            "number": f"JY2310115{n:07d}",
            "kind": "food_business",
            "holder": shop.party_id,
            "scope": "热食类食品制售",
            "issuer": "崇明区市场监督管理局",
            "valid_from": (TODAY - timedelta(days=365)).isoformat(),
            "valid_until": (TODAY + timedelta(days=365 * 4)).isoformat(),
        },
    )
    assert r.status_code == 201, r.text
    r = shop.post(
        "/api/v1/health-certificates",
        "health.certificate.issue",
        {
            "certificate_number": f"HC-{n}",
            "holder_commitment": "ab" * 32,
            "issuer": "崇明区疾控中心",
            "valid_from": (TODAY - timedelta(days=30)).isoformat(),
            "valid_until": (TODAY + timedelta(days=335)).isoformat(),
        },
    )
    assert r.status_code == 201, r.text
    return shop


def _grades(env: Env, party_id: str) -> list[dict[str, Any]]:
    r = env.client.get(f"/api/v1/parties/{party_id}/grades")
    assert r.status_code == 200, r.text
    return [g["record"] for g in r.json()]


def _recompute(env: Env, as_of: date | None = None) -> dict[str, Any]:
    params = {"as_of": as_of.isoformat()} if as_of else {}
    r = env.client.post("/api/v1/grades/recompute", params=params, headers=env.regulator.headers)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def _penalty(number: str, party_id: str, severity: str) -> dict[str, Any]:
    return {
        "party_id": party_id,
        "decision_number": number,
        "decided_on": (TODAY - timedelta(days=10)).isoformat(),
        "amount": "5000.00",
        "severity": severity,
        "reason": "经营超过保质期的食品",
    }


def test_grade_entry_carries_indicators_and_policy_version(env: Env) -> None:
    shop = _licensed_shop(env, 1)
    inspector = env.add_party("inspector")
    r = inspector.post(
        "/api/v1/inspections",
        "inspection.record",
        {"party_id": shop.party_id, "inspected_on": TODAY.isoformat(), "result": "合格"},
    )
    assert r.status_code == 201, r.text
    # each of the shop's writes regraded it (on write, the default); the newest grade is the
    # inspection's, and a recompute finds nothing left to write
    out = _recompute(env)
    assert out["parties"] == 1 and out["written"] == 0  # the inspector is not graded
    newest = env.client.get(f"/api/v1/parties/{shop.party_id}/grades").json()[0]
    grade = newest["record"]
    assert grade["kind"] == "computed" and grade["policy_version"] == "2026.1"
    assert grade["grade"] == "A" and grade["total"] == 100
    assert [i["name"] for i in grade["indicators"]] == list(INDICATORS)
    assert all({"name", "value", "score"} <= set(i) for i in grade["indicators"])
    record = env.client.get(f"/api/v1/records/{newest['entry_index']}").json()
    body = record["entry"]["body"]
    assert record["entry"]["type"] == "grade.compute"
    assert record["entry"]["author"] == env.settings.platform_author
    assert body["indicators"] == grade["indicators"] and body["policy_version"] == "2026.1"
    assert _recompute(env)["written"] == 0  # nothing changed: nothing written


def test_serious_penalty_makes_d_and_repair_lifts_it(env: Env) -> None:
    shop = _licensed_shop(env, 2)
    other = env.add_party("retailer")
    _recompute(env)
    assert _grades(env, shop.party_id)[0]["grade"] in "AB"

    before = env.snapshot()
    r = shop.post("/api/v1/penalties", "penalty.record", _penalty("P-1", shop.party_id, "serious"))
    assert_problem(r, 403)
    assert env.snapshot() == before

    r = env.regulator.post(
        "/api/v1/penalties", "penalty.record", _penalty("P-1", shop.party_id, "serious")
    )
    assert r.status_code == 201, r.text
    assert r.json()["record"]["severity"] == "serious"
    now = _grades(env, shop.party_id)[0]
    assert now["grade"] == "D"  # regraded at once, by the override
    assert any("严重违法" in reason for reason in now["reasons"])
    penalties = {i["name"]: i for i in now["indicators"]}["penalties"]
    assert penalties["value"] == 1 and penalties["facts"]["serious"] == 1

    repair = {
        "application_id": "XF-1",
        "party_id": shop.party_id,
        "penalties": ["P-1"],
        "corrective_action": "已下架并建立保质期检查制度",
        "applied_on": TODAY.isoformat(),
    }
    before = env.snapshot()
    r = other.post("/api/v1/repairs", "repair.apply", repair)
    assert_problem(r, 403)
    assert "/body/party_id" in pointers(r)
    r = other.post("/api/v1/repairs", "repair.apply", {**repair, "party_id": other.party_id})
    assert_problem(r, 422)  # not its penalty
    assert env.snapshot() == before

    r = shop.post("/api/v1/repairs", "repair.apply", repair)
    assert r.status_code == 201, r.text
    assert r.json()["record"]["status"] == "pending"

    decision = {
        "application_id": "XF-1",
        "outcome": "approved",
        "decided_on": TODAY.isoformat(),
        "reason": "整改到位",
    }
    before = env.snapshot()
    r = shop.post("/api/v1/repairs/XF-1/decision", "repair.decide", decision)
    assert_problem(r, 403)
    assert env.snapshot() == before
    r = env.regulator.post("/api/v1/repairs/XF-1/decision", "repair.decide", decision)
    assert r.status_code == 201, r.text
    assert r.json()["record"]["status"] == "approved"
    assert _grades(env, shop.party_id)[0]["grade"] != "D"
    r = env.regulator.post("/api/v1/repairs/XF-1/decision", "repair.decide", decision)
    assert_problem(r, 409)  # decided once
    got = env.client.get(f"/api/v1/parties/{shop.party_id}/penalties").json()
    assert got[0]["record"]["repaired"] is True


def test_refused_repair_keeps_the_grade(env: Env) -> None:
    shop = _licensed_shop(env, 3)
    env.regulator.post(
        "/api/v1/penalties", "penalty.record", _penalty("P-2", shop.party_id, "serious")
    )
    shop.post(
        "/api/v1/repairs",
        "repair.apply",
        {
            "application_id": "XF-2",
            "party_id": shop.party_id,
            "penalties": ["P-2"],
            "corrective_action": "已整改",
            "applied_on": TODAY.isoformat(),
        },
    )
    r = env.regulator.post(
        "/api/v1/repairs/XF-2/decision",
        "repair.decide",
        {
            "application_id": "XF-2",
            "outcome": "refused",
            "decided_on": TODAY.isoformat(),
            "reason": "整改未到位",
        },
    )
    assert r.status_code == 201, r.text
    assert env.client.get("/api/v1/repairs/XF-2").json()["record"]["status"] == "refused"
    assert _grades(env, shop.party_id)[0]["grade"] == "D"


def test_a_grade_that_does_not_follow_from_its_values_is_refused(env: Env) -> None:
    shop = _licensed_shop(env, 4)
    values, decision = ind.grade(POLICY, ind.PartyInputs(), TODAY)
    body = grade_body(shop.party_id, TODAY, POLICY, values, decision)
    assert body["grade"] == "C"
    assert env.regulator.key is not None
    principal = Principal(env.regulator.party_id, Role.REGULATOR, token_id=0)
    before = env.snapshot()
    for forged in (
        {**body, "grade": "A"},
        {**body, "total": 99.0},
        {**body, "policy_version": "1999.1"},
    ):
        e = entry_mod.sign(
            env.regulator.key, type="grade.compute", author=env.regulator.party_id, body=forged
        )
        try:
            submit(env.log, env.client.app.state.sessions, principal, [e])
        except Problem as exc:
            assert exc.status == 422
        else:
            raise AssertionError(f"accepted {forged}")
    assert env.snapshot() == before
    e = entry_mod.sign(
        env.regulator.key, type="grade.compute", author=env.regulator.party_id, body=body
    )
    [ref] = submit(env.log, env.client.app.state.sessions, principal, [e])
    assert _grades(env, shop.party_id)[0]["grade"] == "C"
    assert ref.index >= 0


def test_hand_typed_grades_stay_as_history(env: Env) -> None:
    shop = _licensed_shop(env, 5)
    r = env.regulator.post(
        "/api/v1/grades",
        "grade.set",
        {
            "party_id": shop.party_id,
            "grade": "B",
            "effective_on": TODAY.isoformat(),
            "reason": "季度评定",
        },
    )
    assert r.status_code == 201, r.text
    assert _grades(env, shop.party_id)[0]["kind"] == "set"
    inspector = env.add_party("inspector")
    visit = {"party_id": shop.party_id, "inspected_on": TODAY.isoformat(), "result": "合格"}
    assert inspector.post("/api/v1/inspections", "inspection.record", visit).status_code == 201
    kinds = [(g["kind"], g["policy_version"]) for g in _grades(env, shop.party_id)]
    # the inspection regraded the shop; the licence's and certificate's grades came before
    assert kinds == [("computed", "2026.1"), ("set", None), *[("computed", "2026.1")] * 2]


def _heads(grades: dict[str, Any]) -> dict[str, tuple[Any, ...]]:
    return {
        p: (g.entry_index, g.kind, g.grade, g.effective_on, g.policy_version)
        for p, g in grades.items()
    }


def test_current_grades_picked_in_sql_agree_with_the_full_read(env: Env) -> None:
    """The narrow read (:mod:`foodtrace.grading.current`) against the reference that reads
    every grade row: hand-typed only, typed but not yet in effect, ungraded; then computed
    over typed."""
    typed, future, ungraded = (env.add_party("restaurant") for _ in range(3))
    for shop, grade, on in ((typed, "C", TODAY), (future, "A", TODAY + timedelta(days=9))):
        body = {
            "party_id": shop.party_id,
            "grade": grade,
            "effective_on": on.isoformat(),
            "reason": "季度评定",
        }
        assert env.regulator.post("/api/v1/grades", "grade.set", body).status_code == 201
    wanted = [typed.party_id, future.party_id, ungraded.party_id]
    for stage in ("typed", "computed"):
        with session_factory(env.log.engine)() as session:
            reference = _heads(current_grades(session, TODAY))
            everyone = current(session, TODAY)
            some = current(session, TODAY, wanted)
        assert _heads(everyone) == reference, stage
        assert _heads(some) == {p: reference[p] for p in wanted if p in reference}, stage
        if stage == "typed":
            assert some[typed.party_id].kind is GradeKind.SET
            assert future.party_id not in some  # its grade is not in effect yet
            assert ungraded.party_id not in some
            _recompute(env)
        else:
            assert some[typed.party_id].kind is GradeKind.COMPUTED


def test_substantiated_complaint_costs_points(env: Env) -> None:
    shop = _licensed_shop(env, 6)
    _recompute(env)
    r = env.client.post(
        "/api/v1/complaints",
        json={"merchant_id": shop.party_id, "category": "hygiene", "description": "餐具不洁"},
    )
    assert r.status_code == 201, r.text
    tracking = r.json()["tracking_number"]
    finding = {"tracking_number": tracking, "substantiated": True, "found_on": TODAY.isoformat()}
    assert_problem(shop.post("/api/v1/complaint-findings", "complaint.finding", finding), 403)
    r = env.regulator.post("/api/v1/complaint-findings", "complaint.finding", finding)
    assert r.status_code == 201, r.text
    complaints = {i["name"]: i for i in _grades(env, shop.party_id)[0]["indicators"]}["complaints"]
    assert (complaints["value"], complaints["score"]) == (1, 75)
    assert_problem(
        env.regulator.post("/api/v1/complaint-findings", "complaint.finding", finding), 409
    )


def test_schedule_lists_due_and_overdue(env: Env) -> None:
    shop = _licensed_shop(env, 7)
    inspector = env.add_party("inspector")
    inspected = TODAY - timedelta(days=200)
    r = inspector.post(
        "/api/v1/inspections",
        "inspection.record",
        {"party_id": shop.party_id, "inspected_on": inspected.isoformat(), "result": "合格"},
    )
    assert r.status_code == 201, r.text
    _recompute(env)
    grade = _grades(env, shop.party_id)[0]["grade"]
    interval = POLICY.frequency[grade].inspection_interval_days
    r = env.client.get("/api/v1/inspections/schedule", headers=inspector.headers)
    assert r.status_code == 200, r.text
    [item] = r.json()
    assert item["party_id"] == shop.party_id and item["last_inspected_on"] == inspected.isoformat()
    assert item["due_on"] == (inspected + timedelta(days=interval)).isoformat()
    later = (inspected + timedelta(days=interval + 5)).isoformat()
    r = env.client.get(
        f"/api/v1/parties/{shop.party_id}/schedule",
        params={"as_of": later},
        headers=inspector.headers,
    )
    assert r.json()["status"] == "overdue" and r.json()["days_overdue"] == 5
    assert_problem(env.client.get("/api/v1/inspections/schedule", headers=shop.headers), 403)
    assert_problem(env.client.get("/api/v1/inspections/schedule"), 401)


def test_a_never_visited_business_is_due_one_interval_after_its_first_grade(env: Env) -> None:
    shop = _licensed_shop(env, 9)  # graded by its licence write (regrade on write)
    assert _grades(env, shop.party_id), "the licence write graded the shop"
    inspector = env.add_party("inspector")

    def at(day: date) -> dict[str, Any]:
        r = env.client.get(
            f"/api/v1/parties/{shop.party_id}/schedule",
            params={"as_of": day.isoformat()},
            headers=inspector.headers,
        )
        assert r.status_code == 200, r.text
        item: dict[str, Any] = r.json()
        return item

    now = at(TODAY)  # registered and graded today: not due, let alone overdue
    first_due = TODAY + timedelta(days=now["inspection_interval_days"])
    assert (now["status"], now["due_on"], now["last_inspected_on"]) == (
        "scheduled",
        first_due.isoformat(),
        None,
    )
    # a later regrade (another write, or the daily recomputation) does not push it back
    _recompute(env, TODAY + timedelta(days=30))
    assert len(_grades(env, shop.party_id)) >= 2
    soon = at(first_due - timedelta(days=POLICY.due_soon_days))
    assert (soon["status"], soon["due_on"]) == ("due", first_due.isoformat())
    late = at(first_due + timedelta(days=3))
    assert (late["status"], late["days_overdue"]) == ("overdue", 3)


def test_a_failed_visit_schedules_its_reinspection(env: Env) -> None:
    shop = _licensed_shop(env, 8)
    inspector = env.add_party("inspector")
    visited = TODAY - timedelta(days=3)
    deadline = TODAY + timedelta(days=4)
    r = inspector.post(
        "/api/v1/inspections",
        "inspection.record",
        {
            "party_id": shop.party_id,
            "inspected_on": visited.isoformat(),
            "result": "不合格",
            "corrective_actions": [{"action": "清理后厨", "deadline": deadline.isoformat()}],
        },
    )
    assert r.status_code == 201, r.text
    _recompute(env)
    r = env.client.get(f"/api/v1/parties/{shop.party_id}/schedule", headers=inspector.headers)
    item = r.json()
    assert item["reinspection"] and item["due_on"] == (deadline + timedelta(days=1)).isoformat()
    later = (deadline + timedelta(days=3)).isoformat()
    r = env.client.get(
        f"/api/v1/parties/{shop.party_id}/schedule",
        params={"as_of": later},
        headers=inspector.headers,
    )
    assert (r.json()["status"], r.json()["days_overdue"]) == ("overdue", 2)
    # the re-inspection itself passes: the schedule goes back to the grade's interval
    r = inspector.post(
        "/api/v1/inspections",
        "inspection.record",
        {"party_id": shop.party_id, "inspected_on": TODAY.isoformat(), "result": "合格"},
    )
    assert r.status_code == 201, r.text
    r = env.client.get(f"/api/v1/parties/{shop.party_id}/schedule", headers=inspector.headers)
    assert not r.json()["reinspection"] and r.json()["last_inspected_on"] == TODAY.isoformat()
