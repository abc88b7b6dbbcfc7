"""Projections of ``grid.define`` and ``grid.assign`` entries."""

from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from foodtrace.store.base import Base


class Grid(Base):
    """A grid: its name, its station, who answers for it and to whom it escalates."""

    __tablename__ = "grids"

    grid_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    station: Mapped[str] = mapped_column(String(200))
    officer: Mapped[str] = mapped_column(String(128), ForeignKey("parties.party_id"))
    grid_worker: Mapped[str] = mapped_column(String(128), ForeignKey("parties.party_id"))
    station_head: Mapped[str] = mapped_column(String(128), ForeignKey("parties.party_id"))
    entry_index: Mapped[int] = mapped_column(BigInteger)


class GridMember(Base):
    """A business's grid (one at a time: assigning it elsewhere moves it)."""

    __tablename__ = "grid_members"

    party_id: Mapped[str] = mapped_column(
        String(128), ForeignKey("parties.party_id"), primary_key=True
    )
    grid_id: Mapped[str] = mapped_column(String(64), ForeignKey("grids.grid_id"), index=True)
    entry_index: Mapped[int] = mapped_column(BigInteger)
