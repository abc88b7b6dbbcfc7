"""Health certificates (projected from entries) and the erasable personal data they commit to.

``personal_data`` is the only table here that is not a projection of the log: it holds the
value and salt behind a commitment, so erasing a row (PIPL) leaves every entry and proof
intact.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, DateTime, ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from foodtrace.store.base import Base


class HealthCertificate(Base):
    __tablename__ = "health_certificates"

    certificate_number: Mapped[str] = mapped_column(String(64), primary_key=True)
    employer: Mapped[str] = mapped_column(String(128), ForeignKey("parties.party_id"), index=True)
    holder_commitment: Mapped[str] = mapped_column(String(64))
    id_commitment: Mapped[str | None] = mapped_column(String(64))
    issuer: Mapped[str] = mapped_column(String(200))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date)
    entry_index: Mapped[int] = mapped_column(BigInteger)


class PersonalData(Base):
    __tablename__ = "personal_data"

    commitment: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # "name", "id_number", "phone"
    value: Mapped[str | None] = mapped_column(Text)
    salt: Mapped[bytes | None] = mapped_column(LargeBinary(64))
    erased_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    erased_by: Mapped[str | None] = mapped_column(String(128))
