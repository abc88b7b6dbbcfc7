"""The ``platform.key.register`` entry type: its body, its projection, and which platform
keys the log has registered (the resolver's evidence and the write path read it)."""

from __future__ import annotations

from collections.abc import Iterable

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from foodtrace.auth.models import Role
from foodtrace.record.registry import ProjectionError, conflict, register_type
from foodtrace.store.models import LogEntry
from foodtrace.trace import entry as entry_mod
from foodtrace.trace import keys
from foodtrace.trace.entry import Entry
from foodtrace.trace.errors import SignatureError
from foodtrace.trace.platform_note import REGISTER_TYPE, countersign


class PlatformKeyBody(BaseModel):
    """``platform.key.register``: the platform's key, self-signed, with the log key's
    countersignature (a signed note naming it, :func:`foodtrace.trace.platform_note.note_body`)."""

    model_config = ConfigDict(extra="forbid")

    party_id: str = Field(min_length=1, max_length=128, description="The platform's author id")
    public_key: str = Field(min_length=1, max_length=64, description="Ed25519, base64")
    log_note: str = Field(min_length=1, max_length=2000, description="The log key's note")


def registration(
    author: str, key: Ed25519PrivateKey, origin: str, log_key: Ed25519PrivateKey
) -> Entry:
    """The entry registering ``key`` as ``author``'s: signed by the key itself and
    countersigned by the log key ``log_key`` of the log ``origin``."""
    public = keys.public_to_b64(key)
    body = PlatformKeyBody(
        party_id=author, public_key=public, log_note=countersign(origin, author, public, log_key)
    )
    return entry_mod.sign(key, type=REGISTER_TYPE, author=author, body=body.model_dump())


def registered(session: Session, author: str, key_ids: Iterable[str]) -> dict[str, int]:
    """``key_id → index`` of the first logged registration of each of ``author``'s keys."""
    wanted = sorted(set(key_ids))
    if not wanted:
        return {}
    rows = session.execute(
        select(LogEntry.key_id, func.min(LogEntry.leaf_index))
        .where(
            LogEntry.type == REGISTER_TYPE,
            LogEntry.author == author,
            LogEntry.key_id.in_(wanted),
        )
        .group_by(LogEntry.key_id)
    )
    return {str(k): int(i) for k, i in rows}


def project_registration(session: Session, index: int, entry: Entry) -> None:
    """A registration must name its own signing key; one per key (several workers starting
    at once race to register it: the later group is refused and retried without it)."""
    body = PlatformKeyBody.model_validate(entry.body)
    if body.party_id != entry.author:
        raise ProjectionError(422, [("party_id", "a platform key registers itself")])
    try:
        kid = keys.key_id(keys.public_from_b64(body.public_key))
    except SignatureError as exc:
        raise ProjectionError(422, [("public_key", f"not an Ed25519 key: {exc}")]) from exc
    if kid != entry.key:
        raise ProjectionError(422, [("public_key", "the entry must be signed by the key")])
    earlier = session.scalar(
        select(LogEntry.leaf_index).where(
            LogEntry.type == REGISTER_TYPE,
            LogEntry.author == entry.author,
            LogEntry.key_id == kid,
            LogEntry.leaf_index < index,
        )
    )
    if earlier is not None:
        raise conflict("public_key", f"key {kid} is already registered in entry {earlier}")


register_type(
    REGISTER_TYPE,
    roles=frozenset({Role.REGULATOR}),
    project=project_registration,
    body=PlatformKeyBody,
)
