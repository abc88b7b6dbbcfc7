"""Red and black lists as public JSON and zh-CN pages, with reasons and dates, following the
grades and penalties behind them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from recordharness import Actor, Env

from foodtrace.grading.flows import local_day

TODAY = local_day()


def _shop(env: Env, n: int, name: str) -> Actor:
    shop = env.add_party("restaurant", name=name)
    assert (
        env.regulator.post(
            "/api/v1/licences",
            "licence.issue",
            {
                "number": f"JY2310115{n:07d}",
                "kind": "food_business",
                "holder": shop.party_id,
                "scope": "热食类食品制售",
                "issuer": "崇明区市场监督管理局",
                "valid_from": (TODAY - timedelta(days=100)).isoformat(),
                "valid_until": (TODAY + timedelta(days=1000)).isoformat(),
            },
        ).status_code
        == 201
    )
    assert (
        shop.post(
            "/api/v1/health-certificates",
            "health.certificate.issue",
            {
                "certificate_number": f"HC-L{n}",
                "holder_commitment": "cd" * 32,
                "issuer": "崇明区疾控中心",
                "valid_from": (TODAY - timedelta(days=10)).isoformat(),
                "valid_until": (TODAY + timedelta(days=300)).isoformat(),
            },
        ).status_code
        == 201
    )
    return shop


def _list(env: Env, kind: str) -> dict[str, Any]:
    r = env.client.get(f"/api/v1/lists/{kind}")
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    body: dict[str, Any] = r.json()
    return body


def test_red_and_black_lists_follow_grades_penalties_and_repair(env: Env) -> None:
    good = _shop(env, 1, "守信餐厅")
    bad = _shop(env, 2, "失信餐厅")
    inspector = env.add_party("inspector")
    for shop in (good, bad):
        r = inspector.post(
            "/api/v1/inspections",
            "inspection.record",
            {"party_id": shop.party_id, "inspected_on": TODAY.isoformat(), "result": "合格"},
        )
        assert r.status_code == 201, r.text
    env.client.post("/api/v1/grades/recompute", headers=env.regulator.headers)
    red = _list(env, "red")
    assert {p["party_id"] for p in red["parties"]} == {good.party_id, bad.party_id}
    assert _list(env, "black")["parties"] == []

    decided = TODAY - timedelta(days=3)
    r = env.regulator.post(
        "/api/v1/penalties",
        "penalty.record",
        {
            "party_id": bad.party_id,
            "decision_number": "沪市监崇处〔2026〕7号",
            "decided_on": decided.isoformat(),
            "amount": "20000",
            "severity": "serious",
            "reason": "使用非食品原料加工食品",
        },
    )
    assert r.status_code == 201, r.text
    red, black = _list(env, "red"), _list(env, "black")
    assert [p["party_id"] for p in red["parties"]] == [good.party_id]
    assert red["parties"][0]["grade"] == "A" and red["parties"][0]["reasons"][0]["on"]
    [listed] = black["parties"]
    assert listed["party_id"] == bad.party_id and listed["grade"] == "D"
    texts = [x["reason"] for x in listed["reasons"]]
    assert any("沪市监崇处〔2026〕7号" in t and "使用非食品原料" in t for t in texts)
    assert any(t.startswith("信用等级 D") for t in texts)
    assert listed["since"] == decided.isoformat()

    page = env.client.get("/lists/black")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert 'lang="zh-CN"' in page.text
    for text in ("黑名单", "失信餐厅", "沪市监崇处〔2026〕7号", decided.isoformat()):
        assert text in page.text, text
    assert "守信餐厅" in env.client.get("/lists/red").text
    # 36 months on the penalty is no longer a reason of its own (the D grade still is)
    far = (decided + timedelta(days=365 * 3 + 2)).isoformat()
    [old] = env.client.get("/api/v1/lists/black", params={"as_of": far}).json()["parties"]
    assert [x["reason"][:6] for x in old["reasons"]] == ["信用等级 D"]

    # credit repair approved: off the black list
    assert (
        bad.post(
            "/api/v1/repairs",
            "repair.apply",
            {
                "application_id": "XF-L1",
                "party_id": bad.party_id,
                "penalties": ["沪市监崇处〔2026〕7号"],
                "corrective_action": "已停用相关原料并完成整改",
                "applied_on": TODAY.isoformat(),
            },
        ).status_code
        == 201
    )
    r = env.regulator.post(
        "/api/v1/repairs/XF-L1/decision",
        "repair.decide",
        {
            "application_id": "XF-L1",
            "outcome": "approved",
            "decided_on": TODAY.isoformat(),
            "reason": "整改到位",
        },
    )
    assert r.status_code == 201, r.text
    assert _list(env, "black")["parties"] == []
