"""Master data elements: projections of ``masterdata.location``, ``masterdata.product`` and
``masterdata.party`` entries. The latest entry about an element wins; the table is
rebuildable from the log like every projection."""

from __future__ import annotations

from sqlalchemy import BigInteger, Float, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from foodtrace.store.base import Base


class MasterDataElement(Base):
    __tablename__ = "masterdata_elements"

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    element_id: Mapped[str] = mapped_column(String(300), primary_key=True)
    key: Mapped[str] = mapped_column(String(14), index=True)
    name: Mapped[str | None] = mapped_column(String(200))
    category: Mapped[str | None] = mapped_column(String(100))
    specification: Mapped[str | None] = mapped_column(String(200))
    street: Mapped[str | None] = mapped_column(String(300))
    city: Mapped[str | None] = mapped_column(String(100))
    country_code: Mapped[str | None] = mapped_column(String(2))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    body: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(128), index=True)
    entry_index: Mapped[int] = mapped_column(BigInteger)
