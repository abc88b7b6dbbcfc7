"""Parties, their keys and licences: projections of ``party.*`` and ``licence.*`` entries.

Public keys themselves live in ``author_keys`` (the log checks signatures there);
``party_keys`` remembers which entries registered and revoked each.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from foodtrace.store.base import Base


class Party(Base):
    __tablename__ = "parties"

    party_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    credit_code: Mapped[str] = mapped_column(String(18), unique=True)
    gln: Mapped[str | None] = mapped_column(String(13))
    region: Mapped[str | None] = mapped_column(String(100))
    grid: Mapped[str | None] = mapped_column(String(100))
    address: Mapped[str | None] = mapped_column(String(300))
    entry_index: Mapped[int] = mapped_column(BigInteger)


class PartyKey(Base):
    __tablename__ = "party_keys"

    party_id: Mapped[str] = mapped_column(
        String(128), ForeignKey("parties.party_id"), primary_key=True
    )
    key_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    public_key: Mapped[str] = mapped_column(String(44))
    entry_index: Mapped[int] = mapped_column(BigInteger)
    revoked_entry_index: Mapped[int | None] = mapped_column(BigInteger)


class Licence(Base):
    __tablename__ = "licences"

    number: Mapped[str] = mapped_column(String(18), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    holder: Mapped[str] = mapped_column(String(128), ForeignKey("parties.party_id"), index=True)
    scope: Mapped[str] = mapped_column(Text)
    issuer: Mapped[str] = mapped_column(String(200))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date)
    revoked_on: Mapped[date | None] = mapped_column(Date)
    revoke_reason: Mapped[str | None] = mapped_column(Text)
    entry_index: Mapped[int] = mapped_column(BigInteger)
    revoked_entry_index: Mapped[int | None] = mapped_column(BigInteger)
