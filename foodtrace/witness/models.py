"""The log's record of the cosignatures its witnesses returned (one row per witness and
checkpoint size). Not trusted by readers: each line is verified by whoever reads it; the
table only lets the log serve them and know from which size to prove consistency next."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import BigInteger, DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from foodtrace.store.base import Base

LogIndex = BigInteger().with_variant(Integer(), "sqlite")


class WitnessCosignature(Base):
    __tablename__ = "witness_cosignatures"

    witness: Mapped[str] = mapped_column(String(255), primary_key=True)
    tree_size: Mapped[int] = mapped_column(LogIndex, primary_key=True, autoincrement=False)
    line: Mapped[str] = mapped_column(Text)
    """The signature line ``— <name> base64(keyID‖timestamp‖sig)``, without its newline."""
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=lambda: datetime.now(UTC)
    )
