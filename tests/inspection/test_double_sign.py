"""双签 through the HTTP API: the inspector records and signs, the merchant acknowledges by its
own key or by the one-time code; unacknowledged visits are listed; faces follow."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from recordharness import Actor, Env, assert_problem, pointers
from sqlalchemy.orm import Session

from foodtrace.inspection import rules
from foodtrace.inspection.models import InspectionCode


def _visit(shop: Actor, result: str = "不合格", **extra: Any) -> dict[str, Any]:
    return {
        "party_id": shop.party_id,
        "inspected_on": "2026-03-05",
        "result": result,
        "findings": ["冷藏柜温度记录不完整"],
        "photos": ["ab" * 32],
        "checklist": [
            {"item": "许可证悬挂", "result": "符合"},
            {"item": "冷藏温度记录", "result": "不符合", "note": "缺4天记录"},
        ],
        "corrective_actions": [{"action": "补全温度记录", "deadline": "2026-03-12"}],
        **extra,
    }


def _ack(index: int, shop: Actor) -> dict[str, Any]:
    return {
        "inspection": index,
        "party_id": shop.party_id,
        "method": "key",
        "acknowledged_at": datetime.now(UTC).isoformat(),
    }


def test_merchant_acknowledges_with_its_own_key(env: Env) -> None:
    shop, other = env.add_party("restaurant"), env.add_party("restaurant")
    inspector = env.add_party("inspector")
    r = inspector.post("/api/v1/inspections", "inspection.record", _visit(shop))
    assert r.status_code == 201, r.text
    got = r.json()
    index, record = got["entry_index"], got["record"]
    assert record["face"] == "较差" and record["reinspection_due"] == "2026-03-13"
    assert record["checklist"][1]["result"] == "不符合" and not record["double_signed"]
    assert len(got["confirmation"]["code"]) == 6
    unacked = env.client.get("/api/v1/inspections/unacknowledged", headers=inspector.headers)
    assert [i["entry_index"] for i in unacked.json()] == [index]

    # another merchant cannot sign for this one, nor the inspector for the merchant
    r = other.post(f"/api/v1/inspections/{index}/ack", "inspection.ack", _ack(index, shop))
    assert_problem(r, 403)
    r = inspector.post(f"/api/v1/inspections/{index}/ack", "inspection.ack", _ack(index, shop))
    assert_problem(r, 403)
    r = shop.post(f"/api/v1/inspections/{index}/ack", "inspection.ack", _ack(index + 1, shop))
    assert_problem(r, 422)
    assert pointers(r) == {"/body/inspection"}

    r = shop.post(f"/api/v1/inspections/{index}/ack", "inspection.ack", _ack(index, shop))
    assert r.status_code == 201, r.text
    record = r.json()["record"]
    assert record["double_signed"] and record["acknowledgement"]["method"] == "key"
    assert record["acknowledgement"]["author"] == shop.party_id
    assert r.json()["entry_index"] == record["acknowledgement"]["entry_index"] != index
    r = shop.post(f"/api/v1/inspections/{index}/ack", "inspection.ack", _ack(index, shop))
    assert_problem(r, 409)
    assert (
        env.client.get("/api/v1/inspections/unacknowledged", headers=inspector.headers).json() == []
    )
    assert env.client.get(f"/api/v1/inspections/{index}").json()["record"]["double_signed"]


def test_merchant_confirms_by_the_one_time_code(env: Env) -> None:
    shop, inspector = env.add_party("restaurant"), env.add_party("inspector")
    r = inspector.post("/api/v1/inspections", "inspection.record", _visit(shop, "合格"))
    index, code = r.json()["entry_index"], r.json()["confirmation"]["code"]
    with Session(env.log.engine) as session:
        stored = session.get(InspectionCode, index)
        assert stored is not None and stored.code_hash != code and code not in stored.code_hash
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    before = env.log.size()
    r = env.client.post(f"/api/v1/inspections/{index}/confirm", json={"code": wrong})
    assert_problem(r, 422)
    assert pointers(r) == {"/body/code"} and env.log.size() == before
    r = env.client.post(f"/api/v1/inspections/{index}/confirm", json={"code": "12"})
    assert_problem(r, 422)
    r = env.client.post(f"/api/v1/inspections/{index}/confirm", json={"code": code})
    assert r.status_code == 201, r.text
    record = r.json()["record"]
    assert record["double_signed"] and record["acknowledgement"]["method"] == "code"
    assert record["acknowledgement"]["author"] == env.settings.platform_author
    assert r.json()["proof"]["entry"]["type"] == "inspection.ack"
    # single use
    r = env.client.post(f"/api/v1/inspections/{index}/confirm", json={"code": code})
    assert_problem(r, 409)
    assert_problem(env.client.post("/api/v1/inspections/99999/confirm", json={"code": code}), 404)


def test_code_is_void_after_too_many_wrong_attempts(env: Env) -> None:
    shop, inspector = env.add_party("restaurant"), env.add_party("inspector")
    r = inspector.post("/api/v1/inspections", "inspection.record", _visit(shop, "合格"))
    index, code = r.json()["entry_index"], r.json()["confirmation"]["code"]
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(rules.CODE_ATTEMPTS):
        assert_problem(
            env.client.post(f"/api/v1/inspections/{index}/confirm", json={"code": wrong}), 422
        )
    r = env.client.post(f"/api/v1/inspections/{index}/confirm", json={"code": code})
    assert_problem(r, 422)
    assert "void" in r.json()["errors"][0]["detail"]


def test_a_regulator_cannot_forge_a_code_acknowledgement(env: Env) -> None:
    shop, inspector = env.add_party("restaurant"), env.add_party("inspector")
    index = inspector.post("/api/v1/inspections", "inspection.record", _visit(shop)).json()[
        "entry_index"
    ]
    body = {**_ack(index, shop), "method": "code"}
    r = env.regulator.post(f"/api/v1/inspections/{index}/ack", "inspection.ack", body)
    assert_problem(r, 403)
    assert pointers(r) == {"/body/entry/body/method"}


def test_old_visits_without_checklists_still_read(env: Env) -> None:
    shop, inspector = env.add_party("restaurant"), env.add_party("inspector")
    body = {"party_id": shop.party_id, "inspected_on": "2026-03-05", "result": "基本合格"}
    r = inspector.post("/api/v1/inspections", "inspection.record", body)
    assert r.status_code == 201, r.text
    record = r.json()["record"]
    assert record["checklist"] == [] and record["corrective_actions"] == []
    assert record["face"] == "一般" and record["reinspection_due"] is None


def test_faces_follow_the_visits(env: Env) -> None:
    shop, inspector = env.add_party("restaurant"), env.add_party("inspector")
    for on, result in (("2025-11-01", "不合格"), ("2026-03-05", "合格"), ("2026-06-01", "合格")):
        body = {"party_id": shop.party_id, "inspected_on": on, "result": result}
        assert inspector.post("/api/v1/inspections", "inspection.record", body).status_code == 201
    r = env.client.get(f"/api/v1/parties/{shop.party_id}/inspection-faces?as_of=2026-07-01")
    assert r.json() | {"as_of": None} == {
        "party_id": shop.party_id,
        "dynamic": "良好",
        "annual": "一般",  # (0 + 2 + 2) / 3 < 1.5
        "visits_12_months": 3,
        "as_of": None,
    }
    r = env.client.get(f"/api/v1/parties/{shop.party_id}/inspection-faces?as_of=2026-03-10")
    assert r.json()["annual"] == "一般" and r.json()["dynamic"] == "良好"  # (0 + 2) / 2
    # a year after the failed visit it has left the window: (2 + 2) / 2
    r = env.client.get(f"/api/v1/parties/{shop.party_id}/inspection-faces?as_of=2026-11-01")
    assert (r.json()["annual"], r.json()["visits_12_months"]) == ("良好", 2)
