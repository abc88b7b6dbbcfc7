"""What one scan run has verified, shared by every code of the run under the pins it was
verified with.

A code's own records are always checked in full: entry, leaf hash, inclusion proof, the
author's signature, consistency with what this client saw. What many codes share is
verified once per run instead: the log key's hash on chain (and its rotations), the roots
the contract anchored (a size is anchored once: ``anchor`` refuses a size not above the
latest), checkpoint notes signed by a key the chain vouches for, author keys established
from logged registrations, and consistency proofs tying one tree to a later one.

Each fact is held under the :class:`Pins` it was verified with: authority keys, log key,
RPC URL, contract and log. A scanner with any other pin starts from nothing, so what was
verified against one chain, contract or key is never taken as verified against another.
Author keys are also kept apart by revocation mode: one established without reading the
log's own revocations is not one established with them.

Not kept: a size found unanchored and the latest anchor (a later anchor changes them), a
failed chain read (the node may come back), anything about a code's own records.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from foodtrace.scanner.authors import AuthorKey
from foodtrace.scanner.chain import ChainReads, ContractReader
from foodtrace.scanner.logkeys import KeyDecisions
from foodtrace.trace.checkpoint import Checkpoint


@dataclass(frozen=True)
class Pins:
    """Everything a scan trusts, as the key its verified facts are held under."""

    authority_keys: tuple[bytes, ...]  # raw Ed25519 public keys, in the order pinned
    log_key: str
    rpc_url: str
    contract: str  # lower-case hex: the same contract however the address is spelled
    log: bytes

    @classmethod
    def of(
        cls, authority_keys: Sequence[Ed25519PublicKey], log_key: str, anchors: ContractReader
    ) -> Pins:
        return cls(
            tuple(k.public_bytes(Encoding.Raw, PublicFormat.Raw) for k in authority_keys),
            log_key,
            anchors.rpc.url,
            anchors.address.lower(),
            anchors.log,
        )


@dataclass
class PinnedFacts:
    """The facts verified under one set of pins."""

    chain: ChainReads = field(default_factory=ChainReads)
    log_keys: KeyDecisions = field(default_factory=KeyDecisions)
    # A checkpoint note (its exact text: origin, size, root, signatures) signed by one of the
    # accepted log keys, by (note, accepted keys).
    signed_notes: dict[tuple[str, tuple[str, ...]], Checkpoint] = field(default_factory=dict)
    # (size, root, size, root) of two trees a verified consistency proof ties.
    tied: set[tuple[int, bytes, int, bytes]] = field(default_factory=set)
    # Author keys by revocation mode (True: checked against the log's own revocations).
    _author_keys: dict[bool, dict[tuple[str, str], AuthorKey]] = field(
        default_factory=lambda: {False: {}, True: {}}
    )

    def author_keys(self, revocations_from_log: bool) -> dict[tuple[str, str], AuthorKey]:
        return self._author_keys[revocations_from_log]


class Facts:
    """A run's verified facts, one :class:`PinnedFacts` per set of pins (thread-safe: a
    folder's codes are verified in parallel)."""

    def __init__(self) -> None:
        self._by_pins: dict[Pins, PinnedFacts] = {}
        self._lock = threading.Lock()

    def under(self, pins: Pins) -> PinnedFacts:
        with self._lock:
            found = self._by_pins.get(pins)
            if found is None:
                found = self._by_pins[pins] = PinnedFacts()
            return found
