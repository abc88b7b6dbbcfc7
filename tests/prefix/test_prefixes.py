"""GS1 company prefixes: only a regulator assigns them, they never overlap, and a product is
registered only under a prefix of its producer; a refusal says why and changes nothing."""

from __future__ import annotations

import pytest
from recordharness import Env, assert_problem, gtin, pointers

from foodtrace.prefix import rules


def test_covering_reads_the_prefix_after_the_indicator_digit() -> None:
    assert rules.key_digits("06901234567892") == "690123456789"
    assert rules.covering("06901234567892", ["690123", "69012345", "7001"]) == "69012345"
    assert rules.covering("06901234567892", ["690124", "6901234568"]) is None
    # a GTIN-12 (U.P.C.) stored as GTIN-14: its prefix carries GS1's leading 0
    assert rules.covering("00012345678905", ["0012345"]) == "0012345"
    with pytest.raises(ValueError, match="14-digit"):
        rules.key_digits("6901234567892")


def test_overlapping_finds_nesting_both_ways() -> None:
    assigned = ["690123", "6901240", "70"]
    assert rules.overlapping("6901234", assigned) == ["690123"]
    assert rules.overlapping("69012", assigned) == ["690123", "6901240"]
    assert rules.overlapping("6901250", assigned) == []


def _product(n: int) -> dict[str, str]:
    return {"gtin": gtin(n), "name": f"产品{n}"}


def test_product_only_under_its_producers_prefix(env: Env) -> None:
    farm = env.add_party("producer")
    before = env.snapshot()
    r = farm.post("/api/v1/products", "product.register", _product(1))
    assert_problem(r, 422)
    assert pointers(r) == {"/body/entry/body/gtin"}
    detail = r.json()["errors"][0]["detail"]
    assert "no GS1 company prefix" in detail and f"{farm.party_id} holds no prefix" in detail
    assert env.snapshot() == before

    env.assign_prefix(farm.party_id, "6901230")
    r = farm.post("/api/v1/products", "product.register", _product(1))
    assert r.status_code == 201, r.text
    listed = env.client.get("/api/v1/prefixes", params={"party_id": farm.party_id}).json()
    assert [p["prefix"] for p in listed] == ["6901230"]
    one = env.client.get("/api/v1/prefixes/6901230").json()
    assert one["record"]["assigned_by"] == env.regulator.party_id
    assert one["proof"]["entry"]["type"] == "prefix.assign"


def test_gtin_under_another_partys_prefix_is_forbidden(env: Env) -> None:
    a = env.add_party("producer", prefixes=("6901230",))
    b = env.add_party("producer", prefixes=("6901231",))
    before = env.snapshot()
    r = b.post("/api/v1/products", "product.register", _product(2))  # 0690123000002x
    assert_problem(r, 403)
    detail = r.json()["errors"][0]["detail"]
    assert f"prefix 6901230 of {a.party_id}" in detail and "holds 6901231" in detail
    assert env.snapshot() == before


def test_prefix_assignment_is_refused_with_reasons(env: Env) -> None:
    producer = env.add_party("producer", prefixes=("690123",))
    other = env.add_party("producer")
    before = env.snapshot()
    for prefix in ("6901234", "69012"):  # nested in, or containing, an assigned prefix
        r = env.regulator.post(
            "/api/v1/prefixes", "prefix.assign", {"party_id": other.party_id, "prefix": prefix}
        )
        assert_problem(r, 409)
        assert f"690123 ({producer.party_id})" in r.json()["errors"][0]["detail"]
    r = env.regulator.post(
        "/api/v1/prefixes", "prefix.assign", {"party_id": "nobody", "prefix": "7001"}
    )
    assert_problem(r, 422)
    assert pointers(r) == {"/body/entry/body/party_id"}
    r = env.regulator.post(
        "/api/v1/prefixes", "prefix.assign", {"party_id": other.party_id, "prefix": "69x"}
    )
    assert_problem(r, 422)
    assert pointers(r) == {"/body/entry/body/prefix"}
    r = other.post(
        "/api/v1/prefixes", "prefix.assign", {"party_id": other.party_id, "prefix": "7001"}
    )
    assert_problem(r, 403)
    assert env.snapshot() == before
    assert env.client.get("/api/v1/prefixes/7001").status_code == 404
