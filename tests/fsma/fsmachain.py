"""The FSMA tests' chain: farm -> plant -> shop, captured from tests/data/fsma/chain.json."""

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "record"))

from recordharness import Actor, Env, gtin

CUCUMBER, TOMATO, SALAD = gtin(11), gtin(12), gtin(21)
PARTIES = {
    "farm": (
        "寿光绿野蔬菜合作社",
        "producer",
        "6901230000010",
        "山东省寿光市洛城街道18号",
        "69012300001",
    ),
    "plant": (
        "潍坊鲜达净菜加工厂",
        "processor",
        "6901230000027",
        "山东省潍坊市坊子区6号",
        "69012300002",
    ),
    "shop": ("北京小满餐厅", "restaurant", "6901230000034", "北京市朝阳区三里屯路19号", None),
}
LOTS = (
    ("farm", CUCUMBER, "寿光黄瓜", "散装", "C-1120", 500, "kg"),
    ("farm", TOMATO, "寿光西红柿", None, "T-1120", 300, "kg"),
    ("plant", SALAD, "鲜切蔬菜沙拉", "250g/盒", "S-1121", 1200, "盒"),
)


@dataclass
class Chain:
    env: Env
    actors: dict[str, Actor]


def capture(env: Env, who: Actor, events: list[dict[str, Any]]) -> None:
    document = {
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-11-22T08:00:00Z",
        "epcisBody": {"eventList": events},
    }
    r = env.client.post(
        "/epcis/capture",
        content=json.dumps(document, ensure_ascii=False).encode(),
        headers={**who.headers, "content-type": "application/ld+json"},
    )
    assert r.status_code < 300 and r.json().get("success"), r.text


@pytest.fixture
def chain(env: Env, testdata: Path) -> Chain:
    """The farm → plant → shop chain of ``tests/data/fsma/chain.json``, captured."""
    actors = {}
    for key, (name, kind, gln, address, prefix) in PARTIES.items():
        actors[key] = env.add_party(
            kind,
            custodial=True,
            name=name,
            prefixes=(prefix,) if prefix else (),
            details={"gln": gln, "address": address},
        )
    for who, gtin_, product, spec, lot, qty, unit in LOTS:
        body = {"gtin": gtin_, "name": product, **({"specification": spec} if spec else {})}
        r = actors[who].post("/api/v1/products", "product.register", body)
        assert r.status_code == 201, r.text
        lot_body = {
            "gtin": gtin_,
            "lot_code": lot,
            "production_date": "2026-11-20",
            "quantity": qty,
            "unit": unit,
        }
        assert actors[who].post("/api/v1/lots", "lot.create", lot_body).status_code == 201
    events = json.loads((testdata / "fsma" / "chain.json").read_text("utf-8"))
    for who in ("farm", "plant", "shop"):
        capture(env, actors[who], events[who])
    return Chain(env, actors)
