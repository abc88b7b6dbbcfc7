"""A supply chain for provenance tests: parties with GLNs and server-held keys, products,
lots, and EPCIS documents captured as each party."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx
from recordharness import TEST_PREFIX, Actor, Env, credit_code, gtin, register_and_enrol
from stdnum import ean

DL = "https://id.gs1.org"
CONTEXT = ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"]


def gln(n: int) -> str:
    body = f"690123{n:06d}"
    return body + ean.calc_check_digit(body)


@dataclass
class Member:
    """A party of the chain: its actor (token) and GLN."""

    actor: Actor
    gln: str
    env: Env

    @property
    def party_id(self) -> str:
        return self.actor.party_id

    @property
    def pgln(self) -> str:
        return f"{DL}/417/{self.gln}"


_glns = iter(range(1, 10**6))


def member(env: Env, kind: str) -> Member:
    """Register a party with a GLN and a server-held key (so it can capture EPCIS)."""
    code = credit_code()
    party_id = f"{kind[:3]}-{code}"
    r = env.client.post(
        "/api/v1/custodial-keys", json={"party_id": party_id}, headers=env.regulator.headers
    )
    assert r.status_code == 201, r.text
    number = gln(next(_glns))
    body = {
        "party_id": party_id,
        "name": f"测试{kind}{number[-4:]}",
        "kind": kind,
        "credit_code": code,
        "gln": number,
        "region": "山东省潍坊市",
        "public_keys": [r.json()["public_key"]],
    }
    entry = env.regulator.sign("party.register", body)
    token = register_and_enrol(env.client, env.regulator, entry)
    actor = Actor(env.client, party_id, kind, token)
    return Member(actor, number, env)


def product_lot(who: Member, n: int, lot_code: str, quantity: float = 1000) -> tuple[str, str]:
    """Register product ``gtin(n)`` (once) and create a lot of it; returns (gtin, lot)."""
    code = gtin(n)
    # The GS1 company prefix of exactly this GTIN (12 digits), assigned once to its producer.
    prefix = f"{TEST_PREFIX}{n:06d}"
    assigned = who.env.client.get(f"/api/v1/prefixes/{prefix}")
    if assigned.status_code == 404:
        who.env.assign_prefix(who.party_id, prefix)
    r = who.actor.post("/api/v1/products", "product.register", {"gtin": code, "name": f"品{n}"})
    assert r.status_code in (201, 409), r.text
    lot = {
        "gtin": code,
        "lot_code": lot_code,
        "production_date": "2026-11-20",
        "quantity": quantity,
        "unit": "kg",
    }
    r = who.actor.post("/api/v1/lots", "lot.create", lot)
    assert r.status_code == 201, r.text
    return code, lot_code


def lot_class(code: str, lot_code: str) -> str:
    return f"{DL}/01/{code}/10/{lot_code}"


def qty(code: str, lot_code: str, quantity: float | None = None) -> dict[str, Any]:
    q: dict[str, Any] = {"epcClass": lot_class(code, lot_code)}
    if quantity is not None:
        q |= {"quantity": quantity, "uom": "KGM"}
    return q


def event(kind: str, when: str, **fields: Any) -> dict[str, Any]:
    return {"type": kind, "eventTime": when, "eventTimeZoneOffset": "+08:00", **fields}


def ship(
    when: str,
    frm: Member,
    to: Member,
    quantities: list[dict[str, Any]],
    carrier: Member | None = None,
    **fields: Any,
) -> dict[str, Any]:
    destinations = [{"type": "owning_party", "destination": to.pgln}]
    if carrier is not None:
        destinations.append({"type": "possessing_party", "destination": carrier.pgln})
    return event(
        "ObjectEvent",
        when,
        action="OBSERVE",
        bizStep="shipping",
        disposition="in_transit",
        epcList=[],
        quantityList=quantities,
        sourceList=[{"type": "owning_party", "source": frm.pgln}],
        destinationList=destinations,
        **fields,
    )


def receive(
    when: str, frm: Member, to: Member, quantities: list[dict[str, Any]], **fields: Any
) -> dict[str, Any]:
    return event(
        "ObjectEvent",
        when,
        action="OBSERVE",
        bizStep="receiving",
        disposition="in_progress",
        epcList=[],
        quantityList=quantities,
        sourceList=[{"type": "owning_party", "source": frm.pgln}],
        destinationList=[{"type": "owning_party", "destination": to.pgln}],
        **fields,
    )


def transform(
    when: str, inputs: list[dict[str, Any]], outputs: list[dict[str, Any]], **fields: Any
) -> dict[str, Any]:
    return event(
        "TransformationEvent",
        when,
        bizStep="commissioning",
        disposition="active",
        inputQuantityList=inputs,
        outputQuantityList=outputs,
        **fields,
    )


def capture(env: Env, who: Member | Actor, events: list[dict[str, Any]]) -> httpx.Response:
    actor = who.actor if isinstance(who, Member) else who
    document = {
        "@context": CONTEXT,
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-11-30T00:00:00Z",
        "epcisBody": {"eventList": events},
    }
    return env.client.post(
        "/epcis/capture",
        content=json.dumps(document, ensure_ascii=False).encode(),
        headers={**actor.headers, "content-type": "application/ld+json"},
    )


def captured(env: Env, who: Member | Actor, events: list[dict[str, Any]]) -> list[int]:
    """Capture and insist it succeeded; the entry indices."""
    r = capture(env, who, events)
    assert r.status_code == 202, r.text
    job = r.json()
    assert job["success"], job
    indices: list[int] = job["entryIndices"]
    return indices
