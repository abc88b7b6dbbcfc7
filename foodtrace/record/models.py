"""Keys the server holds for parties that chose custodial signing, encrypted at rest."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from foodtrace.store.base import Base


class CustodialKey(Base):
    """A party's Ed25519 private key, AES-256-GCM encrypted under the server's master key.

    The key only signs once its public half is registered in ``author_keys`` (by a
    ``party.register`` or ``party.key.register`` entry); a row whose key never got there,
    or whose key was revoked, is never used.
    """

    __tablename__ = "custodial_keys"

    party_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    key_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    nonce: Mapped[bytes] = mapped_column(LargeBinary(12))
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
