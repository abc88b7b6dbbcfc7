"""Projection of ``alert.escalate`` entries: the steps of the ladder a business was put on."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from foodtrace.store.base import Base


class AlertEscalation(Base):
    __tablename__ = "alert_escalations"

    entry_index: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    party_id: Mapped[str] = mapped_column(String(128), ForeignKey("parties.party_id"), index=True)
    step: Mapped[str] = mapped_column(String(8))
    kinds: Mapped[list[str]] = mapped_column(JSON)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
