"""The log key as the chain pins it: one definition of which bytes are hashed.

TraceAnchor keeps, per log, ``logKeyHash(logId)``: the SHA-256 of the **32 raw bytes of the
log's Ed25519 public key**, the key inside the C2SP verifier-key string
``name+hex(keyID)+base64(0x01‖pubkey)`` after its 0x01 type byte. The raw key (not the vkey
string) is hashed so that a browser, a scanner or a Solidity test computes the same value
without re-serialising a string; the key's name is already bound by the log id (SHA-256 of
the origin line), and the checkpoint key ID binds name and key together.

Readers compare the key they verify checkpoints with against the chain with
:func:`check_log_key`; a mismatch raises :class:`~foodtrace.trace.errors.CheckpointError`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from foodtrace.trace import keys
from foodtrace.trace.checkpoint import VerifierKey, parse_verifier_key
from foodtrace.trace.errors import CheckpointError

NO_KEY = b"\x00" * 32  # what the contract returns for a log it does not know


def log_id(origin: str) -> bytes:
    """A log's id on the chain: SHA-256 of its checkpoint origin line (UTF-8)."""
    return hashlib.sha256(origin.encode("utf-8")).digest()


def log_key_hash(key: str | VerifierKey | Ed25519PublicKey | Ed25519PrivateKey) -> bytes:
    """SHA-256 of the raw 32-byte Ed25519 public key of the log (given as a verifier-key
    string, a parsed verifier key, or the key itself)."""
    if isinstance(key, str):
        key = parse_verifier_key(key)
    if isinstance(key, VerifierKey):
        key = key.public_key
    return hashlib.sha256(keys.public_bytes(key)).digest()


def check_log_key(vkey: str | VerifierKey, on_chain: bytes) -> None:
    """Raise unless ``on_chain`` (the contract's ``logKeyHash``) pins ``vkey``."""
    parsed = parse_verifier_key(vkey) if isinstance(vkey, str) else vkey
    if bytes(on_chain) == NO_KEY:
        raise CheckpointError(f"the chain pins no key for log {parsed.name!r}")
    expected = log_key_hash(parsed)
    if bytes(on_chain) != expected:
        raise CheckpointError(
            f"log key mismatch: the chain pins key hash 0x{bytes(on_chain).hex()}, "
            f"but the verifier key in use hashes to 0x{expected.hex()}"
        )


def announced_keys(
    pinned: bytes, rotations: Sequence[tuple[bytes, bytes]], on_chain: bytes
) -> list[bytes]:
    """The key hashes the chain announced from ``pinned`` on, oldest first, ending with
    ``on_chain`` (the contract's current ``logKeyHash``).

    ``rotations`` are the log's ``LogKeyRotated(old, new)`` events in chain order. The contract
    emits each with ``old`` the key it replaces, so they form one line of keys; ``pinned``
    must lie on it (the registered key or a later one) and the line must end at ``on_chain``.
    A key the chain never announced after the pin is in no such line: raises
    :class:`~foodtrace.trace.errors.CheckpointError`."""
    if bytes(on_chain) == NO_KEY:
        raise CheckpointError("the chain pins no key for this log")
    line: list[bytes] = [rotations[0][0]] if rotations else [bytes(on_chain)]
    for old, new in rotations:
        if old != line[-1]:
            raise CheckpointError(
                f"LogKeyRotated replaces 0x{old.hex()}, but the key then pinned was "
                f"0x{line[-1].hex()}: the chain's key history does not link"
            )
        line.append(new)
    if line[-1] != bytes(on_chain):
        raise CheckpointError(
            f"the chain's key history ends at 0x{line[-1].hex()}, but it pins "
            f"0x{bytes(on_chain).hex()}"
        )
    if pinned not in line:
        raise CheckpointError(
            f"log key mismatch: the chain pins key hash 0x{bytes(on_chain).hex()}, but the "
            f"pinned log key hashes to 0x{pinned.hex()}, a key the chain never pinned for this "
            "log (no LogKeyRotated links the two)"
        )
    return list(dict.fromkeys(line[line.index(pinned) :]))
