"""Tables of the grading area: projections of ``grade.compute``, ``penalty.record``,
``complaint.finding``, ``repair.apply`` and ``repair.decide`` entries, and the recompute
bookmark (the only row here that is not a projection of the log)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Date, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from foodtrace.store.base import Base


class ComputedGrade(Base):
    """A computed grade: the indicator values and the policy version it was computed under."""

    __tablename__ = "computed_grades"

    entry_index: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    party_id: Mapped[str] = mapped_column(String(128), ForeignKey("parties.party_id"), index=True)
    grade: Mapped[str] = mapped_column(String(1))
    total: Mapped[float] = mapped_column(Float)
    as_of: Mapped[date] = mapped_column(Date)
    policy_version: Mapped[str] = mapped_column(String(32))
    indicators: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    reasons: Mapped[list[str]] = mapped_column(JSON)
    author: Mapped[str] = mapped_column(String(128))


class Penalty(Base):
    """An administrative penalty (行政处罚) a regulator recorded."""

    __tablename__ = "penalties"

    decision_number: Mapped[str] = mapped_column(String(64), primary_key=True)
    party_id: Mapped[str] = mapped_column(String(128), ForeignKey("parties.party_id"), index=True)
    decided_on: Mapped[date] = mapped_column(Date)
    amount: Mapped[str] = mapped_column(String(20))
    severity: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    regulator: Mapped[str] = mapped_column(String(128))
    entry_index: Mapped[int] = mapped_column(BigInteger)
    repaired_entry_index: Mapped[int | None] = mapped_column(BigInteger)


class ComplaintFinding(Base):
    """A handler's finding whether a complaint was substantiated (查实)."""

    __tablename__ = "complaint_findings"

    tracking_number: Mapped[str] = mapped_column(String(24), primary_key=True)
    party_id: Mapped[str] = mapped_column(String(128), index=True)
    substantiated: Mapped[bool] = mapped_column(Boolean)
    found_on: Mapped[date] = mapped_column(Date)
    handler: Mapped[str] = mapped_column(String(128))
    entry_index: Mapped[int] = mapped_column(BigInteger)


class RepairApplication(Base):
    """A credit-repair (信用修复) application and, once decided, the regulator's decision."""

    __tablename__ = "repair_applications"

    application_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    party_id: Mapped[str] = mapped_column(String(128), ForeignKey("parties.party_id"), index=True)
    penalties: Mapped[list[str]] = mapped_column(JSON)
    corrective_action: Mapped[str] = mapped_column(Text)
    applied_on: Mapped[date] = mapped_column(Date)
    entry_index: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16))  # pending, approved, refused
    decided_by: Mapped[str | None] = mapped_column(String(128))
    decided_on: Mapped[date | None] = mapped_column(Date)
    decision_reason: Mapped[str | None] = mapped_column(Text)
    decision_entry_index: Mapped[int | None] = mapped_column(BigInteger)


class GradingState(Base):
    """Where the last recomputation of every grade stood: the log size, the day and the
    policy. Any of the three moving makes grades dirty (time alone expires licences)."""

    __tablename__ = "grading_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    log_size: Mapped[int] = mapped_column(BigInteger)
    as_of: Mapped[date] = mapped_column(Date)
    policy_version: Mapped[str] = mapped_column(String(32))
