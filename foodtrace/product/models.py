"""Products and lots: projections of ``product.register`` and ``lot.create`` entries."""

from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, Date, Float, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from foodtrace.store.base import Base


class Product(Base):
    __tablename__ = "products"

    gtin: Mapped[str] = mapped_column(String(14), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    producer: Mapped[str] = mapped_column(String(128), ForeignKey("parties.party_id"), index=True)
    specification: Mapped[str | None] = mapped_column(String(200))
    category: Mapped[str | None] = mapped_column(String(100))
    entry_index: Mapped[int] = mapped_column(BigInteger)


class Lot(Base):
    __tablename__ = "lots"

    gtin: Mapped[str] = mapped_column(String(14), ForeignKey("products.gtin"), primary_key=True)
    lot_code: Mapped[str] = mapped_column(String(20), primary_key=True)
    producer: Mapped[str] = mapped_column(String(128), ForeignKey("parties.party_id"), index=True)
    production_date: Mapped[date] = mapped_column(Date)
    quantity: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(20))
    entry_index: Mapped[int] = mapped_column(BigInteger)
