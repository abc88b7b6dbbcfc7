"""Inspection records and credit grades as logged, provable records."""

from __future__ import annotations

from recordharness import Env, assert_problem, pointers


def test_inspection_and_grade_round_trip(env: Env) -> None:
    shop = env.add_party("restaurant")
    inspector = env.add_party("inspector")
    body = {
        "party_id": shop.party_id,
        "inspected_on": "2026-03-05",
        "result": "基本合格",
        "findings": ["冷藏柜温度记录不完整"],
        "photos": ["ab" * 32],
    }
    r = inspector.post("/api/v1/inspections", "inspection.record", body)
    assert r.status_code == 201, r.text
    index = r.json()["entry_index"]
    got = env.client.get(f"/api/v1/inspections/{index}").json()
    assert (
        got["record"]["result"] == "基本合格" and got["record"]["inspector"] == inspector.party_id
    )
    for grade in ("B", "C"):
        r = env.regulator.post(
            "/api/v1/grades",
            "grade.set",
            {
                "party_id": shop.party_id,
                "grade": grade,
                "effective_on": "2026-04-01",
                "reason": "季度评定",
            },
        )
        assert r.status_code == 201, r.text
    grades = env.client.get(f"/api/v1/parties/{shop.party_id}/grades").json()
    typed = [g["record"]["grade"] for g in grades if g["record"].get("kind") == "set"]
    assert typed == ["C", "B"]  # the inspection's write also logged a computed grade
    assert len(env.client.get(f"/api/v1/parties/{shop.party_id}/inspections").json()) == 1


def test_bad_inspection_lists_every_problem(env: Env) -> None:
    inspector = env.add_party("inspector")
    before = env.snapshot()
    r = inspector.post(
        "/api/v1/inspections",
        "inspection.record",
        {"party_id": "nobody", "inspected_on": "2026-13-01", "result": "ok", "photos": ["xyz"]},
    )
    assert_problem(r, 422)
    assert {
        "/body/entry/body/inspected_on",
        "/body/entry/body/result",
        "/body/entry/body/photos/0",
    } <= pointers(r)
    r = inspector.post(
        "/api/v1/inspections",
        "inspection.record",
        {"party_id": "nobody", "inspected_on": "2026-03-01", "result": "合格"},
    )
    assert_problem(r, 422)
    assert pointers(r) == {"/body/entry/body/party_id"}
    assert env.snapshot() == before
