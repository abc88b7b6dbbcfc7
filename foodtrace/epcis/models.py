"""Tables indexing captured EPCIS events, and the capture jobs that stored them.

The log entry (``epcis.event``) is the record; these tables are its projection, rebuilt
from the log if need be. ``epcis_events`` keeps the exact event JSON as captured plus the
fields queries filter on; the EPC table serves ``MATCH_epc`` / ``MATCH_anyEPC`` and lot
lookups through each identifier's canonical GS1 Digital Link (so a URN and a Digital Link
for the same object match); parties and sensor readings serve tracing and the cold chain.

An event is identified by its CBV 2.0 hash id. An *error declaration* restates an earlier
event with ``errorDeclaration`` added, which the hash leaves out, so it shares that id: the
uniqueness key is (hash id, declares error), and a second copy of either is a duplicate.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from foodtrace.store.base import Base

LogIndex = BigInteger().with_variant(Integer(), "sqlite")
ID_CHARS = 512  # EPCs, Digital Links and location ids are URIs; GS1 keeps them short


class EpcisEvent(Base):
    """One captured event: its identity, the fields queries filter on, and its JSON."""

    __tablename__ = "epcis_events"
    __table_args__ = (
        UniqueConstraint("hash_id", "declares_error", name="uq_epcis_events_hash_id"),
        UniqueConstraint("entry_index", name="uq_epcis_events_entry_index"),
        Index("ix_epcis_events_time_id", "event_time", "id"),
        Index("ix_epcis_events_record_time_id", "record_time", "id"),
        # A business's events in a grading window (foodtrace.grading.inputs).
        Index("ix_epcis_events_author_time", "author", "event_time"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    hash_id: Mapped[str] = mapped_column(String(128))
    event_id: Mapped[str] = mapped_column(String(ID_CHARS), index=True)
    declares_error: Mapped[bool] = mapped_column(Boolean, default=False)
    type: Mapped[str] = mapped_column(String(128), index=True)
    action: Mapped[str | None] = mapped_column(String(16))
    event_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    record_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    biz_step: Mapped[str | None] = mapped_column(String(ID_CHARS), index=True)
    disposition: Mapped[str | None] = mapped_column(String(ID_CHARS), index=True)
    read_point: Mapped[str | None] = mapped_column(String(ID_CHARS), index=True)
    biz_location: Mapped[str | None] = mapped_column(String(ID_CHARS), index=True)
    author: Mapped[str] = mapped_column(String(128))
    entry_index: Mapped[int] = mapped_column(LogIndex)
    body: Mapped[str] = mapped_column(Text)  # the event JSON exactly as stored in the entry


class EpcisEventEpc(Base):
    """An identifier an event names, in one role (``epcList``, ``inputQuantityList``, …).

    ``canonical`` is the constrained canonical Digital Link (or the identifier itself when it
    is not a GS1 key); ``gtin`` and ``lot`` are read from it, which links transformation
    inputs and outputs, shipments and receipts to lots."""

    __tablename__ = "epcis_event_epcs"
    __table_args__ = (
        # A lot's events (the resolver's lot page, lot exports): every row naming the lot,
        # with the event it belongs to, from the index alone.
        Index("ix_epcis_event_epcs_lot_gtin", "lot", "gtin", "event_pk"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_pk: Mapped[int] = mapped_column(
        ForeignKey("epcis_events.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(32))
    is_class: Mapped[bool] = mapped_column(Boolean, default=False)
    epc: Mapped[str] = mapped_column(String(ID_CHARS))
    canonical: Mapped[str] = mapped_column(String(ID_CHARS), index=True)
    gtin: Mapped[str | None] = mapped_column(String(14))
    lot: Mapped[str | None] = mapped_column(String(128))
    quantity: Mapped[float | None] = mapped_column(Float)
    uom: Mapped[str | None] = mapped_column(String(16))


class EpcisEventParty(Base):
    """A source or destination of an event (``direction`` is ``source`` or ``destination``)."""

    __tablename__ = "epcis_event_parties"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_pk: Mapped[int] = mapped_column(
        ForeignKey("epcis_events.id", ondelete="CASCADE"), index=True
    )
    direction: Mapped[str] = mapped_column(String(16))
    type: Mapped[str] = mapped_column(String(ID_CHARS))
    party: Mapped[str] = mapped_column(String(ID_CHARS), index=True)


class EpcisSensorReading(Base):
    """One sensor report of an event (the cold-chain temperature chart reads these)."""

    __tablename__ = "epcis_sensor_readings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_pk: Mapped[int] = mapped_column(
        ForeignKey("epcis_events.id", ondelete="CASCADE"), index=True
    )
    type: Mapped[str] = mapped_column(String(ID_CHARS))
    value: Mapped[float | None] = mapped_column(Float)
    uom: Mapped[str | None] = mapped_column(String(16))
    time: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    device_id: Mapped[str | None] = mapped_column(String(ID_CHARS))
    component: Mapped[str | None] = mapped_column(String(ID_CHARS))


class CaptureJob(Base):
    """One ``POST /epcis/capture``: what was asked, and what was stored or exactly why not.

    ``status`` is ``accepted`` while running, then ``succeeded`` or ``failed``;
    ``entry_indices`` and ``errors`` are JSON lists."""

    __tablename__ = "epcis_capture_jobs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    party_id: Mapped[str] = mapped_column(String(128), index=True)
    status: Mapped[str] = mapped_column(String(16))
    document_id: Mapped[str | None] = mapped_column(String(ID_CHARS))
    event_count: Mapped[int] = mapped_column(Integer)
    entry_indices: Mapped[str] = mapped_column(Text, default="[]")
    event_ids: Mapped[str] = mapped_column(Text, default="[]")
    errors: Mapped[str] = mapped_column(Text, default="[]")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
