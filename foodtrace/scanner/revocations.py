"""Revocations as the log proves them, not as the server says.

A key revocation is a logged entry (``party.key.revoke``). The server lists, for each key,
the entry that revoked it; the scanner proves that entry like any record, so a revocation it
is shown cannot be faked. What a Merkle log of entries cannot give is a short proof that an
entry is *absent*: this log has no index by key (no verifiable map), so "key K was never
revoked before size n" is proved only by the entries themselves. :func:`from_entries` does
exactly that: given every entry of a checkpoint's tree (fetched as tlog-tiles entry bundles)
it recomputes the root, so no entry can be left out or changed, and collects every
revocation in them. That costs the whole log once per run: sound and complete, and meant for
auditors and small logs (``foodtrace-scan --revocations log``), not for every phone scan.

Licences are revoked the same way (``licence.revoke`` names the licence number): the same
pass collects them, so a merchant's page that shows a licence as valid while the log revokes
it is caught too.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field

from foodtrace.trace.checkpoint import Checkpoint
from foodtrace.trace.errors import VerificationError
from foodtrace.trace.layout import TILE_WIDTH
from foodtrace.trace.merkle import leaf_hash, root

REVOKE = "party.key.revoke"
LICENCE_REVOKE = "licence.revoke"


class LogScanError(VerificationError):
    """The entries served do not make up the tree the checkpoint signs."""


@dataclass(frozen=True)
class Revocation:
    """A key revocation found in the log: the entry's index and when it says it was issued."""

    index: int
    party_id: str
    key_id: str
    issued_at: str


@dataclass(frozen=True)
class LogRevocations:
    """Every key revocation in the first ``size`` entries of the log (all of them checked
    against a signed checkpoint of that size)."""

    size: int
    keys: dict[tuple[str, str], Revocation] = field(default_factory=dict)
    licences: dict[str, LicenceRevocation] = field(default_factory=dict)

    def of(self, party_id: str, key_id: str) -> Revocation | None:
        return self.keys.get((party_id, key_id))

    def licence(self, number: str) -> LicenceRevocation | None:
        """The first revocation of licence ``number`` in the log (numbers compared as the
        server records them: trimmed, upper case)."""
        return self.licences.get(licence_number(number))


@dataclass(frozen=True)
class LicenceRevocation:
    """A licence revocation found in the log: the entry's index, when it says it was issued."""

    index: int
    number: str
    issued_at: str


def licence_number(text: str) -> str:
    return text.strip().upper()


def parse_bundle(data: bytes) -> list[bytes]:
    """The entries of a tlog-tiles entry bundle (each after its big-endian uint16 length)."""
    out, pos = [], 0
    while pos < len(data):
        if pos + 2 > len(data):
            raise LogScanError(f"entry bundle truncated at byte {pos}")
        length = int.from_bytes(data[pos : pos + 2], "big")
        if pos + 2 + length > len(data):
            raise LogScanError(f"entry bundle truncated in the entry at byte {pos}")
        out.append(data[pos + 2 : pos + 2 + length])
        pos += 2 + length
    return out


def bundle_widths(size: int) -> list[tuple[int, int]]:
    """``(tile index, width)`` of the entry bundles holding the first ``size`` entries."""
    full, rest = divmod(size, TILE_WIDTH)
    return [(i, TILE_WIDTH) for i in range(full)] + ([(full, rest)] if rest else [])


def from_entries(entries: Sequence[bytes], checkpoint: Checkpoint) -> LogRevocations:
    """The revocations among ``entries``, once they are proved to be the checkpoint's whole
    tree (their RFC 9162 root is the checkpoint's root, which the caller verified)."""
    if len(entries) != checkpoint.size:
        raise LogScanError(
            f"{len(entries)} entries served for a checkpoint of size {checkpoint.size}"
        )
    computed = root([leaf_hash(e) for e in entries])
    if computed != checkpoint.root:
        raise LogScanError(
            f"the {checkpoint.size} entries served hash to root {computed.hex()}, but the "
            f"checkpoint signs root {checkpoint.root.hex()}: entries were changed or left out"
        )
    found: dict[tuple[str, str], Revocation] = {}
    licences: dict[str, LicenceRevocation] = {}
    for index, data in enumerate(entries):
        if b'"party.key.revoke"' not in data and b'"licence.revoke"' not in data:
            continue  # most entries: no need to parse them
        try:
            entry = json.loads(data)
            body, kind, issued = entry["body"], entry.get("type"), str(entry["issued_at"])
            if kind == REVOKE:
                key = (str(body["party_id"]), str(body["key_id"]))
                found.setdefault(key, Revocation(index, key[0], key[1], issued))
            elif kind == LICENCE_REVOKE:
                number = licence_number(str(body["number"]))
                licences.setdefault(number, LicenceRevocation(index, number, issued))
        except (ValueError, KeyError, TypeError, AttributeError):
            continue  # a malformed entry revokes nothing
    return LogRevocations(checkpoint.size, found, licences)
