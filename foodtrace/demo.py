"""``foodtrace demo``: the service on its embedded defaults, seeded with a realistic chain.

A Shandong vegetable farm (寿光) → a fresh-cut processor → a cold-chain carrier → a Beijing
restaurant, with a lab, an inspector and the regulator. Everything after the regulator's
bootstrap is written through the real HTTP API (an in-process client speaking HTTP to the
app), with server-held keys, so the demo needs no key files and exercises the same write
path as any client. Then one anchor puts the data on the embedded chain, signed QR codes
are written as PNGs, and the service runs.

Seeding is idempotent: a database that already has a regulator is left as it is.
"""

from __future__ import annotations

import io
import json
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote

from stdnum import ean
from stdnum.cn import uscc

from foodtrace.config import Settings
from foodtrace.trace import entry as entry_mod
from foodtrace.trace import keys

DEFAULT_DATA_DIR = Path("var/demo")
CST = timezone(timedelta(hours=8))  # 中国标准时间; EPCIS events carry +08:00
DL = "https://id.gs1.org"  # GS1 Digital Link base for EPCIS identifiers
REGULATOR_KEY_FILE = "regulator.key"
AUTHORITY_KEY_FILE = "code-authority.key"
SCAN_STATE_FILE = "scan-state.json"  # the printed scan command's own memory of checkpoints
STATE_FILE = "demo.json"  # the seeding day (lot codes derive from it) and the API tokens
ORG_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)  # GB 11714 organisation code check


# --- identifiers with valid check characters -------------------------------------------------


def org_code(base8: str) -> str:
    """A GB 11714 organisation code: 8 characters and their check character."""
    total = sum(w * int(c, 36) for w, c in zip(ORG_CODE_WEIGHTS, base8, strict=True))
    check = 11 - total % 11
    return base8 + {10: "X", 11: "0"}.get(check, str(check))


def credit_code(region: str, base8: str, kind: str = "91") -> str:
    """A 统一社会信用代码: registration kind, 6-digit region, organisation code, check."""
    body = kind + region + org_code(base8)
    return body + uscc.calc_check_digit(body)


def gtin13(base12: str) -> str:
    return base12 + ean.calc_check_digit(base12)


def gln(base12: str) -> str:
    return base12 + ean.calc_check_digit(base12)


# --- the demo chain --------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoParty:
    key: str  # short name used in this module
    name: str
    kind: str
    credit_code: str
    gln: str
    region: str
    address: str
    grid: str | None = None


REGULATOR = DemoParty(
    "regulator",
    "北京市朝阳区市场监督管理局",
    "regulator",
    credit_code("110105", "00001234", kind="11"),
    gln("690123400000"),
    "北京市朝阳区",
    "北京市朝阳区日坛北路",
)
PARTIES: tuple[DemoParty, ...] = (
    DemoParty(
        "farm",
        "寿光市绿野蔬菜种植专业合作社",
        "producer",
        credit_code("370783", "MA3C5K7P", kind="93"),
        gln("690123400001"),
        "山东省潍坊市寿光市",
        "山东省寿光市洛城街道蔬菜大棚区18号",
        "洛城街道-07",
    ),
    DemoParty(
        "processor",
        "潍坊鲜达净菜加工有限公司",
        "processor",
        credit_code("370700", "MA3D8R2N"),
        gln("690123400002"),
        "山东省潍坊市",
        "山东省潍坊市坊子区食品工业园6号",
    ),
    DemoParty(
        "logistics",
        "京鲁冷链物流有限公司",
        "logistics",
        credit_code("110112", "MA01F3TQ"),
        gln("690123400003"),
        "北京市通州区",
        "北京市通州区马驹桥物流园区3号库",
    ),
    DemoParty(
        "restaurant",
        "北京朝阳小满餐厅有限公司",
        "restaurant",
        credit_code("110105", "MA04G7WX"),
        gln("690123400004"),
        "北京市朝阳区",
        "北京市朝阳区三里屯路19号",
        "三里屯街道-02",
    ),
    DemoParty(
        "lab",
        "山东省食品药品检验研究院",
        "lab",
        credit_code("370000", "49557013", kind="12"),
        gln("690123400005"),
        "山东省济南市",
        "山东省济南市历下区千佛山东路",
    ),
    DemoParty(
        "inspector",
        "北京市朝阳区食品安全检查大队",
        "inspector",
        credit_code("110105", "40000521", kind="11"),
        gln("690123400006"),
        "北京市朝阳区",
        "北京市朝阳区三里屯街道",
    ),
)
BY_KEY = {p.key: p for p in (REGULATOR, *PARTIES)}

