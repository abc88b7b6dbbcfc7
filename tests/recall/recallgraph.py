"""The recall tests' graph with known answers, and a regulator with a server-held key."""

import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[0] / "record"))
sys.path.insert(0, str(HERE.parents[0] / "provenance"))

from recordharness import Env, gtin  # noqa: E402
from supplychain import Member, captured, member, product_lot, qty, receive, ship, transform  # noqa: E402

A_GTIN, B_GTIN, C_GTIN = gtin(601), gtin(602), gtin(603)


@dataclass
class Graph:
    """farm1's lot A and farm2's lot B go into the plant's lot C (fan-in); C is re-packed
    into R and R back into C (a cycle); C goes to shop1 and shop2, A also straight to shop3
    (fan-out)."""

    env: Env
    farm1: Member
    farm2: Member
    plant: Member
    shop1: Member
    shop2: Member
    shop3: Member


def regulator_holds_a_key(env: Env) -> None:
    """Give the regulator a server-held key (registered by its own key), as the demo does,
    so it can open recalls with a plain body."""
    reg = env.regulator
    r = env.client.post(
        "/api/v1/custodial-keys", json={"party_id": reg.party_id}, headers=reg.headers
    )
    assert r.status_code == 201, r.text
    body = {"party_id": reg.party_id, "public_key": r.json()["public_key"]}
    assert reg.post("/api/v1/party-keys", "party.key.register", body).status_code == 201


@pytest.fixture
def graph(env: Env) -> Graph:
    farm1, farm2 = member(env, "producer"), member(env, "producer")
    plant = member(env, "processor")
    shop1, shop2, shop3 = (member(env, "retailer") for _ in range(3))
    product_lot(farm1, 601, "A", 1000)
    product_lot(farm2, 602, "B", 400)
    a, b = (lambda n: qty(A_GTIN, "A", n)), (lambda n: qty(B_GTIN, "B", n))
    c, r = (lambda n: qty(C_GTIN, "C", n)), (lambda n: qty(C_GTIN, "R", n))
    captured(
        env,
        farm1,
        [
            ship("2026-11-21T06:00:00+08:00", farm1, plant, [a(600)]),
            ship("2026-11-21T06:10:00+08:00", farm1, shop3, [a(300)]),
        ],
    )
    captured(env, farm2, [ship("2026-11-21T06:20:00+08:00", farm2, plant, [b(400)])])
    captured(env, shop3, [receive("2026-11-21T09:00:00+08:00", farm1, shop3, [a(300)])])
    captured(
        env,
        plant,
        [
            receive("2026-11-21T09:00:00+08:00", farm1, plant, [a(600)]),
            receive("2026-11-21T09:05:00+08:00", farm2, plant, [b(400)]),
            transform("2026-11-21T10:00:00+08:00", [a(600), b(400)], [c(1000)]),
            transform("2026-11-21T11:00:00+08:00", [c(1000)], [r(1000)]),
            transform("2026-11-21T12:00:00+08:00", [r(1000)], [c(1000)]),
            ship("2026-11-21T14:00:00+08:00", plant, shop1, [c(700)]),
            ship("2026-11-21T14:05:00+08:00", plant, shop2, [c(300)]),
        ],
    )
    captured(env, shop1, [receive("2026-11-21T18:00:00+08:00", plant, shop1, [c(700)])])
    captured(env, shop2, [receive("2026-11-21T18:05:00+08:00", plant, shop2, [c(300)])])
    return Graph(env, farm1, farm2, plant, shop1, shop2, shop3)
