"""Products and lots round-trip with proofs; bad input lists every problem, writes nothing."""

from __future__ import annotations

from recordharness import TEST_PREFIX, Env, assert_problem, gtin, pointers


def test_product_and_lot_round_trip(env: Env) -> None:
    producer = env.add_party("producer", prefixes=(TEST_PREFIX,))
    r = producer.post("/api/v1/products", "product.register", {"gtin": gtin(7), "name": "崇明大米"})
    assert r.status_code == 201, r.text
    lot = {
        "gtin": gtin(7),
        "lot_code": "2026-03A",
        "production_date": "2026-03-01",
        "quantity": 1200,
        "unit": "袋",
    }
    r = producer.post("/api/v1/lots", "lot.create", lot)
    assert r.status_code == 201, r.text
    created = r.json()
    got = env.client.get(f"/api/v1/lots/{gtin(7)}/2026-03A").json()
    assert got["record"] == created["record"]
    assert got["entry_index"] == created["entry_index"] == got["proof"]["index"]
    assert (
        env.client.get(f"/api/v1/products/{gtin(7)}").json()["record"]["producer"]
        == producer.party_id
    )
    assert len(env.client.get(f"/api/v1/products/{gtin(7)}/lots").json()) == 1


def test_bad_lot_lists_every_problem(env: Env) -> None:
    producer = env.add_party("producer")
    before = env.snapshot()
    bad = {
        "gtin": "06901234567890",
        "lot_code": "x" * 21,
        "production_date": "yesterday",
        "quantity": 0,
        "colour": "red",
    }
    r = producer.post("/api/v1/lots", "lot.create", bad)
    assert_problem(r, 422)
    base = "/body/entry/body/"
    assert {
        base + f for f in ("gtin", "lot_code", "production_date", "quantity", "unit", "colour")
    } <= pointers(r)
    assert env.snapshot() == before


def test_lot_of_another_producers_product_is_refused(env: Env) -> None:
    a = env.add_party("producer", prefixes=(TEST_PREFIX,))
    b = env.add_party("producer")
    assert (
        a.post(
            "/api/v1/products", "product.register", {"gtin": gtin(8), "name": "酱油"}
        ).status_code
        == 201
    )
    before = env.snapshot()
    lot = {
        "gtin": gtin(8),
        "lot_code": "B1",
        "production_date": "2026-03-01",
        "quantity": 1,
        "unit": "瓶",
    }
    r = b.post("/api/v1/lots", "lot.create", lot)
    assert_problem(r, 422)
    assert pointers(r) == {"/body/entry/body/gtin"}
    assert env.snapshot() == before
    r = a.post("/api/v1/products", "product.register", {"gtin": gtin(8), "name": "again"})
    assert_problem(r, 409)
