"""Custodial signing: private keys the server keeps for parties without a key file.

Keys are sealed with AES-256-GCM under a master key that never enters the database: the
environment variable ``FOODTRACE_MASTER_KEY`` (base64 of 32 bytes) or the file
``master_key_file`` (default ``data_dir/master.key``), created owner-only, atomically, only
while no key is sealed yet: once one is, a missing file is an error, never a new key. The
party id and key id are the associated data, so a sealed key copied to another party's row
does not open.
"""

from __future__ import annotations

import base64
import contextlib
import os
import secrets
from datetime import UTC, datetime

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import select
from sqlalchemy.orm import Session

from foodtrace.config import Settings
from foodtrace.record.models import CustodialKey
from foodtrace.store.authors import utc
from foodtrace.store.keyfiles import MASTER_KEY_ENV, missing
from foodtrace.store.models import AuthorKey
from foodtrace.trace import keys

MASTER_KEY_BYTES = 32
NONCE_BYTES = 12


class NoCustodialKey(LookupError):
    """The party has no server-held key that may sign now."""


def master_key(settings: Settings, *, may_create: bool = False) -> bytes:
    """The master key from the environment, else ``master_key_file``; made if absent only
    when ``may_create`` (nothing is sealed with it yet)."""
    text = os.environ.get(MASTER_KEY_ENV)
    if text:
        raw = base64.b64decode(text, validate=True)
        if len(raw) != MASTER_KEY_BYTES:
            raise ValueError(f"{MASTER_KEY_ENV}: expected base64 of 32 bytes, got {len(raw)}")
        return raw
    path = settings.resolved_master_key_file
    if not path.exists():
        if not may_create:
            raise missing(path, "master key", "custodial keys are sealed with it")
        with contextlib.suppress(FileExistsError):
            keys.write_new_file(path, base64.b64encode(secrets.token_bytes(MASTER_KEY_BYTES)))
    raw = base64.b64decode(path.read_bytes().strip(), validate=True)
    if len(raw) != MASTER_KEY_BYTES:
        raise ValueError(f"{path}: expected base64 of 32 bytes, got {len(raw)}")
    return raw


def _aad(party_id: str, key_id: str) -> bytes:
    return f"foodtrace.custodial.v1\x00{party_id}\x00{key_id}".encode()


def create_custodial_key(session: Session, party_id: str, settings: Settings) -> str:
    """Generate and seal a key for ``party_id``; returns its base64 public key, which a
    ``party.register`` / ``party.key.register`` entry must then register. Flushes only."""
    key = keys.generate()
    key_id = keys.key_id(key)
    raw = key.private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )
    nonce = secrets.token_bytes(NONCE_BYTES)
    first = session.scalars(select(CustodialKey.party_id).limit(1)).first() is None
    sealed = AESGCM(master_key(settings, may_create=first)).encrypt(
        nonce, raw, _aad(party_id, key_id)
    )
    session.add(
        CustodialKey(
            party_id=party_id,
            key_id=key_id,
            nonce=nonce,
            ciphertext=sealed,
            created_at=datetime.now(UTC),
        )
    )
    session.flush()
    return keys.public_to_b64(key)


def custodial_key(session: Session, party_id: str, settings: Settings) -> Ed25519PrivateKey:
    """The newest sealed key of ``party_id`` that is registered and neither revoked nor
    expired now."""
    now = datetime.now(UTC)
    rows = session.execute(
        select(CustodialKey, AuthorKey)
        .join(
            AuthorKey,
            (AuthorKey.author == CustodialKey.party_id) & (AuthorKey.key_id == CustodialKey.key_id),
        )
        .where(CustodialKey.party_id == party_id)
        .order_by(CustodialKey.created_at.desc())
    ).all()
    for sealed, registered in rows:
        until = utc(registered.valid_until)
        if registered.revoked_at is not None or (until is not None and until <= now):
            continue
        raw = AESGCM(master_key(settings)).decrypt(
            sealed.nonce, sealed.ciphertext, _aad(party_id, sealed.key_id)
        )
        return Ed25519PrivateKey.from_private_bytes(raw)
    raise NoCustodialKey(f"party {party_id} has no server-held signing key that is valid now")
