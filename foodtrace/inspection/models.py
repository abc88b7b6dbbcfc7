"""Inspections and credit grades: projections of ``inspection.record`` and ``grade.set``."""

from __future__ import annotations

from datetime import date

from sqlalchemy import JSON, BigInteger, Date, ForeignKey, String
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


class CreditGrade(Base):
    __tablename__ = "credit_grades"

    entry_index: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    party_id: Mapped[str] = mapped_column(String(128), ForeignKey("parties.party_id"), index=True)
    grade: Mapped[str] = mapped_column(String(1))
    effective_on: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(2000))
    set_by: Mapped[str] = mapped_column(String(128))
