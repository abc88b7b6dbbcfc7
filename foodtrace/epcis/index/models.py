"""Index tables for the rest of SimpleEventQuery (EPCIS 2.0 §8.2.7.1).

Each row points at its ``epcis_events`` row and is filled by :mod:`.project` in the same
transaction as the event, from :mod:`foodtrace.trace.epcis.query_facts`; like the rest of
the index they are a projection of the log and can be rebuilt from it. Every filter becomes
an indexed lookup or an ``EXISTS`` over one of these tables, never a scan of event JSON.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from foodtrace.epcis.models import ID_CHARS
from foodtrace.store.base import Base

TEXT_CHARS = 512
"""Indexed extension and sensor values are cut to this many characters (longer values are
still matched by ``EXISTS_``, and by ``EQ_`` on their first characters only)."""


def _event_fk() -> Mapped[int]:
    return mapped_column(ForeignKey("epcis_events.id", ondelete="CASCADE"), index=True)


class EpcisEventDetail(Base):
    """One row per event: the single-valued facts the core row does not hold."""

    __tablename__ = "epcis_event_details"

    event_pk: Mapped[int] = mapped_column(
        ForeignKey("epcis_events.id", ondelete="CASCADE"), primary_key=True
    )
    transformation_id: Mapped[str | None] = mapped_column(String(ID_CHARS), index=True)
    error_declaration_time: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), index=True
    )
    error_reason: Mapped[str | None] = mapped_column(String(ID_CHARS))


class EpcisEventBizTransaction(Base):
    __tablename__ = "epcis_event_biz_transactions"
    __table_args__ = (Index("ix_epcis_event_biz_transactions_id", "biz_transaction", "type"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_pk: Mapped[int] = _event_fk()
    type: Mapped[str] = mapped_column(String(ID_CHARS))  # CBV word or URI; "" if untyped
    biz_transaction: Mapped[str] = mapped_column(String(ID_CHARS))


class EpcisEventPersistentDisposition(Base):
    __tablename__ = "epcis_event_persistent_dispositions"
    __table_args__ = (Index("ix_epcis_event_persistent_dispositions", "disposition", "op"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_pk: Mapped[int] = _event_fk()
    op: Mapped[str] = mapped_column(String(8))  # set | unset
    disposition: Mapped[str] = mapped_column(String(ID_CHARS))


class EpcisEventCorrection(Base):
    """An event an error declaration names as its correction (``correctiveEventIDs``)."""

    __tablename__ = "epcis_event_corrections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_pk: Mapped[int] = _event_fk()
    corrective_event_id: Mapped[str] = mapped_column(String(ID_CHARS), index=True)


class EpcisEventField(Base):
    """One extension field value at one place of an event (see ``query_facts`` scopes)."""

    __tablename__ = "epcis_event_fields"
    __table_args__ = (
        Index("ix_epcis_event_fields_text", "name", "text"),
        Index("ix_epcis_event_fields_number", "name", "number"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_pk: Mapped[int] = _event_fk()
    scope: Mapped[str] = mapped_column(String(24))
    inner: Mapped[bool] = mapped_column(Boolean, default=False)
    name: Mapped[str] = mapped_column(String(ID_CHARS))
    key: Mapped[str] = mapped_column(String(ID_CHARS), index=True)
    text: Mapped[str | None] = mapped_column(String(TEXT_CHARS))
    number: Mapped[float | None] = mapped_column(Float)
    time: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class EpcisEventSensorReport(Base):
    """One sensor report with its element's metadata, every standard attribute a column."""

    __tablename__ = "epcis_event_sensor_reports"
    __table_args__ = (Index("ix_epcis_event_sensor_reports_type_value", "type", "value"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_pk: Mapped[int] = _event_fk()
    element: Mapped[int] = mapped_column(Integer)
    type: Mapped[str | None] = mapped_column(String(ID_CHARS))
    uom: Mapped[str | None] = mapped_column(String(16))
    device_id: Mapped[str | None] = mapped_column(String(TEXT_CHARS), index=True)
    device_metadata: Mapped[str | None] = mapped_column(String(TEXT_CHARS))
    raw_data: Mapped[str | None] = mapped_column(String(TEXT_CHARS))
    data_processing_method: Mapped[str | None] = mapped_column(String(TEXT_CHARS))
    biz_rules: Mapped[str | None] = mapped_column(String(TEXT_CHARS))
    microorganism: Mapped[str | None] = mapped_column(String(TEXT_CHARS))
    chemical_substance: Mapped[str | None] = mapped_column(String(TEXT_CHARS))
    component: Mapped[str | None] = mapped_column(String(TEXT_CHARS))
    string_value: Mapped[str | None] = mapped_column(String(TEXT_CHARS))
    hex_binary_value: Mapped[str | None] = mapped_column(String(TEXT_CHARS))
    uri_value: Mapped[str | None] = mapped_column(String(TEXT_CHARS))
    coordinate_reference_system: Mapped[str | None] = mapped_column(String(TEXT_CHARS))
    exception: Mapped[str | None] = mapped_column(String(TEXT_CHARS))
    boolean_value: Mapped[bool | None] = mapped_column(Boolean)
    value: Mapped[float | None] = mapped_column(Float)
    min_value: Mapped[float | None] = mapped_column(Float)
    max_value: Mapped[float | None] = mapped_column(Float)
    mean_value: Mapped[float | None] = mapped_column(Float)
    s_dev: Mapped[float | None] = mapped_column(Float)
    perc_value: Mapped[float | None] = mapped_column(Float)
    perc_rank: Mapped[float | None] = mapped_column(Float)
    time: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    start_time: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    end_time: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


TEXT_COLUMNS: dict[str, str] = {
    "deviceID": "device_id",
    "deviceMetadata": "device_metadata",
    "rawData": "raw_data",
    "dataProcessingMethod": "data_processing_method",
    "bizRules": "biz_rules",
    "microorganism": "microorganism",
    "chemicalSubstance": "chemical_substance",
    "component": "component",
    "stringValue": "string_value",
    "hexBinaryValue": "hex_binary_value",
    "uriValue": "uri_value",
    "coordinateReferenceSystem": "coordinate_reference_system",
    "exception": "exception",
}
MEASURE_COLUMNS: dict[str, str] = {
    "value": "value",
    "minValue": "min_value",
    "maxValue": "max_value",
    "meanValue": "mean_value",
    "sDev": "s_dev",
    "percValue": "perc_value",
}