# GS1 company prefixes the regulator assigns: the farm's and the plant's GTINs lie under them.
COMPANY_PREFIXES = {"farm": "69012341", "processor": "69012342"}
CUCUMBER = gtin13("690123410001")
TOMATO = gtin13("690123410002")
SALAD = gtin13("690123420001")


@dataclass(frozen=True)
class DemoLot:
    gtin: str
    lot_code: str
    producer: str  # DemoParty.key
    quantity: float
    unit: str
    days_ago: int


def lots(today: date) -> tuple[DemoLot, ...]:
    """The lots, coded by their production day (as the farm and plant would print)."""
    harvest = (today - timedelta(days=6)).strftime("%Y%m%d")
    made = (today - timedelta(days=5)).strftime("%Y%m%d")
    return (
        DemoLot(CUCUMBER, f"SG{harvest}A", "farm", 800, "kg", 6),
        DemoLot(TOMATO, f"SG{harvest}B", "farm", 600, "kg", 6),
        DemoLot(SALAD, f"JG{made}01", "processor", 1200, "盒", 5),
    )


def recalled_lot(today: date) -> DemoLot:
    return lots(today)[1]


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


# --- EPCIS events ----------------------------------------------------------------------------


def _at(day: date, hour: int, minute: int = 0) -> str:
    return datetime.combine(day, time(hour, minute), CST).isoformat()


def _lot_class(lot: DemoLot) -> str:
    return f"{DL}/01/{lot.gtin.zfill(14)}/10/{quote(lot.lot_code, safe='')}"


def _site(p: DemoParty) -> dict[str, str]:
    return {"id": f"{DL}/414/{p.gln}"}


def _party_id(p: DemoParty) -> str:
    return f"{DL}/417/{p.gln}"


def _qty(lot: DemoLot, quantity: float | None = None) -> dict[str, Any]:
    uom = {"kg": "KGM", "盒": "H87"}[lot.unit]
    return {"epcClass": _lot_class(lot), "quantity": quantity or lot.quantity, "uom": uom}


def _event(kind: str, when: str, **fields: Any) -> dict[str, Any]:
    return {"type": kind, "eventTime": when, "eventTimeZoneOffset": "+08:00", **fields}


def _transfer(frm: DemoParty, to: DemoParty, carrier: DemoParty | None = None) -> dict[str, Any]:
    """Source and destination; a ``carrier`` is named as the possessing party in transit,
    which lets it record the cold chain (custody stays with the shipper until received)."""
    destinations = [{"type": "owning_party", "destination": _party_id(to)}]
    if carrier is not None:
        destinations.append({"type": "possessing_party", "destination": _party_id(carrier)})
    return {
        "sourceList": [{"type": "owning_party", "source": _party_id(frm)}],
        "destinationList": destinations,
    }


def _temperature(when: str, device: str, celsius: float) -> dict[str, Any]:
    return {
        "sensorMetadata": {"time": when, "deviceID": device},
        "sensorReport": [
            {"type": "Temperature", "value": celsius, "uom": "CEL"},
            {"type": "RelativeHumidity", "value": 88, "uom": "P1"},
        ],
    }


SITES = {
    "farm": "绿野合作社蔬菜大棚基地",
    "processor": "鲜达净菜加工车间",
    "logistics": "京鲁冷链马驹桥冷库",
    "restaurant": "小满餐厅三里屯店",
}
PRODUCTS = {
    "farm": ((CUCUMBER, "寿光黄瓜", "蔬菜", "散装/kg"), (TOMATO, "寿光西红柿", "蔬菜", "散装/kg")),
    "processor": ((SALAD, "鲜切蔬菜沙拉", "净菜", "250g/盒"),),
}


def demo_master_data(who: str) -> list[dict[str, Any]]:
    """EPCIS master data a party's document carries in its header: its own site (name and
    address) and the products it registered (name, category, 规格)."""
    mda = "urn:epcglobal:cbv:mda#"

    def attrs(**values: Any) -> list[dict[str, Any]]:
        return [{"id": mda + k, "attribute": v} for k, v in values.items()]

    out = []
    if who in SITES:
        p = BY_KEY[who]
        site = {
            "id": f"{DL}/414/{p.gln}",
            "attributes": attrs(
                name=SITES[who], streetAddressOne=p.address, city=p.region, countryCode="CN"
            ),
        }
        out.append({"type": "urn:epcglobal:epcis:vtype:BusinessLocation",
                    "vocabularyElementList": [site]})  # fmt: skip
    if who in PRODUCTS:
        items = [
            {"id": f"{DL}/01/{g.zfill(14)}",
             "attributes": attrs(regulatedProductName=n, functionalName=c, netContentDescription=s)}
            for g, n, c, s in PRODUCTS[who]
        ]  # fmt: skip
        out.append({"type": "urn:epcglobal:epcis:vtype:EPCClass", "vocabularyElementList": items})
    return out


