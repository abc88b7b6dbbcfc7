"""Every role against every write endpoint, table-driven: only the roles the entry type
names may write, a refused write changes nothing, and nobody writes as another party."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "record"))

from recordharness import (  # noqa: F401
    TEST_PREFIX,
    Actor,
    Env,
    credit_code,
    env_fixture,
    gtin,
    lab_gln,
    sample,
)

from foodtrace.trace import keys

ROLES = ("regulator", "inspector", "lab", "producer")
PDF = b"%PDF-1.4 test report\n%%EOF\n"


def _world(env: Env) -> dict[str, Any]:
    """One party of each role (the producer with a product and a lot) to aim writes at."""
    actors = {"regulator": env.regulator}
    number = lab_gln()
    for kind in ("inspector", "lab", "producer"):
        actors[kind] = env.add_party(
            kind,
            prefixes=(TEST_PREFIX,) if kind == "producer" else (),
            details={"gln": number} if kind == "lab" else None,
        )
    producer = actors["producer"]
    assert (
        producer.post(
            "/api/v1/products", "product.register", {"gtin": gtin(1), "name": "米"}
        ).status_code
        == 201
    )
    lot = {
        "gtin": gtin(1),
        "lot_code": "L1",
        "production_date": "2026-03-01",
        "quantity": 10,
        "unit": "袋",
    }
    assert producer.post("/api/v1/lots", "lot.create", lot).status_code == 201
    # An inspector's sampling (监督抽检) lets the lab report on the lot.
    sampler = env.add_party("inspector", custodial=True)
    sample(env, sampler, number, gtin(1), "L1", "2026-03-03T09:00:00+08:00")
    r = env.client.post(
        "/api/v1/blobs",
        content=PDF,
        headers={**actors["lab"].headers, "content-type": "application/pdf"},
    )
    assert r.status_code == 201, r.text  # only labs upload PDFs
    return {"actors": actors, "pdf": r.json()["sha256"], "producer": producer.party_id}


# (endpoint, entry type, roles allowed, body for the acting party)
Case = tuple[str, str, set[str], Callable[[Actor, dict[str, Any], int], dict[str, Any]]]
CASES: list[Case] = [
    (
        "/api/v1/parties",
        "party.register",
        {"regulator"},
        lambda a, w, n: {
            "party_id": f"new-{n}",
            "name": "新店",
            "kind": "restaurant",
            "credit_code": credit_code(),
        },
    ),
    (
        "/api/v1/party-keys",
        "party.key.register",
        {"regulator", "inspector", "lab", "producer"},
        lambda a, w, n: {"party_id": a.party_id, "public_key": keys.public_to_b64(keys.generate())},
    ),
    (
        "/api/v1/licences",
        "licence.issue",
        {"regulator"},
        lambda a, w, n: {
            "number": f"JY2310115{n:07d}",
            "kind": "food_business",
            "holder": w["producer"],
            "scope": "预包装食品销售",
            "issuer": "崇明区市场监督管理局",
            "valid_from": "2026-01-01",
            "valid_until": "2031-01-01",
        },
    ),
    (
        "/api/v1/prefixes",
        "prefix.assign",
        {"regulator"},
        lambda a, w, n: {"party_id": w["producer"], "prefix": f"7{n:05d}"},
    ),
    (
        "/api/v1/products",
        "product.register",
        {"producer"},
        lambda a, w, n: {"gtin": gtin(100 + n), "name": "面粉"},
    ),
    (
        "/api/v1/lots",
        "lot.create",
        {"producer"},
        lambda a, w, n: {
            "gtin": gtin(1),
            "lot_code": f"M{n}",
            "production_date": "2026-03-02",
            "quantity": 5,
            "unit": "袋",
        },
    ),
    (
        "/api/v1/reports",
        "report.issue",
        {"lab"},
        lambda a, w, n: {
            "report_number": f"R-{n}",
            "subject": {"kind": "lot", "gtin": gtin(1), "lot_code": "L1"},
            "tested_on": "2026-03-03",
            "items": [
                {
                    "name": "铅",
                    "value": "0.01",
                    "limit": "≤0.2",
                    "unit": "mg/kg",
                    "standard": "GB 2762-2022",
                    "result": "pass",
                }
            ],
            "conclusion": "pass",
            "pdf_sha256": w["pdf"],
            "pdf_size": len(PDF),
        },
    ),
    (
        "/api/v1/health-certificates",
        "health.certificate.issue",
        {"producer"},
        lambda a, w, n: {
            "certificate_number": f"HC-{n}",
            "holder_commitment": "ab" * 32,
            "issuer": "崇明区疾控中心",
            "valid_from": "2026-01-01",
            "valid_until": "2027-01-01",
        },
    ),
    (
        "/api/v1/inspections",
        "inspection.record",
        {"inspector"},
        lambda a, w, n: {"party_id": w["producer"], "inspected_on": "2026-03-04", "result": "合格"},
    ),
    (
        "/api/v1/grades",
        "grade.set",
        {"regulator"},
        lambda a, w, n: {
            "party_id": w["producer"],
            "grade": "A",
            "effective_on": "2026-04-01",
            "reason": "良好",
        },
    ),
]


def _logged(env: Env, since: int) -> list[tuple[str, str]]:
    """The type and author of each entry logged from index ``since`` on."""
    out = []
    for index in range(since, env.log.size()):
        r = env.client.get(f"/api/v1/records/{index}")
        assert r.status_code == 200, r.text
        entry = r.json()["entry"]
        out.append((entry["type"], entry["author"]))
    return out


def test_every_role_against_every_write_endpoint(env: Env) -> None:
    world = _world(env)
    n = 0
    for path, type_, allowed, body_for in CASES:
        for role in ROLES:
            n += 1
            actor: Actor = world["actors"][role]
            before = env.snapshot()
            r = actor.post(path, type_, body_for(actor, world, n))
            if role in allowed:
                assert r.status_code == 201, (path, role, r.text)
                # a registration also logs the token.event of the party's enrolment code; a
                # write that moves a business's grade also logs its grade.compute (regrade
                # on write), signed by the platform: nothing else
                expected = [type_, "token.event"] if type_ == "party.register" else [type_]
                logged = _logged(env, before["log"])
                assert sorted(t for t, _ in logged if t != "grade.compute") == sorted(expected)
                platform = env.settings.platform_author
                assert all(a == platform for t, a in logged if t == "grade.compute"), logged
            else:
                assert r.status_code == 403, (path, role, r.text)
                assert r.headers["content-type"] == "application/problem+json"
                assert env.snapshot() == before, (path, role)


def test_no_role_writes_for_another_party(env: Env) -> None:
    world = _world(env)
    for n, (path, type_, allowed, body_for) in enumerate(CASES):
        role = sorted(allowed)[0]
        actor: Actor = world["actors"][role]
        victim = world["actors"]["lab" if role != "lab" else "producer"]
        before = env.snapshot()
        r = actor.post(path, type_, body_for(actor, world, 500 + n), author=victim.party_id)
        assert r.status_code == 403, (path, r.text)
        assert "/body/entry/author" in {e["pointer"] for e in r.json()["errors"]}
        assert env.snapshot() == before


@pytest.mark.parametrize(
    "path", sorted({c[0] for c in CASES} | {"/api/v1/blobs", "/api/v1/custodial-keys"})
)
def test_writes_need_a_token(env: Env, path: str) -> None:
    r = env.client.post(path, json={})
    assert r.status_code == 401
    assert r.headers["content-type"] == "application/problem+json"
