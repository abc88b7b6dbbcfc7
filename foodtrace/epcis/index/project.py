"""Fill the query index tables for one stored event (called by the EPCIS projector)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from foodtrace.epcis.index.models import (
    MEASURE_COLUMNS,
    TEXT_CHARS,
    TEXT_COLUMNS,
    EpcisEventBizTransaction,
    EpcisEventCorrection,
    EpcisEventDetail,
    EpcisEventField,
    EpcisEventPersistentDisposition,
    EpcisEventSensorReport,
)
from foodtrace.trace.epcis import query_facts


def index_event(session: Session, event_pk: int, event: Mapping[str, Any]) -> None:
    """Add the query index rows of the event stored as ``epcis_events.id == event_pk``."""
    facts = query_facts.extract(event)
    session.add(
        EpcisEventDetail(
            event_pk=event_pk,
            transformation_id=facts.transformation_id,
            error_declaration_time=facts.error_declaration_time,
            error_reason=facts.error_reason,
        )
    )
    session.add_all(
        EpcisEventBizTransaction(event_pk=event_pk, type=t, biz_transaction=i)
        for t, i in facts.biz_transactions
    )
    session.add_all(
        EpcisEventPersistentDisposition(event_pk=event_pk, op=op, disposition=d)
        for op, d in facts.persistent
    )
    session.add_all(
        EpcisEventCorrection(event_pk=event_pk, corrective_event_id=c)
        for c in facts.corrective_event_ids
    )
    session.add_all(
        EpcisEventField(
            event_pk=event_pk,
            scope=f.scope,
            inner=f.inner,
            name=f.name,
            key=f.key,
            text=f.text[:TEXT_CHARS] if f.text is not None else None,
            number=f.number,
            time=f.time,
        )
        for f in facts.fields
    )
    for r in facts.sensor_reports:
        columns: dict[str, Any] = {TEXT_COLUMNS[k]: v[:TEXT_CHARS] for k, v in r.texts.items()}
        columns.update({MEASURE_COLUMNS[k]: v for k, v in r.measures.items()})
        session.add(
            EpcisEventSensorReport(
                event_pk=event_pk,
                element=r.element,
                type=r.type,
                uom=r.uom,
                boolean_value=r.boolean_value,
                perc_rank=r.perc_rank,
                time=r.time,
                start_time=r.start_time,
                end_time=r.end_time,
                **columns,
            )
        )
