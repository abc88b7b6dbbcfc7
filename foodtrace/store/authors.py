"""Authors' public keys: registration, revocation, and the lookup that checks a signature's
key was valid when the entry says it was issued."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from foodtrace.store.models import AuthorKey
from foodtrace.trace import keys
from foodtrace.trace.errors import SignatureError


def utc(value: datetime | None) -> datetime | None:
    """Timestamps come back naive from SQLite: they were stored in UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@dataclass(frozen=True)
class KeyInfo:
    author: str
    key_id: str
    public_key: bytes
    valid_from: datetime
    valid_until: datetime | None = None
    revoked_at: datetime | None = None


def _info(row: AuthorKey) -> KeyInfo:
    valid_from = utc(row.valid_from)
    assert valid_from is not None
    return KeyInfo(
        row.author,
        row.key_id,
        bytes(row.public_key),
        valid_from,
        utc(row.valid_until),
        utc(row.revoked_at),
    )


def register_key(
    engine: Engine,
    author: str,
    public_key: Ed25519PublicKey | bytes | str,
    *,
    valid_from: datetime | None = None,
    valid_until: datetime | None = None,
) -> KeyInfo:
    """Register an author's public key (raw bytes, base64 text or a key object)."""
    if isinstance(public_key, str):
        public_key = keys.public_from_b64(public_key)
    raw = public_key if isinstance(public_key, bytes) else keys.public_bytes(public_key)
    if len(raw) != 32:
        raise SignatureError(f"an Ed25519 public key is 32 bytes, got {len(raw)}")
    row = AuthorKey(
        author=author,
        key_id=keys.key_id(raw),
        public_key=raw,
        valid_from=(valid_from or datetime(1970, 1, 1, tzinfo=UTC)).astimezone(UTC),
        valid_until=valid_until.astimezone(UTC) if valid_until else None,
        revoked_at=None,
    )
    with Session(engine) as session, session.begin():
        existing = session.get(AuthorKey, (author, row.key_id))
        if existing is not None:
            raise ValueError(f"author {author} already has key {row.key_id}")
        session.add(row)
        session.flush()
        return _info(row)


def revoke_key(engine: Engine, author: str, key_id: str, at: datetime | None = None) -> KeyInfo:
    with Session(engine) as session, session.begin():
        row = session.get(AuthorKey, (author, key_id))
        if row is None:
            raise LookupError(f"author {author} has no key {key_id}")
        row.revoked_at = (at or datetime.now(UTC)).astimezone(UTC)
        session.flush()
        return _info(row)


@dataclass
class KeyTable:
    """A snapshot of ``author_keys``, small enough to hand to verification workers."""

    keys: dict[tuple[str, str], KeyInfo]
    now: datetime = field(default_factory=lambda: datetime.now(UTC))

    @classmethod
    def load(cls, engine: Engine) -> KeyTable:
        with Session(engine) as session:
            rows = session.scalars(select(AuthorKey)).all()
            return cls({(r.author, r.key_id): _info(r) for r in rows})

    def check(self, author: str, key_id: str, issued_at: datetime) -> bytes:
        """The raw public key, if ``author`` may sign with ``key_id`` at ``issued_at``."""
        info = self.keys.get((author, key_id))
        if info is None:
            raise SignatureError(f"author {author} has no registered key {key_id}")
        if info.revoked_at is not None and info.revoked_at <= max(issued_at, self.now):
            raise SignatureError(
                f"key {key_id} of author {author} was revoked at {info.revoked_at.isoformat()}"
            )
        if issued_at < info.valid_from:
            raise SignatureError(
                f"key {key_id} of author {author} is valid from {info.valid_from.isoformat()}, "
                f"the entry was issued at {issued_at.isoformat()}"
            )
        if info.valid_until is not None and issued_at >= info.valid_until:
            raise SignatureError(
                f"key {key_id} of author {author} expired at {info.valid_until.isoformat()}, "
                f"the entry was issued at {issued_at.isoformat()}"
            )
        return info.public_key

    def lookup(self, author: str, key_id: str, issued_at: datetime) -> Ed25519PublicKey:
        """A :data:`foodtrace.trace.entry.KeyLookup`."""
        return Ed25519PublicKey.from_public_bytes(self.check(author, key_id, issued_at))
