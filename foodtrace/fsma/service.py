"""Reading a lot's (or a date range's) events and what names them, for the FSMA 204 sheet.

Events come from the EPCIS index tables; product descriptions from ``products``; places
from the parties whose GLN the events name; a lot's TLC source is its producer, where the
lot code was assigned (``lot.create``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from foodtrace.epcis import documents, query
from foodtrace.epcis.models import EpcisEvent
from foodtrace.fsma import kde
from foodtrace.party.models import Party
from foodtrace.product.models import Lot, Product
from foodtrace.provenance.service import trace
from foodtrace.trace.epcis import events as epcis_events
from foodtrace.trace.provenance import Origin

MAX_RANGE_EVENTS = 100_000
"""A date-range sheet holds at most this many events (FDA asks for specific foods and dates;
a larger request should be narrowed)."""


class RangeTooLarge(ValueError):
    """The date range holds more events than one sheet may."""


def _describe(party: Party) -> kde.Place:
    text = party.name + (f", {party.address}" if party.address else "")
    return kde.Place(text, party.gln or party.credit_code)


def directory(session: Session, logged: Sequence[kde.LoggedEvent]) -> kde.Directory:
    glns: set[str] = set()
    lots: set[tuple[str, str]] = set()
    for item in logged:
        facts = epcis_events.extract(item.event)
        ids = [facts.biz_location, facts.read_point]
        ids += [p.id for p in (*facts.sources, *facts.destinations)]
        glns |= {g for i in ids if i and (g := kde.gln_of(i))}
        for q in facts.quantities:
            gtin, lot = kde.gtin_lot(q.epc_class)
            if gtin and lot:
                lots.add((gtin, lot))
    gtins = {g for g, _ in lots}
    products = {
        p.gtin: p.name + (f" {p.specification}" if p.specification else "")
        for p in session.scalars(select(Product).where(Product.gtin.in_(gtins)))
    }
    lot_rows = [
        row
        for row in session.scalars(select(Lot).where(Lot.gtin.in_(gtins)))
        if (row.gtin, row.lot_code) in lots
    ]
    producers = {row.producer for row in lot_rows}
    parties = session.scalars(
        select(Party).where((Party.gln.in_(glns)) | (Party.party_id.in_(producers)))
    ).all()
    by_id = {p.party_id: p for p in parties}
    places = {p.gln: _describe(p) for p in parties if p.gln}
    sources = {(r.gtin, r.lot_code): _describe(by_id[r.producer]) for r in lot_rows}
    return kde.Directory(products, places, sources)


def _logged(rows: Iterable[EpcisEvent]) -> list[kde.LoggedEvent]:
    return [kde.LoggedEvent(documents.stored_event(r), r.entry_index) for r in rows]


def lot_rows(
    session: Session,
    gtin: str,
    lot_code: str,
    start: date | None = None,
    end: date | None = None,
    *,
    upstream: bool = False,
) -> list[dict[str, Any]] | None:
    """The sheet of one lot (None if the lot is unknown and no event names it); with
    ``upstream``, also of every lot it was made from (the lot's upstream trace), so one
    sheet answers for the food and its ingredients."""
    gtin = gtin.zfill(14)
    events = query.lot_events(session, lot_code, gtin)
    if not events and session.get(Lot, (gtin, lot_code)) is None:
        return None
    lots = {(gtin, lot_code)}
    if upstream:
        found = trace(session, Origin.lot(gtin, lot_code), direction="upstream")
        lots |= {(t.gtin, t.lot_code) for t in found.lots if t.gtin and t.lot_code}
    rows_by_id = {e.id: e for g, lot in sorted(lots) for e in query.lot_events(session, lot, g)}
    ordered = sorted(rows_by_id.values(), key=lambda e: (e.event_time, e.id))
    logged = _logged(ordered)
    rows = kde.rows(logged, directory(session, logged), about=lambda g, lot: (g, lot) in lots)
    return [r for r in rows if kde.in_range(r, start, end)]


def range_rows(session: Session, start: date, end: date) -> list[dict[str, Any]]:
    """The sheet of every lot's Critical Tracking Events from ``start`` to ``end``
    (inclusive; days are matched on the event's local date, read with a day's margin)."""
    lo = datetime.combine(start - timedelta(days=1), time(0), UTC)
    hi = datetime.combine(end + timedelta(days=2), time(0), UTC)
    stmt = (
        select(EpcisEvent)
        .where(EpcisEvent.event_time >= lo, EpcisEvent.event_time < hi)
        .order_by(EpcisEvent.event_time, EpcisEvent.id)
        .limit(MAX_RANGE_EVENTS + 1)
    )
    events = list(session.scalars(stmt))
    if len(events) > MAX_RANGE_EVENTS:
        raise RangeTooLarge(
            f"more than {MAX_RANGE_EVENTS} events from {start} to {end}: narrow the range"
        )
    logged = _logged(events)
    return [r for r in kde.rows(logged, directory(session, logged)) if kde.in_range(r, start, end)]
