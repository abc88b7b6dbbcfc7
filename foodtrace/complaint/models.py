"""The ``complaints`` table: a projection of ``complaint`` entries plus what stays off the log.

The entry holds only salted commitments to the description and the contact. The description
and its salt sit here (regulators need the text; the salt lets anyone holding it check the
log); the contact goes to ``personal_data`` (shared with health certificates) so that it can
be erased (PIPL) like any other personal data, leaving every proof intact.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from foodtrace.store.base import Base


class Complaint(Base):
    __tablename__ = "complaints"

    tracking_number: Mapped[str] = mapped_column(String(24), primary_key=True)
    merchant_id: Mapped[str] = mapped_column(String(128), index=True)
    category: Mapped[str] = mapped_column(String(32))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    description_commitment: Mapped[str] = mapped_column(String(64))
    description: Mapped[str | None] = mapped_column(Text)
    description_salt: Mapped[bytes | None] = mapped_column(LargeBinary(64))
    contact_commitment: Mapped[str | None] = mapped_column(String(64))
    entry_index: Mapped[int] = mapped_column(BigInteger)
    responded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    responded_by: Mapped[str | None] = mapped_column(String(128))
    response_note: Mapped[str | None] = mapped_column(Text)
    response_entry_index: Mapped[int | None] = mapped_column(BigInteger)
    feedback_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    feedback_by: Mapped[str | None] = mapped_column(String(128))
    feedback_note: Mapped[str | None] = mapped_column(Text)
    feedback_entry_index: Mapped[int | None] = mapped_column(BigInteger)
