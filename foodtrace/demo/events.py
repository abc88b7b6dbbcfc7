"""The demo chain's records: master data, EPCIS events, the lab's test report PDF."""

from __future__ import annotations

import io
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import quote

from foodtrace.demo.cast import BY_KEY, CST, CUCUMBER, DL, SALAD, TOMATO, DemoLot, DemoParty, lots

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


def _observe(
    when: str, biz_step: str, quantities: list[dict[str, Any]], **fields: Any
) -> dict[str, Any]:
    """An OBSERVE ObjectEvent of lot quantities (the demo names lots, not serials)."""
    return _event(
        "ObjectEvent",
        when,
        action="OBSERVE",
        bizStep=biz_step,
        epcList=[],
        quantityList=quantities,
        **fields,
    )


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
            _observe(
                _at(d6, 10),
                "sampling",
                [_qty(cucumber, 2)],
                readPoint=_site(farm),
                destinationList=[
                    {"type": "possessing_party", "destination": _party_id(BY_KEY["lab"])}
                ],
            ),
            _observe(
                _at(d6, 14),
                "shipping",
                [_qty(cucumber), _qty(tomato)],
                disposition="in_transit",
                readPoint=_site(farm),
                **_transfer(farm, proc),
            ),
        ],
        "processor": [
            _observe(
                _at(d6, 19),
                "receiving",
                [_qty(cucumber), _qty(tomato)],
                disposition="in_progress",
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
            _observe(
                _at(d5, 16),
                "shipping",
                [_qty(salad)],
                disposition="in_transit",
                readPoint=_site(proc),
                sensorElementList=[_temperature(_at(d5, 16), truck, 2.8)],
                **_transfer(proc, rest, carrier=cold),
            ),
        ],
        "logistics": [
            _observe(
                _at(d4, 2, 40),
                "transporting",
                [_qty(salad)],
                disposition="in_transit",
                # 冷链断链: 9.6 °C for a chilled product kept at 0-4 °C.
                sensorElementList=[
                    _temperature(_at(d4, 2, 10), truck, 3.4),
                    _temperature(_at(d4, 2, 40), truck, 9.6),
                ],
            ),
        ],
        "restaurant": [
            _observe(
                _at(d4, 7, 30),
                "receiving",
                [_qty(salad)],
                disposition="in_progress",
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
