"""The big lists page in SQL (a keyset on their natural order, ``foodtrace/store/keyset.py``):
walked page by page they give exactly the unpaged list, the last page has no token, a token
of another key shape is 400, and the database is asked for one page, not the whole list."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "record"))

from keysetharness import check_list, statements
from recordharness import Env, assert_problem, env_fixture  # noqa: F401

from foodtrace.api.paging import encode_token


def test_a_partys_inspections_grades_and_penalties_page_in_sql(env: Env) -> None:
    shop = env.add_party("restaurant")
    inspector = env.add_party("inspector")
    for day in range(1, 6):
        body = {"party_id": shop.party_id, "inspected_on": f"2026-03-0{day}", "result": "合格"}
        r = inspector.post("/api/v1/inspections", "inspection.record", body)
        assert r.status_code == 201, r.text
        grade = {
            "party_id": shop.party_id,
            "grade": "ABCDA"[day - 1],
            "effective_on": f"2026-04-0{day}",
            "reason": "季度评定",
        }
        r = env.regulator.post("/api/v1/grades", "grade.set", grade)
        assert r.status_code == 201, r.text
    base = f"/api/v1/parties/{shop.party_id}"

    visits = check_list(env, f"{base}/inspections", 5, ["x"])
    indices = [v["entry_index"] for v in visits]
    assert indices == sorted(indices)  # entry order

    grades = check_list(env, f"{base}/grades", 5, ["x"])
    indices = [g["entry_index"] for g in grades]
    assert indices == sorted(indices, reverse=True)  # newest first

    today = datetime.now(UTC).date()
    for n, days_ago in enumerate((30, 10, 10, 20, 10)):  # ties on decided_on
        penalty = {
            "party_id": shop.party_id,
            "decision_number": f"沪市监处〔2026〕{n}号",
            "decided_on": (today - timedelta(days=days_ago)).isoformat(),
            "amount": "500.00",
            "severity": "general",
            "reason": "未按规定查验供货者许可证",
        }
        r = env.regulator.post("/api/v1/penalties", "penalty.record", penalty)
        assert r.status_code == 201, r.text
    penalties = check_list(env, f"{base}/penalties", 5, [1, 2])
    order = [(p["record"]["decided_on"], p["entry_index"]) for p in penalties]
    assert order == sorted(order, reverse=True)  # newest decision first, ties newest entry
    assert [p["record"]["decision_number"][-2] for p in penalties] == ["4", "2", "1", "3", "0"]

    with statements(env) as sql:
        r = env.client.get(f"{base}/inspections", params={"perPage": "2"})
    assert r.status_code == 200
    reads = [s for s in sql if "FROM inspections" in s and "ORDER BY" in s]
    assert reads and all("LIMIT" in s for s in reads), sql


def test_licences_and_lots_page_in_sql(env: Env) -> None:
    producer = env.add_party("producer")
    today = datetime.now(UTC).date()
    for n in range(3):
        lic = {
            "number": f"SC1013101150012{n}",
            "kind": "food_production",
            "holder": producer.party_id,
            "scope": "粮食加工品",
            "issuer": "上海市市场监督管理局",
            "valid_from": str(today - timedelta(days=300)),
            "valid_until": str(today + timedelta(days=100 + n)),
        }
        r = env.regulator.post("/api/v1/licences", "licence.issue", lic)
        assert r.status_code == 201, r.text
    path = f"/api/v1/parties/{producer.party_id}/licences"
    licences = check_list(env, path, 3, [True])
    assert [lic["record"]["number"][-1] for lic in licences] == ["0", "1", "2"]
    huge = env.client.get(path, params={"nextPageToken": encode_token(path, [2**70])})
    assert_problem(huge, 400)  # not a 500 from the database's integer range
    with statements(env) as sql:
        r = env.client.get(path, params={"perPage": "1", "nextPageToken": encode_token(path, [0])})
    assert r.status_code == 200 and len(r.json()) == 1
    reads = [s for s in sql if "FROM licences" in s and "ORDER BY" in s]
    assert reads and all("LIMIT" in s and "entry_index >" in s for s in reads), sql
