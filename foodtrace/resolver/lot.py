"""The lot page's data (/01/{gtin}/10/{lot}): the product, the lot, its inputs' lots, every
event naming them in time order (with places and authors), recalls, the cold chain's
temperatures and test reports; and a serialised item's product (/01/{gtin}/21/{serial}).
Every other domain is read through its service."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

from sqlalchemy.orm import Session

from foodtrace.epcis.lots import event_lots, input_lots
from foodtrace.epcis.models import EpcisEvent
from foodtrace.epcis.query import lot_events
from foodtrace.masterdata import service as masterdata
from foodtrace.masterdata.service import SiteView
from foodtrace.party import service as parties
from foodtrace.product import service as products
from foodtrace.report import service as report_service
from foodtrace.resolver.chart import Reading, excursions, temperature_svg
from foodtrace.resolver.display import Fact, fact, records_of, show_time
from foodtrace.resolver.parties import PartyView, ReportView, party_names, party_view, report_view

MAX_INPUT_DEPTH: Final = 6  # how far back through transformation inputs a lot page looks
RECALLED: Final = "recalled"


@dataclass
class EventView:
    rec: int
    time: Fact
    step: Fact | None
    disposition: Fact | None
    place_id: Fact | None  # compared by value; shown by the place's party name
    place: PartyView | None
    author: PartyView | None
    lots: list[str]  # which of the page's lots the event names (product name + lot code)
    recalled: bool
    kind: str
    site: SiteView | None = None  # the place's master data (name, address), if recorded


@dataclass
class RecallView:
    lot: str
    time: Fact
    disposition: Fact
    by: PartyView | None


@dataclass
class LotPage:
    gtin: str
    lot_code: Fact
    product: Fact
    specification: Fact | None
    category: Fact | None
    production_date: Fact
    quantity: Fact
    unit: Fact
    producer: PartyView | None
    inputs: list[str]
    events: list[EventView]
    recalls: list[RecallView]
    chart_svg: str
    readings: int
    excursions: list[tuple[str, Fact]]
    range_c: tuple[float, float]
    reports: list[ReportView]
    records: list[int] = field(default_factory=list)


def _temperature_readings(row: EpcisEvent) -> list[Reading]:
    """Temperature reports of one event, read from its stored JSON with their pointers."""
    event = json.loads(row.body)
    out = []
    for i, element in enumerate(event.get("sensorElementList") or []):
        meta = element.get("sensorMetadata") or {}
        for j, report in enumerate(element.get("sensorReport") or []):
            kind = str(report.get("type", ""))
            value = report.get("value")
            if kind.rsplit("-", 1)[-1].rsplit("/", 1)[-1] != "Temperature":
                continue
            if not isinstance(value, int | float) or report.get("uom", "CEL") != "CEL":
                continue
            when = report.get("time") or meta.get("time") or event.get("eventTime")
            path = f"/body/event/sensorElementList/{i}/sensorReport/{j}/value"
            out.append(
                Reading(
                    datetime.fromisoformat(str(when).replace("Z", "+00:00")),
                    fact(row.entry_index, path, value, "num", by_value=True),
                )
            )
    return out


def lot_page(
    session: Session, gtin: str, lot_code: str, range_c: tuple[float, float]
) -> LotPage | None:
    row = products.lot_row(session, gtin, lot_code)
    if row is None:
        return None
    product = products.product_row(session, gtin)
    assert product is not None  # lots reference products
    chain = [(gtin, lot_code), *input_lots(session, gtin, lot_code, MAX_INPUT_DEPTH)]
    named_products = {p.gtin: p for p in products.product_rows(session, {g for g, _ in chain})}

    def label(g: str, lot: str) -> str:
        p = named_products.get(g)
        return f"{p.name if p else g} {lot}"

    events: dict[int, EpcisEvent] = {}
    for g, lot in chain:
        for e in lot_events(session, lot, g):
            events[e.id] = e
    ordered = sorted(events.values(), key=lambda e: (e.event_time, e.id))
    lots_of = event_lots(session, [e.id for e in ordered])
    places = {e.biz_location or e.read_point for e in ordered} - {None}
    by_gln = {
        p.gln: party_view(p)
        for p in parties.parties_by_gln(
            session, [str(u).rsplit("/", 1)[-1] for u in places if "/414/" in str(u)]
        )
    }
    names = party_names(session, [e.author for e in ordered] + [row.producer])
    site_of = masterdata.sites(session, places)
    chain_set = set(chain)
    views: list[EventView] = []
    recalls: list[RecallView] = []
    readings: list[Reading] = []
    for e in ordered:
        i = e.entry_index
        where = "bizLocation" if e.biz_location else "readPoint" if e.read_point else None
        place_uri = e.biz_location or e.read_point
        place = by_gln.get(place_uri.rsplit("/", 1)[-1]) if place_uri else None
        named = sorted(lots_of.get(e.id, set()) & chain_set, key=chain.index)
        recalled = (e.disposition or "") == RECALLED
        view = EventView(
            i,
            fact(i, "/body/event/eventTime", e.event_time, "time"),
            fact(i, "/body/event/bizStep", e.biz_step, "bizstep") if e.biz_step else None,
            fact(i, "/body/event/disposition", e.disposition, "disposition")
            if e.disposition
            else None,
            fact(i, f"/body/event/{where}/id", place_uri, by_value=True) if where else None,
            place,
            names.get(e.author),
            [label(g, lot) for g, lot in named],
            recalled,
            e.type,
            site_of.get(place_uri) if place_uri else None,
        )
        views.append(view)
        if recalled and view.disposition is not None:
            for g, lot in named:
                recalls.append(RecallView(label(g, lot), view.time, view.disposition, view.author))
        if (gtin, lot_code) in lots_of.get(e.id, set()) or not lots_of.get(e.id):
            readings += _temperature_readings(e)
    low, high = range_c
    report_rows = []
    for g, lot in chain:
        report_rows += report_service.report_rows_about_lot(session, g, lot)
    labs = party_names(session, [r.lab for r in report_rows])
    reports = [
        report_view(
            r, labs, label(r.subject_gtin or "", r.subject_lot or "") if r.subject_lot else ""
        )
        for r in report_rows
    ]
    i = row.entry_index
    p = product.entry_index
    page = LotPage(
        gtin,
        fact(i, "/body/lot_code", row.lot_code),
        fact(p, "/body/name", product.name),
        fact(p, "/body/specification", product.specification) if product.specification else None,
        fact(p, "/body/category", product.category) if product.category else None,
        fact(i, "/body/production_date", row.production_date),
        fact(i, "/body/quantity", row.quantity, "num"),
        fact(i, "/body/unit", row.unit),
        names.get(row.producer),
        [label(g, lot) for g, lot in chain[1:]],
        views,
        recalls,
        temperature_svg(readings, low, high),
        len(readings),
        [(show_time(r.time), r.celsius) for r in excursions(readings, low, high)],
        range_c,
        reports,
    )
    page.records = records_of(page)
    return page


def product_page(session: Session, gtin: str) -> tuple[Fact, PartyView | None, list[int]] | None:
    """A serialised item's product: name and producer (serials have no lot of their own)."""
    product = products.product_row(session, gtin)
    if product is None:
        return None
    producer = party_names(session, [product.producer]).get(product.producer)
    name = fact(product.entry_index, "/body/name", product.name)
    return name, producer, records_of(name, producer)
