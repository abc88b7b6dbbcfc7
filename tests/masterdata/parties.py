"""Parties with a GLN (the record harness registers them without one)."""

from __future__ import annotations

from typing import Any

from recordharness import Actor, Env, credit_code, register_and_enrol
from stdnum import ean

from foodtrace.trace import keys


def gln(n: int) -> str:
    body = f"690123450{n:03d}"
    return body + ean.calc_check_digit(body)


def add_party(env: Env, kind: str, site: str, *, custodial: bool = True) -> Actor:
    """A party of ``kind`` whose registered GLN is ``site``; custodial parties can capture."""
    code = credit_code()
    party_id = f"{kind[:3]}-{code}"
    key = None if custodial else keys.generate()
    if custodial:
        r = env.client.post(
            "/api/v1/custodial-keys", json={"party_id": party_id}, headers=env.regulator.headers
        )
        assert r.status_code == 201, r.text
        public = r.json()["public_key"]
    else:
        assert key is not None
        public = keys.public_to_b64(key)
    body: dict[str, Any] = {
        "party_id": party_id,
        "name": f"测试{kind}",
        "kind": kind,
        "credit_code": code,
        "gln": site,
        "region": "上海市崇明区",
        "public_keys": [public],
    }
    entry = env.regulator.sign("party.register", body)
    token = register_and_enrol(env.client, env.regulator, entry)
    actor = Actor(env.client, party_id, kind, token, key)
    env.parties[party_id] = actor
    return actor
