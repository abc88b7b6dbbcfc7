"""Test reports: projections of ``report.issue`` entries (the PDF is a blob on disk)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Date, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from foodtrace.store.base import Base


class Report(Base):
    __tablename__ = "reports"
    __table_args__ = (
        # Failed reports about the lots a business handled (foodtrace.grading.inputs).
        Index(
            "ix_reports_lot_conclusion", "subject_gtin", "subject_lot", "conclusion", "tested_on"
        ),
    )

    report_number: Mapped[str] = mapped_column(String(64), primary_key=True)
    lab: Mapped[str] = mapped_column(String(128), ForeignKey("parties.party_id"), index=True)
    subject_kind: Mapped[str] = mapped_column(String(8))  # "lot" or "party"
    subject_gtin: Mapped[str | None] = mapped_column(String(14))
    subject_lot: Mapped[str | None] = mapped_column(String(20))
    subject_party: Mapped[str | None] = mapped_column(String(128), index=True)
    tested_on: Mapped[date] = mapped_column(Date)
    conclusion: Mapped[str] = mapped_column(String(8))
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    pdf_sha256: Mapped[str] = mapped_column(String(64))
    pdf_size: Mapped[int] = mapped_column(Integer)
    entry_index: Mapped[int] = mapped_column(BigInteger)


class BlobUpload(Base):
    """Who uploaded which file, how large and when: the per-party quota is the sum of a
    party's rows, and a file no record names is collected once its newest upload is older
    than the grace period. Not a projection of the log: uploads are not records."""

    __tablename__ = "blob_uploads"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    party: Mapped[str] = mapped_column(String(128), primary_key=True, index=True)
    media_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
