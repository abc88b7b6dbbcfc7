"""The province ``bench/dataset.py`` writes, as signed entries (pure: no database): its
parties of six kinds with their seed-derived keys, their prefixes and licences, and the
supply chain's events."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from stdnum.cn import uscc
from trace_graph import T0, Generator, Sizes, party_gln, party_id

from foodtrace.trace import entry as entry_mod
from foodtrace.trace import keys
from foodtrace.trace.entry import Entry
from foodtrace.trace.epcis import hashing

REGULATOR = "gov-province"
SHARES = {  # of --parties
    "farm": 0.40,
    "processor": 0.10,
    "distributor": 0.05,
    "retailer": 0.25,
    "restaurant": 0.18,
    "lab": 0.02,
}
KINDS = {
    "farm": "producer",
    "processor": "processor",
    "distributor": "logistics",
    "retailer": "retailer",
    "restaurant": "restaurant",
    "lab": "lab",
}
NAMES = {
    "farm": "农业合作社",
    "processor": "食品加工有限公司",
    "distributor": "农产品批发市场经营部",
    "retailer": "生鲜超市",
    "restaurant": "餐饮店",
    "lab": "食品检验检测中心",
}
REGIONS = ("杭州市西湖区", "宁波市鄞州区", "温州市鹿城区", "嘉兴市南湖区", "绍兴市越城区")


@dataclass(frozen=True)
class Party:
    party_id: str
    kind: str  # the generator's kind (farm, processor, distributor, retailer, restaurant, lab)
    number: int  # the party's serial, unique across kinds (credit code, licence number)
    gln: str


@dataclass(frozen=True)
class Province:
    parties: list[Party]
    sizes: Sizes  # the generator's (restaurants count as retailers there: they receive)
    seed: int

    def key(self, party: str) -> Ed25519PrivateKey:
        """The party's signing key, from the seed: the same dataset every time."""
        return Ed25519PrivateKey.from_private_bytes(
            hashlib.sha256(f"foodtrace-province/{self.seed}/{party}".encode()).digest()
        )


def province(parties: int, events: int, seed: int) -> Province:
    """The parties of a province of about ``parties`` parties, sized for ``events``."""
    count = {kind: max(3, round(parties * share)) for kind, share in SHARES.items()}
    base = Sizes.for_events(events)
    count["farm"] = max(count["farm"], base.farms)
    count["processor"] = max(count["processor"], base.processors)
    count["distributor"] = max(count["distributor"], base.distributors)
    count["retailer"] = max(count["retailer"], base.retailers)  # shops sampled 5-50 at a time
    out: list[Party] = []
    for kind, n in count.items():
        for i in range(n):
            if kind == "restaurant":  # the generator's retailer numbers after the shops
                pid, gln = (
                    party_id("retailer", count["retailer"] + i),
                    party_gln("retailer", count["retailer"] + i),
                )
            elif kind == "lab":
                pid, gln = f"lab-{i:05d}", party_gln("retailer", 90_000_000 + i)
            else:
                pid, gln = party_id(kind, i), party_gln(kind, i)
            out.append(Party(pid, kind, len(out) + 1, gln))
    sizes = Sizes(
        count["farm"],
        count["processor"],
        count["distributor"],
        count["retailer"] + count["restaurant"],
    )
    return Province(out, sizes, seed)


def credit_code(n: int) -> str:
    base = f"91330{n:07d}MA2C4"[:17]
    return base + uscc.calc_check_digit(base)


def _licence_number(prefix: str, n: int) -> str:
    return f"{prefix}{n:014d}"


def prefix_of(kind: str, i: int) -> str:
    """The GS1 company prefix assigned to producer/processor ``i`` (its GTINs lie under it:
    ``trace_graph`` names them ``0`` + ``690``/``691`` + the 9-digit party number)."""
    return f"{'690' if kind == 'farm' else '691'}{i:09d}"


def _iso(t: Any) -> str:
    return str(t.isoformat().replace("+00:00", "Z"))


def master_entries(p: Province, regulator: Ed25519PrivateKey) -> Iterator[Entry]:
    """Parties, their prefixes and licences, signed by the regulator before any event."""
    at = _iso(T0 - timedelta(days=30))
    rng = random.Random(p.seed)
    for party in p.parties:
        body: dict[str, Any] = {
            "party_id": party.party_id,
            "name": f"{rng.choice(REGIONS)[:3]}{party.number}号{NAMES[party.kind]}",
            "kind": KINDS[party.kind],
            "credit_code": credit_code(party.number),
            "gln": party.gln,
            "region": rng.choice(REGIONS),
            "public_keys": [keys.public_to_b64(p.key(party.party_id).public_key())],
        }
        yield _sign(regulator, "party.register", REGULATOR, body, at)
    for party in p.parties:
        if party.kind in ("farm", "processor"):
            i = int(party.party_id.rsplit("-", 1)[1])
            body = {"party_id": party.party_id, "prefix": prefix_of(party.kind, i)}
            yield _sign(regulator, "prefix.assign", REGULATOR, body, at)
    for party in p.parties:
        lic = {"processor": ("SC", "food_production", "肉制品、速冻食品生产")}.get(
            party.kind,
            ("JY", "food_business", "食品销售、热食类食品制售")
            if party.kind in ("retailer", "restaurant")
            else None,
        )
        if lic is None:
            continue
        prefix, kind, scope = lic
        body = {
            "number": _licence_number(prefix, 10_000_000_000_000 + party.number),
            "kind": kind,
            "holder": party.party_id,
            "scope": scope,
            "issuer": "浙江省市场监督管理局",
            "valid_from": "2025-01-01",
            "valid_until": "2030-01-01",
        }
        yield _sign(regulator, "licence.issue", REGULATOR, body, at)


def event_entries(p: Province, events: int, lots: int) -> Iterator[Entry]:
    """The supply chain's events as signed ``epcis.event`` entries, as capture stores them."""
    gen = Generator(events, p.seed)
    gen.sizes = p.sizes
    signers: dict[str, Ed25519PrivateKey] = {}
    while True:
        for author, event in gen:
            hash_id = hashing.event_hash_id(event)
            stored = {**event, "eventID": hash_id, "recordTime": event["eventTime"]}
            key = signers.get(author) or signers.setdefault(author, p.key(author))
            body = {"event": stored, "hash_id": hash_id}
            yield _sign(key, "epcis.event", author, body, event["eventTime"])
        if gen.lots >= lots:
            return
        gen.target += 1_000  # more events until there are enough lots


def _sign(key: Ed25519PrivateKey, type: str, author: str, body: Any, at: str) -> Entry:
    return entry_mod.sign(key, type=type, author=author, body=body, issued_at=at)
