"""The ``complaint_routes`` table: who owns a complaint (its grid's officer and grid worker),
their confirmations, the complainant's rating and the escalations, each from a logged entry.

Nothing personal is here: the rating is a number, and every column comes from an entry."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from foodtrace.store.base import Base


class ComplaintRoute(Base):
    __tablename__ = "complaint_routes"

    tracking_number: Mapped[str] = mapped_column(
        String(24), ForeignKey("complaints.tracking_number"), primary_key=True
    )
    grid_id: Mapped[str] = mapped_column(String(64), ForeignKey("grids.grid_id"), index=True)
    officer: Mapped[str] = mapped_column(String(128))
    grid_worker: Mapped[str] = mapped_column(String(128))
    station_head: Mapped[str] = mapped_column(String(128))
    officer_confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    officer_entry_index: Mapped[int | None] = mapped_column(BigInteger)
    worker_confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    worker_entry_index: Mapped[int | None] = mapped_column(BigInteger)
    rating: Mapped[int | None] = mapped_column(Integer)
    rated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    rating_entry_index: Mapped[int | None] = mapped_column(BigInteger)
    response_escalated_entry_index: Mapped[int | None] = mapped_column(BigInteger)
    feedback_escalated_entry_index: Mapped[int | None] = mapped_column(BigInteger)
