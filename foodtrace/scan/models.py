"""Scan counts per code, and the short-lived sightings clone detection needs. No personal
data: no address, no device; a network is a keyed hash of an IPv4 /24 or IPv6 /48, kept only
while it can still count towards a flag (one detection window), then deleted."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from foodtrace.scan.rules import NETWORK_ID_HEX
from foodtrace.store.base import Base

CODE_KEY_MAX = 128


class ScanCount(Base):
    """One code: how often it was scanned and, for a serial code, whether it was flagged as
    a suspected clone (``flagged_at``), from how many networks, and whether an inspector
    cleared the flag since (``cleared_at``; the clearing is a logged entry)."""

    __tablename__ = "scan_counts"

    code_key: Mapped[str] = mapped_column(String(CODE_KEY_MAX), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    scans: Mapped[int] = mapped_column(BigInteger)
    places: Mapped[int] = mapped_column(Integer)  # networks in the window when last assessed
    first_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    suspect: Mapped[bool] = mapped_column(Boolean, index=True)  # flagged, not cleared
    reason: Mapped[str | None] = mapped_column(Text)
    flagged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cleared_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cleared_by: Mapped[str | None] = mapped_column(String(128))
    cleared_entry: Mapped[int | None] = mapped_column(BigInteger)


class ScanSighting(Base):
    """A serial code seen from one network (keyed hash), when last and how often; deleted
    once older than the detection window."""

    __tablename__ = "scan_sightings"

    code_key: Mapped[str] = mapped_column(String(CODE_KEY_MAX), primary_key=True)
    network: Mapped[str] = mapped_column(String(NETWORK_ID_HEX), primary_key=True)
    last_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    scans: Mapped[int] = mapped_column(Integer)
