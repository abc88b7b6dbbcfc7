"""Recall cases: projections of ``recall.open``, ``recall.ack``, ``recall.report`` and
``recall.close`` entries. The scope (lots and parties) is what the opening entry fixed;
progress is computed from these rows and ``now`` on every read."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from foodtrace.store.base import Base


class Recall(Base):
    __tablename__ = "recalls"

    recall_id: Mapped[str] = mapped_column(String(24), primary_key=True)
    gtin: Mapped[str] = mapped_column(String(14), index=True)
    lot_code: Mapped[str] = mapped_column(String(20))
    level: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16))  # voluntary (producer) / ordered (regulator)
    initiator: Mapped[str] = mapped_column(String(128))
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    entry_index: Mapped[int] = mapped_column(BigInteger)
    scope: Mapped[str] = mapped_column(Text)  # JSON: {"lots": [...], "parties": [...]}
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_by: Mapped[str | None] = mapped_column(String(128))
    close_note: Mapped[str | None] = mapped_column(Text)
    close_entry_index: Mapped[int | None] = mapped_column(BigInteger)


class RecallLot(Base):
    """An affected lot, and the ``recalled`` EPCIS event written for it."""

    __tablename__ = "recall_lots"

    recall_id: Mapped[str] = mapped_column(
        String(24), ForeignKey("recalls.recall_id"), primary_key=True
    )
    gtin: Mapped[str] = mapped_column(String(14), primary_key=True)
    lot_code: Mapped[str] = mapped_column(String(20), primary_key=True, index=True)
    holder: Mapped[str | None] = mapped_column(String(128), index=True)
    event_hash_id: Mapped[str] = mapped_column(String(128))
    event_entry_index: Mapped[int] = mapped_column(BigInteger)


class RecallParty(Base):
    """An affected party: what it received, and its acknowledgement and reports."""

    __tablename__ = "recall_parties"

    recall_id: Mapped[str] = mapped_column(
        String(24), ForeignKey("recalls.recall_id"), primary_key=True
    )
    party_id: Mapped[str] = mapped_column(String(128), primary_key=True, index=True)
    received: Mapped[str] = mapped_column(Text)  # JSON {uom: quantity}
    recovered: Mapped[str] = mapped_column(Text, default="{}")  # JSON {uom: quantity}
    destroyed: Mapped[str] = mapped_column(Text, default="{}")
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ack_entry_index: Mapped[int | None] = mapped_column(BigInteger)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reports: Mapped[int] = mapped_column(Integer, default=0)
    last_report_entry_index: Mapped[int | None] = mapped_column(BigInteger)
