"""The ``draws`` table: a projection of ``draw.commit`` and ``draw.result`` entries."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from foodtrace.store.base import Base


class Draw(Base):
    __tablename__ = "draws"

    draw_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    period: Mapped[str] = mapped_column(String(32), index=True)
    block_number: Mapped[int] = mapped_column(BigInteger)
    commitment: Mapped[dict[str, Any]] = mapped_column(JSON)  # the draw.commit body
    committed_by: Mapped[str] = mapped_column(String(128))
    commit_entry_index: Mapped[int] = mapped_column(BigInteger)
    block_hash: Mapped[str | None] = mapped_column(String(66))
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # the draw.result body
    result_entry_index: Mapped[int | None] = mapped_column(BigInteger)