def demo_events(today: date) -> dict[str, list[dict[str, Any]]]:
    """The EPCIS events each party captures, in capture order."""
    cucumber, tomato, salad = lots(today)
    farm, proc, cold, rest = (BY_KEY[k] for k in ("farm", "processor", "logistics", "restaurant"))
    d6, d5, d4 = (today - timedelta(days=n) for n in (6, 5, 4))
    truck = f"{DL}/8004/{cold.gln[:-1]}0017"
    return {
        "farm": [
            _event(
                "ObjectEvent",
                _at(d6, 6, 30),
                action="ADD",
                bizStep="commissioning",
                disposition="active",
                epcList=[],
                quantityList=[_qty(cucumber), _qty(tomato)],
                readPoint=_site(farm),
                bizLocation=_site(farm),
            ),
            # The farm sends the lab a sample of the cucumbers: what lets the lab report on
            # the lot (custody of records, README).
            _event(
                "ObjectEvent",
                _at(d6, 10),
                action="OBSERVE",
                bizStep="sampling",
                epcList=[],
                quantityList=[_qty(cucumber, 2)],
                readPoint=_site(farm),
                destinationList=[
                    {"type": "possessing_party", "destination": _party_id(BY_KEY["lab"])}
                ],
            ),
            _event(
                "ObjectEvent",
                _at(d6, 14),
                action="OBSERVE",
                bizStep="shipping",
                disposition="in_transit",
                epcList=[],
                quantityList=[_qty(cucumber), _qty(tomato)],
                readPoint=_site(farm),
                **_transfer(farm, proc),
            ),
        ],
        "processor": [
            _event(
                "ObjectEvent",
                _at(d6, 19),
                action="OBSERVE",
                bizStep="receiving",
                disposition="in_progress",
                epcList=[],
                quantityList=[_qty(cucumber), _qty(tomato)],
                readPoint=_site(proc),
                bizLocation=_site(proc),
                **_transfer(farm, proc),
            ),
            _event(
                "TransformationEvent",
                _at(d5, 9),
                bizStep="commissioning",
                disposition="active",
                inputQuantityList=[_qty(cucumber, 500), _qty(tomato, 400)],
                outputQuantityList=[_qty(salad)],
                readPoint=_site(proc),
                bizLocation=_site(proc),
            ),
            # The processor holds the salad, so it ships it: to the restaurant, with the
            # cold-chain carrier named as the party in possession while it is in transit.
            _event(
                "ObjectEvent",
                _at(d5, 16),
                action="OBSERVE",
                bizStep="shipping",
                disposition="in_transit",
                epcList=[],
                quantityList=[_qty(salad)],
                readPoint=_site(proc),
                sensorElementList=[_temperature(_at(d5, 16), truck, 2.8)],
                **_transfer(proc, rest, carrier=cold),
            ),
        ],
        "logistics": [
            _event(
                "ObjectEvent",
                _at(d4, 2, 40),
                action="OBSERVE",
                bizStep="transporting",
                disposition="in_transit",
                epcList=[],
                quantityList=[_qty(salad)],
                # 冷链断链: 9.6 °C for a chilled product kept at 0-4 °C.
                sensorElementList=[
                    _temperature(_at(d4, 2, 10), truck, 3.4),
                    _temperature(_at(d4, 2, 40), truck, 9.6),
                ],
            ),
        ],
        "restaurant": [
            _event(
                "ObjectEvent",
                _at(d4, 7, 30),
                action="OBSERVE",
                bizStep="receiving",
                disposition="in_progress",
                epcList=[],
                quantityList=[_qty(salad)],
                readPoint=_site(rest),
                bizLocation=_site(rest),
                **_transfer(proc, rest),
            ),
        ],
    }


# --- the test report PDF ---------------------------------------------------------------------


