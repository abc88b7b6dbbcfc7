"""The write path: every problem of every entry reported at once, nothing written when any
entry is refused, and every record readable with a proof that verifies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from recordharness import TEST_PREFIX, Env, assert_problem, pointers

from foodtrace.api.problems import Problem
from foodtrace.auth import Principal, Role
from foodtrace.record import service
from foodtrace.store.db import session_factory
from foodtrace.trace import bundle, keys
from foodtrace.trace import entry as entry_mod
from foodtrace.trace.merkle import leaf_hash


def _principal(env: Env, party_id: str, role: Role) -> Principal:
    return Principal(party_id=party_id, role=role, token_id=0)


def _product(n: int) -> dict[str, Any]:
    from recordharness import gtin

    return {"gtin": gtin(n), "name": f"产品{n}"}


def test_submit_group_is_atomic_and_reports_every_problem(env: Env) -> None:
    producer = env.add_party("producer", prefixes=(TEST_PREFIX,))
    assert producer.key is not None
    other = keys.generate()
    good = entry_mod.sign(
        producer.key, type="product.register", author=producer.party_id, body=_product(1)
    )
    stale = entry_mod.sign(
        producer.key,
        type="product.register",
        author=producer.party_id,
        body=_product(2),
        issued_at=(datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    unknown_type = entry_mod.sign(producer.key, type="no.such", author=producer.party_id, body={})
    bad_body = entry_mod.sign(
        producer.key, type="product.register", author=producer.party_id, body={"gtin": "123"}
    )
    wrong_key = entry_mod.sign(
        other, type="product.register", author=producer.party_id, body=_product(3)
    )
    before = env.snapshot()
    with pytest.raises(Problem) as caught:
        service.submit(
            env.log,
            session_factory(env.log.engine),
            _principal(env, producer.party_id, Role.PRODUCER),
            [good, stale, unknown_type, bad_body, wrong_key],
        )
    problem = caught.value
    assert problem.status == 422
    got = {e.pointer for e in problem.errors}
    assert {
        "/entries/1/issued_at",
        "/entries/2/type",
        "/entries/3/body/gtin",
        "/entries/3/body/name",
        "/entries/4/sig",
    } <= got
    assert not any(p.startswith("/entries/0/") for p in got)
    assert env.snapshot() == before


def test_forbidden_entries_are_403_and_list_all_problems(env: Env) -> None:
    producer = env.add_party("producer")
    lab = env.add_party("lab")
    assert producer.key is not None and lab.key is not None
    for_other = entry_mod.sign(
        producer.key, type="product.register", author=lab.party_id, body=_product(4)
    )
    wrong_role = entry_mod.sign(
        producer.key, type="licence.issue", author=producer.party_id, body={"number": "x"}
    )
    with pytest.raises(Problem) as caught:
        service.submit(
            env.log,
            session_factory(env.log.engine),
            _principal(env, producer.party_id, Role.PRODUCER),
            [for_other, wrong_role],
        )
    assert caught.value.status == 403
    got = {e.pointer for e in caught.value.errors}
    assert {"/entries/0/author", "/entries/1/type", "/entries/1/body/kind"} <= got


def test_accepted_group_lands_in_order_with_verifiable_proofs(env: Env) -> None:
    producer = env.add_party("producer", prefixes=(TEST_PREFIX,))
    assert producer.key is not None
    entries = [
        entry_mod.sign(
            producer.key, type="product.register", author=producer.party_id, body=_product(n)
        )
        for n in (10, 11, 12)
    ]
    refs = service.submit(
        env.log,
        session_factory(env.log.engine),
        _principal(env, producer.party_id, Role.PRODUCER),
        entries,
    )
    assert [r.index for r in refs] == list(range(refs[0].index, refs[0].index + 3))
    for ref in refs:
        proof = service.record_proof(env.log, ref.index)
        data = entry_mod.dumps(entry_mod.validate(proof["entry"])).encode()
        assert leaf_hash(data).hex() == proof["leaf_hash"] == ref.leaf_hash.hex()
        bundle.from_text(proof["bundle"]).verify(ref.leaf_hash, [proof["verifier_key"]])


def test_projection_conflict_rejects_the_whole_group(env: Env) -> None:
    producer = env.add_party("producer", prefixes=(TEST_PREFIX,))
    assert producer.key is not None
    first = entry_mod.sign(
        producer.key, type="product.register", author=producer.party_id, body=_product(20)
    )
    again = entry_mod.sign(
        producer.key, type="product.register", author=producer.party_id, body=_product(20)
    )
    before = env.snapshot()
    with pytest.raises(Problem) as caught:
        service.submit(
            env.log,
            session_factory(env.log.engine),
            _principal(env, producer.party_id, Role.PRODUCER),
            [first, again],
        )
    assert caught.value.status == 409
    assert [e.pointer for e in caught.value.errors] == ["/entries/1/body/gtin"]
    assert env.snapshot() == before


def test_record_endpoint_serves_entry_and_proof(env: Env) -> None:
    r = env.client.get("/api/v1/records/0")
    assert r.status_code == 200
    proof = r.json()
    assert proof["entry"]["type"] == "party.register" and proof["index"] == 0
    bundle.from_text(proof["bundle"]).verify(
        bytes.fromhex(proof["leaf_hash"]), [proof["verifier_key"]]
    )
    assert_problem(env.client.get("/api/v1/records/999"), 404)


def test_signed_entry_with_malformed_envelope_names_each_field(env: Env) -> None:
    producer = env.add_party("producer", prefixes=(TEST_PREFIX,))
    entry = producer.sign("product.register", _product(30))
    del entry["sig"]
    entry["v"] = 2
    r = env.client.post("/api/v1/products", json={"entry": entry, "x": 1}, headers=producer.headers)
    assert_problem(r, 422)
    assert {"/body/entry/sig", "/body/entry/v", "/body/x"} <= pointers(r)
