"""Every role against every write of the grading and draw areas: only the roles named may
write, each refusal is a 403 naming what was refused, and a refusal changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from recordharness import Actor, Env, assert_problem

from foodtrace.grading.flows import local_day

TODAY = local_day().isoformat()

# (path, entry type, roles allowed, body for the acting party and the target shop)
Case = tuple[str, str, set[str], Callable[[Actor, str, int], dict[str, Any]]]
CASES: list[Case] = [
    (
        "/api/v1/penalties",
        "penalty.record",
        {"regulator"},
        lambda a, shop, n: {
            "party_id": shop,
            "decision_number": f"P-{n}",
            "decided_on": TODAY,
            "amount": "100",
            "severity": "general",
            "reason": "标签不规范",
        },
    ),
    (
        "/api/v1/repairs",
        "repair.apply",
        {"producer"},
        lambda a, shop, n: {
            "application_id": f"XF-{n}",
            "party_id": a.party_id,
            "penalties": ["P-0"],
            "corrective_action": "已整改",
            "applied_on": TODAY,
        },
    ),
    (
        "/api/v1/repairs/XF-0/decision",
        "repair.decide",
        {"regulator"},
        lambda a, shop, n: {
            "application_id": "XF-0",
            "outcome": "refused",
            "decided_on": TODAY,
            "reason": "材料不全",
        },
    ),
]


def test_every_role_against_every_grading_write(env: Env) -> None:
    shop = env.add_party("restaurant")
    actors = {
        "regulator": env.regulator,
        "inspector": env.add_party("inspector"),
        "lab": env.add_party("lab"),
        "producer": shop,
    }
    seed = CASES[0][3](env.regulator, shop.party_id, 0)
    assert env.regulator.post("/api/v1/penalties", "penalty.record", seed).status_code == 201
    n = 0
    for path, type_, allowed, body_for in CASES:
        for role, actor in actors.items():
            n += 1
            before = env.snapshot()
            r = actor.post(path, type_, body_for(actor, shop.party_id, n))
            if role in allowed:
                assert r.status_code == 201, (path, role, r.text)
                if type_ == "repair.apply":  # the application the decision case refers to
                    body = {**body_for(actor, shop.party_id, n), "application_id": "XF-0"}
                    assert actor.post(path, type_, body).status_code == 201
                continue
            problem = assert_problem(r, 403)
            said = problem["detail"] + " ".join(e["detail"] for e in problem.get("errors", []))
            assert role in said and type_ in said, (path, role, said)
            assert env.snapshot() == before, (path, role)
    for path in ("/api/v1/grades/recompute", "/api/v1/draws/X/result"):
        for role in ("inspector", "lab", "producer"):
            problem = assert_problem(env.client.post(path, headers=actors[role].headers), 403)
            assert "regulator" in problem["detail"], problem
    r = env.client.post(
        "/api/v1/draws/proposals",
        json={"draw_id": "D1", "period": "2026-12", "merchants_count": 1},
        headers=actors["inspector"].headers,
    )
    assert_problem(r, 403)
