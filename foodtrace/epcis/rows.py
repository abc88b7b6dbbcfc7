"""How one captured EPCIS event becomes rows of the EPCIS tables: the event row and its
detail rows (EPCs and quantities, source/destination parties, sensor readings). Pure: the
live projector (:mod:`foodtrace.epcis.service`) adds them to its session, the bench's bulk
path (``bench/epcis_bulk.py``) inserts them in batches, and both store the same rows."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from foodtrace.epcis.models import EpcisEvent, EpcisEventEpc, EpcisEventParty, EpcisSensorReading
from foodtrace.trace.entry import Entry
from foodtrace.trace.epcis import events, gs1keys


def event_row(
    entry: Entry, index: int, event: dict[str, Any], facts: events.EventFacts, pk: int | None = None
) -> EpcisEvent:
    """The ``epcis_events`` row of the event ``entry`` (log index ``index``) carries; ``pk``
    only where the caller numbers rows itself (bulk)."""
    hash_id = str(entry.body["hash_id"])
    row = EpcisEvent(
        hash_id=hash_id,
        event_id=str(event.get("eventID") or hash_id),
        declares_error="errorDeclaration" in event,
        type=facts.type,
        action=facts.action,
        event_time=facts.event_time,
        record_time=events.parse_time(str(event.get("recordTime") or entry.issued_at)),
        biz_step=facts.biz_step,
        disposition=facts.disposition,
        read_point=facts.read_point,
        biz_location=facts.biz_location,
        author=entry.author,
        entry_index=index,
        body=json.dumps(event, ensure_ascii=False, separators=(",", ":")),
    )
    if pk is not None:
        row.id = pk
    return row


def detail_rows(event_pk: int, facts: events.EventFacts) -> list[Any]:
    """The event's EPC, party and sensor rows, in the order the projector inserts them."""
    out: list[Any] = []
    for role, epcs in facts.epcs.items():
        out.extend(_epc_row(event_pk, role, epc, False, None, None) for epc in epcs)
    out.extend(
        _epc_row(event_pk, q.role, q.epc_class, True, q.quantity, q.uom) for q in facts.quantities
    )
    for direction, parties in (("source", facts.sources), ("destination", facts.destinations)):
        out.extend(
            EpcisEventParty(event_pk=event_pk, direction=direction, type=p.type, party=p.id)
            for p in parties
        )
    out.extend(
        EpcisSensorReading(
            event_pk=event_pk,
            type=r.type,
            value=r.value,
            uom=r.uom,
            time=_time_or_none(r.time),
            device_id=r.device_id,
            component=r.component,
        )
        for r in facts.sensor_readings
    )
    return out


def _epc_row(
    event_pk: int, role: str, epc: str, is_class: bool, quantity: float | None, uom: str | None
) -> EpcisEventEpc:
    canonical = gs1keys.canonical(epc)
    gtin, lot = gtin_and_lot(canonical)
    return EpcisEventEpc(
        event_pk=event_pk,
        role=role,
        is_class=is_class,
        epc=epc,
        canonical=canonical,
        gtin=gtin,
        lot=lot,
        quantity=quantity,
        uom=uom,
    )


def gtin_and_lot(canonical: str) -> tuple[str | None, str | None]:
    """GTIN (AI 01) and lot (AI 10) of a canonical Digital Link, where present."""
    if not canonical.startswith(gs1keys.CANONICAL_HOST + "/"):
        return None, None
    parts = canonical[len(gs1keys.CANONICAL_HOST) + 1 :].split("/")
    pairs = dict(zip(parts[::2], parts[1::2], strict=False))
    return pairs.get("01"), pairs.get("10")


def _time_or_none(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return events.parse_time(text)
    except ValueError:
        return None
