"""Scan counts per code. No personal data: no address, no device, no time finer than the
counting bucket beyond the first and last scan; a place is a coarse region code the caller
supplies (a city or province), never an IP address."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from foodtrace.store.base import Base

CODE_KEY_MAX = 128
REGION_MAX = 32


class ScanCount(Base):
    """One code: how often and from how many places it was scanned, and whether it is a
    suspected clone (sticky: a clone found stays listed for inspectors)."""

    __tablename__ = "scan_counts"

    code_key: Mapped[str] = mapped_column(String(CODE_KEY_MAX), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    scans: Mapped[int] = mapped_column(BigInteger)
    places: Mapped[int] = mapped_column(Integer)
    first_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    suspect: Mapped[bool] = mapped_column(Boolean, index=True)
    reason: Mapped[str | None] = mapped_column(Text)
    flagged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ScanPlace(Base):
    """A distinct place a code was scanned from."""

    __tablename__ = "scan_places"

    code_key: Mapped[str] = mapped_column(String(CODE_KEY_MAX), primary_key=True)
    region: Mapped[str] = mapped_column(String(REGION_MAX), primary_key=True)


class ScanBucket(Base):
    """Scans of a serial code in one time bucket (``bucket`` = epoch seconds // width)."""

    __tablename__ = "scan_buckets"

    code_key: Mapped[str] = mapped_column(String(CODE_KEY_MAX), primary_key=True)
    bucket: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    scans: Mapped[int] = mapped_column(Integer)
