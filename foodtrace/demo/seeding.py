"""Seeding the demo chain through the real HTTP API (an in-process client speaking HTTP to
the app), with server-held keys."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from foodtrace.config import Settings
from foodtrace.demo.cast import (
    BY_KEY,
    COMPANY_PREFIXES,
    CUCUMBER,
    PARTIES,
    REGULATOR,
    REGULATOR_KEY_FILE,
    SALAD,
    TOMATO,
    DemoParty,
    lots,
    recalled_lot,
)
from foodtrace.demo.events import demo_events, demo_master_data, report_pdf
from foodtrace.trace import entry as entry_mod
from foodtrace.trace import keys

# --- talking to the API ----------------------------------------------------------------------


class DemoError(RuntimeError):
    """A seeding request was refused; names the request and the API's answer."""


@dataclass
class Api:
    """A thin HTTP client around any ``httpx``-like client (``TestClient`` included)."""

    client: Any
    tokens: dict[str, str] = field(default_factory=dict)

    def post(self, who: str, path: str, **kw: Any) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self.tokens[who]}", **kw.pop("headers", {})}
        r = self.client.post(path, headers=headers, **kw)
        if r.status_code >= 400:
            raise DemoError(f"POST {path} as {who}: {r.status_code} {r.text}")
        result: dict[str, Any] = r.json()
        return result

    def enrol(self, who: str, created: dict[str, Any]) -> None:
        """Trade a registration's enrolment code for the party's own token, as a party
        would on first use, and act as ``who`` with it."""
        body = {"party_id": created["party"]["party_id"], "code": created["enrolment_code"]}
        r = self.client.post("/api/v1/enrolments", json={**body, "name": "demo"})
        if r.status_code >= 400:
            raise DemoError(f"POST /api/v1/enrolments for {who}: {r.status_code} {r.text}")
        self.tokens[who] = r.json()["token"]

    def capture(
        self, who: str, events: list[dict[str, Any]], master_data: Sequence[dict[str, Any]] = ()
    ) -> dict[str, Any]:
        document: dict[str, Any] = {
            "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
            "type": "EPCISDocument",
            "schemaVersion": "2.0",
            "creationDate": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "epcisBody": {"eventList": events},
        }
        if master_data:
            document["epcisHeader"] = {"epcisMasterData": {"vocabularyList": list(master_data)}}
        job = self.post(
            who,
            "/epcis/capture",
            content=json.dumps(document, ensure_ascii=False).encode(),
            headers={"content-type": "application/ld+json"},
        )
        if not job.get("success"):
            raise DemoError(f"EPCIS capture as {who} failed: {job}")
        return job


# --- seeding ---------------------------------------------------------------------------------


@dataclass
class Seeded:
    """What seeding wrote that the summary names."""

    report_number: str
    certificate_number: str
    tokens: dict[str, str]


