"""Serial codes issued for a lot, so the resolver can tell a genuine serial from an invented
one (a signature proves the authority signed it; this table says which lot it belongs to)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from foodtrace.store.base import Base


class IssuedSerial(Base):
    __tablename__ = "issued_serials"

    gtin: Mapped[str] = mapped_column(String(14), primary_key=True)
    serial: Mapped[str] = mapped_column(String(20), primary_key=True)
    lot_code: Mapped[str] = mapped_column(String(20), index=True)
    issued_by: Mapped[str] = mapped_column(String(128))
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
