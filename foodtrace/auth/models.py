"""The ``api_tokens`` and ``enrolment_codes`` tables, the roles a token may carry, and the
authenticated principal."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from foodtrace.store.base import Base


class Role(StrEnum):
    """What a token may do. ``producer`` covers every supply-chain party (producer,
    processor, logistics, retailer, restaurant): they all write their own records."""

    REGULATOR = "regulator"
    INSPECTOR = "inspector"
    LAB = "lab"
    PRODUCER = "producer"


_KIND_ROLE = {
    "regulator": Role.REGULATOR,
    "inspector": Role.INSPECTOR,
    "lab": Role.LAB,
    "producer": Role.PRODUCER,
    "processor": Role.PRODUCER,
    "logistics": Role.PRODUCER,
    "retailer": Role.PRODUCER,
    "restaurant": Role.PRODUCER,
}


def role_for_party_kind(kind: str) -> Role:
    """The role a party of this kind gets; raises ``ValueError`` naming the known kinds."""
    try:
        return _KIND_ROLE[kind]
    except KeyError:
        known = sorted(_KIND_ROLE)
        raise ValueError(f"unknown party kind {kind!r}, expected one of {known}") from None


TOKEN_PREFIX_CHARS = 11  # "ft_" and 8 random characters: public, for lookup and listings


class ApiToken(Base):
    """A party's API token. Only its SHA-256 is kept; the plaintext is shown once.

    ``party_id`` is the party's id as it appears in entries (``author``); it carries no
    foreign key so tokens do not depend on how parties are stored. ``last_used_at`` is
    refreshed at most once a minute (see :data:`foodtrace.auth.service.LAST_USED_EVERY`).
    ``activated_at`` is set when the token's ``token.event`` is integrated into the log (by
    its projector, in the log's transaction): until then the row exists but authenticates
    nothing, so a token is never usable without its entry.
    """

    __tablename__ = "api_tokens"
    __table_args__ = (
        CheckConstraint(f"role IN ({', '.join(repr(r.value) for r in Role)})", name="role_known"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    party_id: Mapped[str] = mapped_column(String(128), index=True)
    role: Mapped[str] = mapped_column(String(16))
    prefix: Mapped[str] = mapped_column(String(TOKEN_PREFIX_CHARS), index=True)
    token_hash: Mapped[str] = mapped_column(String(64))  # hex SHA-256 of the whole token
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    name: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    activated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)


class EnrolmentCode(Base):
    """A one-time code a regulator hands a party so it can fetch its own token. Only its
    SHA-256 is kept; it is looked up by party, so it needs no public prefix."""

    __tablename__ = "enrolment_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    party_id: Mapped[str] = mapped_column(String(128), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # When it was exchanged for a token (set with the enrolment's entry): no longer usable.
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    # When it was superseded by a newer code: no longer usable.
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    # When its token.event was integrated into the log (set by the event's projector): until
    # then the row opens nothing, so a code is never usable without its entry.
    activated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)


@dataclass(frozen=True)
class Principal:
    """Who an authenticated request acts for."""

    party_id: str
    role: Role
    token_id: int
