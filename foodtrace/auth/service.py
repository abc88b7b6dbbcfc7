"""Issue, authenticate and revoke API tokens: plain functions over a session.

Tokens are 32 random bytes, so a fast hash is enough: nothing can be guessed from SHA-256
of 256 random bits, and no slow KDF is needed. The public prefix finds the row; the hash is
compared in constant time. Functions flush but do not commit: the caller owns the
transaction.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from foodtrace.auth.models import TOKEN_PREFIX_CHARS, ApiToken, Principal, Role

TOKEN_SCHEME = "ft_"
TOKEN_RANDOM_BYTES = 32
_TOKEN_CHARS = len(TOKEN_SCHEME) + 43  # base64url of 32 bytes, unpadded
_URLSAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(session: Session, party_id: str, role: Role | str, label: str = "") -> str:
    """Create a token for ``party_id`` with ``role`` and return its plaintext, which is not
    stored anywhere: show it once."""
    role = Role(role)
    token = TOKEN_SCHEME + secrets.token_urlsafe(TOKEN_RANDOM_BYTES)
    session.add(
        ApiToken(
            party_id=party_id,
            role=role.value,
            prefix=token[:TOKEN_PREFIX_CHARS],
            token_hash=token_hash(token),
            created_at=datetime.now(UTC),
            label=label,
        )
    )
    session.flush()
    return token


def authenticate(session: Session, token: str) -> Principal | None:
    """The principal a live token acts for, or None for an unknown, malformed or revoked
    token."""
    if len(token) != _TOKEN_CHARS or not token.startswith(TOKEN_SCHEME):
        return None
    if not _URLSAFE.issuperset(token[len(TOKEN_SCHEME) :]):
        return None
    digest = token_hash(token)
    candidates = session.scalars(
        select(ApiToken).where(
            ApiToken.prefix == token[:TOKEN_PREFIX_CHARS], ApiToken.revoked_at.is_(None)
        )
    )
    for row in candidates:
        if hmac.compare_digest(row.token_hash, digest):
            return Principal(party_id=row.party_id, role=Role(row.role), token_id=row.id)
    return None


def revoke(session: Session, token_id: int, *, party_id: str | None = None) -> bool:
    """Revoke a token; True if it was live. With ``party_id``, only that party's token."""
    row = session.get(ApiToken, token_id)
    if row is None or row.revoked_at is not None:
        return False
    if party_id is not None and row.party_id != party_id:
        return False
    row.revoked_at = datetime.now(UTC)
    session.flush()
    return True


def list_tokens(session: Session, party_id: str) -> Sequence[ApiToken]:
    """A party's tokens, oldest first (prefix and label tell them apart; no secrets)."""
    return session.scalars(
        select(ApiToken).where(ApiToken.party_id == party_id).order_by(ApiToken.id)
    ).all()
