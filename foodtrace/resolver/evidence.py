"""Everything a scanner needs to verify a code, in the resolver's one JSON answer.

A scanner trusts nothing we say, so it verifies each record to the chain and each author's
signature with the key the author registered, itself a logged entry signed by its registrar,
up to the regulator's self-signed registration; and a revocation is a logged entry too.
Asking for each of those separately costs a round trip per record, per party and per key
registration (twelve for a demo lot code). Here the resolver answers them all at once: the
key list of every author in the chain of registrations, and the registration and revocation
entries with their inclusion proofs, proved in the same checkpoints as the page's records.
The platform's own key is registered by a logged ``platform.key.register`` entry
(:mod:`foodtrace.platformkey`), which is evidence of the same kind.
Nothing here is trusted by the scanner: it is evidence, checked like the records are.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from foodtrace.party import service as parties
from foodtrace.platformkey.service import registered
from foodtrace.store.checkpoints import SignedCheckpoint
from foodtrace.store.log import MerkleLog
from foodtrace.store.models import LogEntry

MAX_KEY_DEPTH = 5  # author → registrar → ... → the regulator's self-signed registration


@dataclass(frozen=True)
class KeyEvidence:
    """One author key as the server records it: the entry registering it and the entry
    revoking it (if any). The scanner proves both entries; it cannot prove absence this way
    (see :mod:`foodtrace.scanner.revocations`)."""

    party_id: str
    key_id: str
    entry_index: int
    revoked_entry_index: int | None

    def to_json(self) -> dict[str, Any]:
        return {
            "party_id": self.party_id,
            "key_id": self.key_id,
            "entry_index": self.entry_index,
            "revoked_entry_index": self.revoked_entry_index,
        }


def author_keys(session: Session, records: Iterable[int]) -> list[KeyEvidence]:
    """The keys that signed ``records``, the keys that signed their registrations, and so on
    up to self-signed ones: one query per level of the chain (usually two levels), joining
    each entry's indexed author and key (the log writes them with the entry) to the keys."""
    found: dict[tuple[str, str], KeyEvidence] = {}
    indices = set(records)
    for _ in range(MAX_KEY_DEPTH):
        if not indices:
            break
        rows = parties.signing_keys(session, indices)
        indices = set()
        for party_id, key_id, entry_index, revoked in rows:
            if (party_id, key_id) in found:
                continue
            found[(party_id, key_id)] = KeyEvidence(party_id, key_id, int(entry_index), revoked)
            indices.add(int(entry_index))
    return sorted(found.values(), key=lambda k: (k.party_id, k.key_id))


def platform_signed(session: Session, records: Iterable[int], platform: str) -> dict[int, str]:
    """``index → key_id`` of the records signed by the platform's own key (recall notices
    and the like)."""
    return {
        int(i): str(k)
        for i, k in session.execute(
            select(LogEntry.leaf_index, LogEntry.key_id).where(
                LogEntry.leaf_index.in_(sorted(set(records))), LogEntry.author == platform
            )
        )
    }


def platform_keys(session: Session, signed: dict[int, str], platform: str) -> list[KeyEvidence]:
    """The platform keys behind ``signed`` (:func:`platform_signed`), each with the first
    logged ``platform.key.register`` entry registering it (self-signed, countersigned by the
    log key), which the scanner proves like any key registration. A key the log does not
    register is left out: its records then fail the scanner's author step, as they must."""
    found = registered(session, platform, signed.values())
    return [KeyEvidence(platform, kid, index, None) for kid, index in sorted(found.items())]


def evidence_indices(keys: Iterable[KeyEvidence]) -> set[int]:
    """The log entries that prove ``keys``: each registration and each revocation."""
    out: set[int] = set()
    for k in keys:
        out.add(k.entry_index)
        if k.revoked_entry_index is not None:
            out.add(k.revoked_entry_index)
    return out


def latest(log: MerkleLog, cp: SignedCheckpoint, note: str, sizes: Iterable[int]) -> dict[str, Any]:
    """The log's latest checkpoint ``cp`` (its ``note``, cosigned), with a consistency proof
    to it from each of ``sizes`` (the checkpoints the records are proved in, usually the
    anchored one): a scanner checks the latest against what it saw before (catching a fork)
    without another round trip."""
    return {
        "checkpoint": note,
        "consistency": {
            str(size): [base64.b64encode(h).decode() for h in log.consistency_proof(size, cp.size)]
            for size in sorted(set(sizes))
            if 0 < size < cp.size
        },
    }
