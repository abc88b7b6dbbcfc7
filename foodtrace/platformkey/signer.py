"""The platform's own signing key and its author row: what every write the platform signs
(complaints from the public, ratings, escalations, token events, recall notices, draws)
loads and registers before signing."""

from __future__ import annotations

from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.orm import Session

from foodtrace.config import Settings
from foodtrace.store.keyfiles import load_or_create_key
from foodtrace.store.models import AuthorKey
from foodtrace.trace import keys


def platform_key(settings: Settings) -> Ed25519PrivateKey:
    return load_or_create_key(settings.resolved_platform_key_file)


def ensure_platform_author(session: Session, author: str, key: Ed25519PrivateKey) -> None:
    """Register the platform's public key as an author key (once) so its entries verify like
    any other, and hand it to the write path, which logs its registration before the first
    entry it signs (:mod:`foodtrace.platformkey.writes`). Flushes only."""
    from foodtrace.platformkey.writes import remember

    remember(author, key)
    kid = keys.key_id(key)
    if session.get(AuthorKey, (author, kid)) is None:
        session.add(
            AuthorKey(
                author=author,
                key_id=kid,
                public_key=keys.public_bytes(key),
                valid_from=datetime.now(UTC),
                valid_until=None,
                revoked_at=None,
            )
        )
        session.flush()