def seed(api: Api, settings: Settings, today: date) -> Seeded:
    """Everything after the regulator's bootstrap, through the HTTP API."""
    reg_key = keys.read_private(settings.data_dir / REGULATOR_KEY_FILE)
    # The regulator asks the server to hold a key for it, and registers that key with an
    # entry signed by its own key file: from then on its plain-body writes are signed there.
    custodial = api.post(
        "regulator", "/api/v1/custodial-keys", json={"party_id": REGULATOR.credit_code}
    )
    signed = entry_mod.sign(
        reg_key,
        type="party.key.register",
        author=REGULATOR.credit_code,
        body={"party_id": REGULATOR.credit_code, "public_key": custodial["public_key"]},
    )
    api.post(
        "regulator", "/api/v1/party-keys", json={"entry": {**signed.unsigned(), "sig": signed.sig}}
    )

    for p in PARTIES:
        body = {
            "party_id": p.credit_code,
            "name": p.name,
            "kind": p.kind,
            "credit_code": p.credit_code,
            "gln": p.gln,
            "region": p.region,
            "address": p.address,
            **({"grid": p.grid} if p.grid else {}),
            "custodial": True,
        }
        api.enrol(p.key, api.post("regulator", "/api/v1/parties", json=body))

    for who, prefix in COMPANY_PREFIXES.items():
        api.post(
            "regulator",
            "/api/v1/prefixes",
            json={"party_id": BY_KEY[who].credit_code, "prefix": prefix},
        )

    valid_from, valid_until = today - timedelta(days=400), today + timedelta(days=365 * 4)

    def licence(number: str, kind: str, holder: DemoParty, scope: str, issuer: str) -> None:
        api.post(
            "regulator",
            "/api/v1/licences",
            json={
                "number": number,
                "kind": kind,
                "holder": holder.credit_code,
                "scope": scope,
                "issuer": issuer,
                "valid_from": valid_from.isoformat(),
                "valid_until": valid_until.isoformat(),
            },
        )

    for p in PARTIES:
        issuer = "寿光市市场监督管理局" if p.key == "farm" else f"{p.region}市场监督管理局"
        licence(p.credit_code, "business", p, "蔬菜种植、销售及相关服务", issuer)
    licence(
        "SC11337070400123",
        "food_production",
        BY_KEY["processor"],
        "蔬菜制品(净菜、鲜切蔬菜)",
        "山东省潍坊市市场监督管理局",
    )
    licence(
        "JY21101050038216",
        "food_business",
        BY_KEY["restaurant"],
        "热食类食品制售;冷食类食品制售",
        "北京市朝阳区市场监督管理局",
    )

    api.post(
        "farm",
        "/api/v1/products",
        json={"gtin": CUCUMBER, "name": "寿光黄瓜", "specification": "散装/kg", "category": "蔬菜"},
    )
    api.post(
        "farm",
        "/api/v1/products",
        json={"gtin": TOMATO, "name": "寿光西红柿", "specification": "散装/kg", "category": "蔬菜"},
    )
    api.post(
        "processor",
        "/api/v1/products",
        json={
            "gtin": SALAD,
            "name": "鲜切蔬菜沙拉",
            "specification": "250g/盒",
            "category": "净菜",
        },
    )
    for lot in lots(today):
        api.post(
            lot.producer,
            "/api/v1/lots",
            json={
                "gtin": lot.gtin,
                "lot_code": lot.lot_code,
                "production_date": (today - timedelta(days=lot.days_ago)).isoformat(),
                "quantity": lot.quantity,
                "unit": lot.unit,
            },
        )

    for who, events in demo_events(today).items():
        api.capture(who, events, demo_master_data(who))

    # 责令召回: the regulator orders a level 2 recall of the tomato lot. The case reaches the
    # salad made of it and the restaurant that received it; the processor acknowledges.
    tomato = recalled_lot(today)
    case = api.post(
        "regulator",
        "/api/v1/recalls",
        json={
            "gtin": tomato.gtin,
            "lot_code": tomato.lot_code,
            "level": 2,
            "reason": "抽检发现腐霉利残留超标",
        },
    )
    api.post("processor", f"/api/v1/recalls/{case['id']}/acknowledgements", json={})

    cucumber = lots(today)[0]
    tested_on = today - timedelta(days=5)
    number = f"SDJC-{tested_on.year}-{tested_on.strftime('%m%d')}017"
    pdf = report_pdf(number, cucumber, BY_KEY["lab"].name, tested_on)
    blob = api.post(
        "lab", "/api/v1/blobs", content=pdf, headers={"content-type": "application/pdf"}
    )
    api.post(
        "lab",
        "/api/v1/reports",
        json={
            "report_number": number,
            "subject": {"kind": "lot", "gtin": cucumber.gtin, "lot_code": cucumber.lot_code},
            "tested_on": tested_on.isoformat(),
            "items": [
                {
                    "name": "毒死蜱",
                    "value": "0.02",
                    "limit": "≤0.1",
                    "unit": "mg/kg",
                    "standard": "GB 2763-2021",
                    "result": "pass",
                },
                {
                    "name": "腐霉利",
                    "value": "未检出",
                    "limit": "≤2",
                    "unit": "mg/kg",
                    "standard": "GB 2763-2021",
                    "result": "pass",
                },
            ],
            "conclusion": "pass",
            "pdf_sha256": blob["sha256"],
            "pdf_size": blob["size"],
        },
    )

    certificate = f"京朝健{today.year}-004512"
    api.post(
        "restaurant",
        "/api/v1/health-certificates",
        json={
            "certificate_number": certificate,
            "holder_name": "李小满",
            "holder_id_number": credit_id_number(),
            "issuer": "北京市朝阳区疾病预防控制中心",
            "valid_from": (today - timedelta(days=60)).isoformat(),
            "valid_until": (today + timedelta(days=305)).isoformat(),
        },
    )
    restaurant = BY_KEY["restaurant"].credit_code
    api.post(
        "inspector",
        "/api/v1/inspections",
        json={
            "party_id": restaurant,
            "inspected_on": (today - timedelta(days=2)).isoformat(),
            "result": "合格",
            "findings": ["后厨生熟分开,冷藏柜温度记录完整"],
        },
    )
    api.post(
        "regulator",
        "/api/v1/grades",
        json={
            "party_id": restaurant,
            "grade": "A",
            "effective_on": today.isoformat(),
            "reason": f"{today.year}年度量化分级:动态检查合格",
        },
    )
    return Seeded(number, certificate, dict(api.tokens))


def credit_id_number() -> str:
    """A 居民身份证号 with a valid ISO 7064 check character (fictitious person)."""
    from stdnum.cn import ric

    body = "11010519900307234"
    return body + ric.calc_check_digit(body)
