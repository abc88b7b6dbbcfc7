"""Inspections and credit grades: projections of ``inspection.record``, ``inspection.ack`` and
``grade.set``, and the one-time confirmation codes (kept beside the log, never in it)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Date, DateTime, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from foodtrace.store.base import Base


class Inspection(Base):
    __tablename__ = "inspections"

    entry_index: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    inspector: Mapped[str] = mapped_column(String(128), ForeignKey("parties.party_id"))
    party_id: Mapped[str] = mapped_column(String(128), ForeignKey("parties.party_id"), index=True)
    inspected_on: Mapped[date] = mapped_column(Date)
    result: Mapped[str] = mapped_column(String(8))
    findings: Mapped[list[str]] = mapped_column(JSON)
    photos: Mapped[list[str]] = mapped_column(JSON)
    # None for visits logged before checklists existed: read as empty.
    checklist: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    corrective_actions: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)


class InspectionAck(Base):
    """The merchant's acknowledgement of a visit: with the inspector's entry, 双签."""

    __tablename__ = "inspection_acks"

    inspection_index: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("inspections.entry_index"), primary_key=True, autoincrement=False
    )
    author: Mapped[str] = mapped_column(String(128))
    method: Mapped[str] = mapped_column(String(8))
    acknowledged_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    entry_index: Mapped[int] = mapped_column(BigInteger, unique=True)


class InspectionCode(Base):
    """A visit's one-time code, salted and hashed: never logged (the log is public and six
    digits are quickly guessed from a hash), void after use, expiry or too many attempts."""

    __tablename__ = "inspection_codes"

    inspection_index: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("inspections.entry_index"), primary_key=True, autoincrement=False
    )
    code_hash: Mapped[str] = mapped_column(String(64))
    salt: Mapped[bytes] = mapped_column(LargeBinary(16))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class CreditGrade(Base):
    __tablename__ = "credit_grades"

    entry_index: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    party_id: Mapped[str] = mapped_column(String(128), ForeignKey("parties.party_id"), index=True)
    grade: Mapped[str] = mapped_column(String(1))
    effective_on: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(2000))
    set_by: Mapped[str] = mapped_column(String(128))