def report_pdf(number: str, lot: DemoLot, lab: str, tested_on: date) -> bytes:
    """A one-page 检验报告 (reportlab; CJK with its built-in STSong-Light CID font)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    out = io.BytesIO()
    c = canvas.Canvas(out, pagesize=A4, invariant=1)
    c.setFont("STSong-Light", 18)
    c.drawString(72, 770, "检验报告")
    c.setFont("STSong-Light", 11)
    lines = [
        f"报告编号: {number}",
        f"检验机构: {lab}",
        f"样品: 寿光黄瓜  GTIN {lot.gtin}  批号 {lot.lot_code}",
        f"检验日期: {tested_on.isoformat()}",
        "毒死蜱 0.02 mg/kg (≤0.1, GB 2763-2021) 合格",
        "腐霉利 未检出 (≤2, GB 2763-2021) 合格",
        "结论: 合格",
    ]
    for i, line in enumerate(lines):
        c.drawString(72, 730 - 20 * i, line)
    c.showPage()
    c.save()
    return out.getvalue()


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


# --- the shell -------------------------------------------------------------------------------


@dataclass
class Summary:
    base_url: str
    verifier_key: str
    contract_address: str | None
    chain_size: int | None
    log_size: int
    qr: list[tuple[Path, str]]
    seeded_now: bool
    state_file: Path
    today: date
    authority_key: str = ""  # base64 public key of the code authority
    chain_rpc_url: str = ""  # where other programs read the (embedded) chain
    data_dir: Path = Path()


def demo_settings(data_dir: Path, port: int) -> Settings:
    return Settings(
        data_dir=data_dir,
        database_url="",
        chain_url="",
        contract_address="",
        public_base_url=f"http://127.0.0.1:{port}",
        host="127.0.0.1",
        port=port,
    )


def _is_seeded(settings: Settings) -> bool:
    from sqlalchemy import create_engine, select
    from sqlalchemy.orm import Session

    from foodtrace.party.models import Party

    engine = create_engine(settings.resolved_database_url)
    try:
        with Session(engine) as session:
            return (
                session.scalar(select(Party.party_id).where(Party.kind == "regulator")) is not None
            )
    finally:
        engine.dispose()


def prepare(data_dir: Path, port: int = 8000, reset: bool = False) -> Summary:
    """Migrate, seed if empty, anchor once, write the QR codes; return what to print."""
    import warnings

    with warnings.catch_warnings():  # starlette's notice about httpx, not ours to act on
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    from foodtrace.api.app import create_app
    from foodtrace.ledger.anchorer import Anchorer
    from foodtrace.party.service import init_regulator
    from foodtrace.store.db import migrate, redacted
    from foodtrace.store.log import MerkleLog

    if reset and data_dir.exists():
        shutil.rmtree(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    settings = demo_settings(data_dir, port)
    migrate(settings.resolved_database_url)
    state_file = data_dir / STATE_FILE
    seeded_now = False
    if _is_seeded(settings) and state_file.exists():
        today = date.fromisoformat(json.loads(state_file.read_text("utf-8"))["seeded_on"])
    elif _is_seeded(settings):
        raise DemoError(f"{data_dir} holds data that is not the demo's: use --reset or another dir")
    else:
        today = datetime.now(CST).date()
        with MerkleLog(settings=settings, migrate=False) as log:
            boot = init_regulator(
                log,
                party_id=REGULATOR.credit_code,
                name=REGULATOR.name,
                credit_code=REGULATOR.credit_code,
                key_file=data_dir / REGULATOR_KEY_FILE,
                region=REGULATOR.region,
            )
        app = create_app(settings, run_anchorer=False)
        with TestClient(app, base_url=settings.public_base_url) as client:
            api = Api(client, {"regulator": boot.token})
            seeded = seed(api, settings, today)
        tokens = {f"{BY_KEY[k].credit_code} ({k})": t for k, t in seeded.tokens.items()}
        state_file.write_text(
            json.dumps(
                {"seeded_on": today.isoformat(), "tokens": tokens},
                ensure_ascii=False,
                indent=2,
            )
            + "\n",
            encoding="utf-8",
        )
        state_file.chmod(0o600)
        seeded_now = True

    with MerkleLog(settings=settings, migrate=False) as log:
        anchorer = Anchorer(log, settings)
        try:
            if not anchorer.lock.try_acquire():
                raise DemoError(
                    f"another process is anchoring {redacted(settings.resolved_database_url)}"
                )
            anchorer.run_once(force=True)
            contract = anchorer.deployment.contract_address if anchorer.deployment else None
            chain_size = None
            if anchorer.chain is not None and contract is not None:
                from foodtrace.ledger.contract import TraceAnchor

                anchor = TraceAnchor(
                    anchorer.chain, anchorer.chain.w3.to_checksum_address(contract)
                )
                chain_size = anchor.latest(anchorer.deployment.log_id)[0]  # type: ignore[union-attr]
        finally:
            anchorer.close()
        verifier = log.verifier_key()
        log_size = log.size()

    qr = write_codes(settings, today)
    from foodtrace.store.log import load_or_create_key
    from foodtrace.trace import keys

    authority = load_or_create_key(settings.resolved_code_authority_key_file)
    return Summary(
        settings.public_base_url,
        verifier,
        contract,
        chain_size,
        log_size,
        qr,
        seeded_now,
        state_file,
        today,
        keys.public_to_b64(authority),
        settings.chain_public_url,
        data_dir,
    )


def write_codes(settings: Settings, today: date) -> list[tuple[Path, str]]:
    """The restaurant's merchant code and the lots' codes as PNGs under ``data_dir/qr``."""
    from foodtrace.qr.render import render_png
    from foodtrace.store.log import load_or_create_key
    from foodtrace.trace.codes import Code, lot_code, merchant_code

    key = load_or_create_key(settings.resolved_code_authority_key_file)
    base = settings.public_base_url
    codes: list[tuple[str, Code]] = [
        ("merchant-restaurant", merchant_code(base, BY_KEY["restaurant"].credit_code, key))
    ]
    codes += [
        (f"lot-{lot.lot_code}", lot_code(base, lot.gtin, lot.lot_code, key)) for lot in lots(today)
    ]
    folder = settings.data_dir / "qr"
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, code in codes:
        path = folder / f"{name}.png"
        path.write_bytes(render_png(code.qr_text, caption=code.human_text))
        written.append((path, code.url))
    return written


def summary_lines(s: Summary) -> list[str]:
    """What the command prints: where to look."""
    b = s.base_url
    rest = BY_KEY["restaurant"].credit_code
    cucumber, tomato, salad = lots(s.today)
    lines = [
        "FoodTrace demo " + ("seeded" if s.seeded_now else "already seeded (reusing data)"),
        f"  log size            {s.log_size} entries",
        f"  log verifier key    {s.verifier_key}",
        f"  contract (embedded) {s.contract_address}  anchored size {s.chain_size}",
        f"  API tokens          {s.state_file}",
        "",
        f"API docs          {b}/docs",
        f"a record + proof  {b}/api/v1/records/0",
        f"the restaurant    {b}/api/v1/parties/{rest}",
        f"its licences      {b}/api/v1/parties/{rest}/licences",
        f"its inspections   {b}/api/v1/parties/{rest}/inspections",
        f"its grades        {b}/api/v1/parties/{rest}/grades",
        f"a lot             {b}/api/v1/lots/{cucumber.gtin}/{cucumber.lot_code}",
        f"its test reports  {b}/api/v1/lots/{cucumber.gtin}/{cucumber.lot_code}/reports",
        f"processed lot     {b}/epcis/lots/{salad.lot_code}",
        f"recalled lot      {b}/epcis/lots/{tomato.lot_code}",
        f"EPCIS query       {b}/epcis/events?EQ_bizStep=shipping",
        f"recalled events   {b}/epcis/events?EQ_disposition=recalled",
        f"recall cases      {b}/api/v1/recalls  (case page: {b}/recalls/{{id}})",
        f"FSMA 204 sheet    {b}/api/v1/lots/{tomato.gtin}/{tomato.lot_code}/fsma204.xlsx",
        "",
        "QR codes (PNG → URL it encodes):",
    ]
    lines += [f"  {path}\n    {url}" for path, url in s.qr]
    command = scan_command(s)
    if command:
        lines += [
            "",
            "Verify these codes yourself (trusting only these pins), while the demo serves:",
            f"  {command}",
            "The embedded chain is run by this same server, through "
            f"{s.chain_rpc_url}: it is for trying",
            "things. Independence needs a chain the operator does not control.",
        ]
    return lines


def scan_command(s: Summary) -> str:
    """The ``foodtrace-scan`` command line with every pin that verifies the printed codes
    (its own state file, so an earlier demo's checkpoints do not count as another history)."""
    import shlex

    if not (s.contract_address and s.authority_key and s.chain_rpc_url):
        return ""
    args = [
        "foodtrace-scan",
        "--authority-key",
        s.authority_key,
        "--log-key",
        s.verifier_key,
        "--rpc",
        s.chain_rpc_url,
        "--contract",
        s.contract_address,
        "--state",
        str((s.data_dir / SCAN_STATE_FILE).resolve()),
        str((s.data_dir / "qr").resolve()),
    ]
    return shlex.join(args)
