"""The log's tables: entries, tree tiles, signed checkpoints and the authors' public keys.

An entry's leaf hash is stored once, as a bottom hash of its level-0 tile (see
:mod:`foodtrace.trace.layout`); keeping a second copy in ``entries`` would cost a quarter
of the append rate and add nothing an audit does not already recompute from ``data``.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import BigInteger, DateTime, Integer, LargeBinary, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from foodtrace.store.base import Base

# SQLite only makes a rowid alias (fast appends, no second index) of "INTEGER PRIMARY KEY".
LogIndex = BigInteger().with_variant(Integer(), "sqlite")


class LogEntry(Base):
    """One appended entry: ``data`` is the exact leaf data (JCS of the entry with ``sig``)."""

    __tablename__ = "entries"

    leaf_index: Mapped[int] = mapped_column(LogIndex, primary_key=True, autoincrement=False)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    type: Mapped[str] = mapped_column(String(64))
    author: Mapped[str] = mapped_column(String(128))
    key_id: Mapped[str] = mapped_column(String(16))
    issued_at: Mapped[str] = mapped_column(String(40))


class LogTile(Base):
    """A tile of stored node hashes (layout in :mod:`foodtrace.trace.layout`)."""

    __tablename__ = "tiles"

    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    width: Mapped[int] = mapped_column(SmallInteger)
    hashes: Mapped[bytes] = mapped_column(LargeBinary)


class LogCheckpoint(Base):
    """A checkpoint the log signed: ``note`` is the full C2SP signed note."""

    __tablename__ = "checkpoints"

    size: Mapped[int] = mapped_column(LogIndex, primary_key=True, autoincrement=False)
    root: Mapped[bytes] = mapped_column(LargeBinary(32))
    note: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=lambda: datetime.now(UTC)
    )


class AuthorKey(Base):
    """An author's Ed25519 public key and when it may sign entries."""

    __tablename__ = "author_keys"

    author: Mapped[str] = mapped_column(String(128), primary_key=True)
    key_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    valid_from: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    valid_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
