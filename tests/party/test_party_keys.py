"""Parties, key rotation and revocation, licences and their status."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from recordharness import TEST_PREFIX, Env, assert_problem, pointers

from foodtrace.party.status import LicenceStatus, licence_status
from foodtrace.trace import bundle, keys


def test_party_round_trip_with_proof(env: Env) -> None:
    producer = env.add_party("producer")
    r = env.client.get(f"/api/v1/parties/{producer.party_id}")
    assert r.status_code == 200
    got = r.json()
    assert got["record"]["kind"] == "producer" and len(got["record"]["keys"]) == 1
    proof = got["proof"]
    assert proof["entry"]["body"]["party_id"] == producer.party_id
    bundle.from_text(proof["bundle"]).verify(
        bytes.fromhex(proof["leaf_hash"]), [proof["verifier_key"]]
    )
    assert_problem(env.client.get("/api/v1/parties/nobody"), 404)


def test_bad_party_lists_every_problem_and_writes_nothing(env: Env) -> None:
    before = env.snapshot()
    body = {
        "party_id": "bad id",
        "name": "",
        "kind": "wizard",
        "credit_code": "91310115MA1K4FXX2X",
        "gln": "123",
    }
    r = env.regulator.post("/api/v1/parties", "party.register", body)
    assert_problem(r, 422)
    base = "/body/entry/body/"
    assert {base + f for f in ("party_id", "name", "kind", "credit_code", "gln")} <= pointers(r)
    assert env.snapshot() == before


def test_rotation_then_revocation(env: Env) -> None:
    producer = env.add_party("producer", prefixes=(TEST_PREFIX,))
    old = producer.key
    new = keys.generate()
    r = producer.post(
        "/api/v1/party-keys",
        "party.key.register",
        {"party_id": producer.party_id, "public_key": keys.public_to_b64(new)},
    )
    assert r.status_code == 201, r.text
    r = producer.post(
        "/api/v1/party-keys/revocations",
        "party.key.revoke",
        {"party_id": producer.party_id, "key_id": keys.key_id(old), "reason": "rotated"},
    )
    assert r.status_code == 201, r.text
    before = env.snapshot()
    # the revoked key can no longer sign, not even backdated
    for issued_at in (
        None,
        (datetime.now(UTC) - timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ"),
    ):
        kw = {"issued_at": issued_at} if issued_at else {}
        r = producer.post(
            "/api/v1/products", "product.register", {"gtin": "06901234567892", "name": "米"}, **kw
        )
        assert_problem(r, 422)
        assert "/body/entry/sig" in pointers(r)
    assert env.snapshot() == before
    producer.key = new
    r = producer.post(
        "/api/v1/products", "product.register", {"gtin": "06901234567892", "name": "米"}
    )
    assert r.status_code == 201, r.text


def test_expired_key_cannot_sign(env: Env) -> None:
    producer = env.add_party("producer")
    short = keys.generate()
    until = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
    r = env.regulator.post(
        "/api/v1/party-keys",
        "party.key.register",
        {
            "party_id": producer.party_id,
            "public_key": keys.public_to_b64(short),
            "valid_until": until,
        },
    )
    assert r.status_code == 201, r.text
    producer.key = short
    r = producer.post(
        "/api/v1/products", "product.register", {"gtin": "06901234567892", "name": "米"}
    )
    assert_problem(r, 422)
    assert any("expired" in e["detail"] for e in r.json()["errors"])


def test_only_a_regulator_manages_another_partys_keys(env: Env) -> None:
    a = env.add_party("producer")
    b = env.add_party("producer")
    r = a.post(
        "/api/v1/party-keys",
        "party.key.register",
        {"party_id": b.party_id, "public_key": keys.public_to_b64(keys.generate())},
    )
    assert_problem(r, 422)
    assert pointers(r) == {"/body/entry/body/party_id"}


def test_licences_and_status(env: Env) -> None:
    producer = env.add_party("producer")
    today = datetime.now(UTC).date()
    lic = {
        "number": "sc10131011500123",
        "kind": "food_production",
        "holder": producer.party_id,
        "scope": "粮食加工品",
        "issuer": "上海市市场监督管理局",
        "valid_from": str(today - timedelta(days=300)),
        "valid_until": str(today + timedelta(days=10)),
    }
    r = env.regulator.post("/api/v1/licences", "licence.issue", lic)
    assert r.status_code == 201, r.text
    assert r.json()["record"]["status"] == "expiring"
    assert r.json()["record"]["number"] == "SC10131011500123"
    r = env.regulator.post(
        "/api/v1/licences/revocations",
        "licence.revoke",
        {"number": "SC10131011500123", "reason": "吊销"},
    )
    assert r.status_code == 201, r.text
    got = env.client.get(f"/api/v1/parties/{producer.party_id}/licences").json()
    assert [x["record"]["status"] for x in got] == ["revoked"]
    bad = {**lic, "number": "JY1234", "valid_until": "2000-01-01"}
    r = env.regulator.post("/api/v1/licences", "licence.issue", bad)
    assert_problem(r, 422)
    assert "/body/entry/body" in pointers(r)


def test_licence_status_is_a_pure_function() -> None:
    d = date(2026, 6, 1)
    f, u = date(2026, 1, 1), date(2026, 12, 31)
    assert licence_status(f, u, None, d) is LicenceStatus.VALID
    assert licence_status(f, u, None, date(2026, 12, 15)) is LicenceStatus.EXPIRING
    assert licence_status(f, u, None, date(2027, 1, 1)) is LicenceStatus.EXPIRED
    assert licence_status(f, u, date(2026, 5, 1), d) is LicenceStatus.REVOKED
    assert licence_status(f, u, date(2026, 7, 1), d) is LicenceStatus.VALID
    assert licence_status(f, u, None, date(2025, 12, 31)) is LicenceStatus.NOT_YET_VALID
    assert licence_status(f, u, None, u) is LicenceStatus.EXPIRING


def test_custodial_party_writes_without_a_key_file(env: Env) -> None:
    shop = env.add_party("producer", custodial=True, prefixes=(TEST_PREFIX,))
    r = shop.post("/api/v1/products", "product.register", {"gtin": "6901234567892", "name": "酱油"})
    assert r.status_code == 201, r.text
    entry = r.json()["proof"]["entry"]
    assert entry["author"] == shop.party_id and entry["body"]["gtin"] == "06901234567892"
    master = env.settings.data_dir / "master.key"
    assert master.stat().st_mode & 0o777 == 0o600
