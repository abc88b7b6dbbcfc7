"""The projection of ``prefix.assign`` entries: which party holds which company prefix."""

from __future__ import annotations

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from foodtrace.store.base import Base


class CompanyPrefix(Base):
    __tablename__ = "company_prefixes"

    prefix: Mapped[str] = mapped_column(String(12), primary_key=True)
    party_id: Mapped[str] = mapped_column(String(128), index=True)
    assigned_by: Mapped[str] = mapped_column(String(128))
    entry_index: Mapped[int] = mapped_column(BigInteger)
