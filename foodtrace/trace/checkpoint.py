"""Checkpoints in the C2SP tlog-checkpoint signed-note format.

A note is a body of lines, a blank line, and signature lines ``— <name> base64(keyID‖sig)``.
For Ed25519 (signature type 0x01) keyID is the first 4 bytes of
SHA-256(name ‖ 0x0A ‖ 0x01 ‖ pubkey), and verifier keys are written
``name+hex(keyID)+base64(0x01‖pubkey)``. The checkpoint body is the origin, the decimal
tree size and the base64 root, then optional extension lines.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from foodtrace.trace import keys
from foodtrace.trace.errors import CheckpointError
from foodtrace.trace.merkle import HASH_SIZE

ALG_ED25519 = 0x01
SIG_PREFIX = "\u2014 "  # em dash and a space
MAX_SIGNATURES = 100
_SIZE_RE = re.compile(r"^(0|[1-9][0-9]{0,19})$")


@dataclass(frozen=True)
class Checkpoint:
    """What a verified checkpoint says: which log, how many entries, which root."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = field(default=())

    def body(self) -> str:
        lines = [self.origin, str(self.size), base64.b64encode(self.root).decode()]
        return "\n".join([*lines, *self.extensions]) + "\n"


@dataclass(frozen=True)
class VerifierKey:
    name: str
    key_hash: bytes
    public_key: Ed25519PublicKey


def _valid_name(name: str) -> bool:
    return bool(name) and not any(c.isspace() or c == "+" for c in name)


def key_hash(name: str, public_key: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + bytes([ALG_ED25519]) + public_key).digest()[:4]


def verifier_key(name: str, key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """The verifier-key string ``name+hex(keyID)+base64(0x01‖pubkey)`` of a key."""
    if not _valid_name(name):
        raise ValueError(f"key name {name!r} must be non-empty with no spaces or '+'")
    raw = keys.public_bytes(key)
    blob = base64.b64encode(bytes([ALG_ED25519]) + raw).decode()
    return f"{name}+{key_hash(name, raw).hex()}+{blob}"


@lru_cache(maxsize=256)
def parse_verifier_key(text: str) -> VerifierKey:
    """The key a verifier-key string names, its key ID checked. Kept per text (the result
    is immutable): a scan parses the same pinned key for every code and every note."""
    parts = text.strip().split("+", 2)  # the base64 key itself may contain "+"
    if len(parts) != 3 or not _valid_name(parts[0]) or len(parts[1]) != 8:
        raise CheckpointError(f"malformed verifier key {text!r}: expected name+hex8+base64")
    name, hash_hex, b64 = parts
    try:
        blob = base64.b64decode(b64, validate=True)
        hint = bytes.fromhex(hash_hex)
    except (ValueError, binascii.Error) as exc:
        raise CheckpointError(f"malformed verifier key {text!r}: {exc}") from exc
    if len(blob) != 33 or blob[0] != ALG_ED25519:
        raise CheckpointError(f"verifier key {name!r} is not an Ed25519 (type 0x01) key")
    if key_hash(name, blob[1:]) != hint:
        raise CheckpointError(f"verifier key {name!r}: key ID does not match the key")
    return VerifierKey(name, hint, Ed25519PublicKey.from_public_bytes(blob[1:]))


def sign_note(body: str, name: str, key: Ed25519PrivateKey) -> str:
    """A signed note: ``body`` (ending in a newline), a blank line and one signature line."""
    if not body.endswith("\n") or "\n\n" in body:
        raise ValueError("a note body is non-empty lines, each ending in a newline")
    sig = key.sign(body.encode())
    blob = base64.b64encode(key_hash(name, keys.public_bytes(key)) + sig).decode()
    return f"{body}\n{SIG_PREFIX}{name} {blob}\n"


def sign_checkpoint(checkpoint: Checkpoint, name: str, key: Ed25519PrivateKey) -> str:
    return sign_note(checkpoint.body(), name, key)


def _split_note(note: str) -> tuple[str, list[tuple[str, bytes]]]:
    if not note.endswith("\n"):
        raise CheckpointError("note must end with a newline")
    sep = note.rfind("\n\n")
    if sep < 0:
        raise CheckpointError("note has no blank line between body and signatures")
    body, sig_text = note[: sep + 1], note[sep + 2 :]
    sigs: list[tuple[str, bytes]] = []
    for line in sig_text.splitlines():
        if not line.startswith(SIG_PREFIX):
            raise CheckpointError(f"malformed signature line {line[:60]!r}")
        name, _, b64 = line[len(SIG_PREFIX) :].rpartition(" ")
        try:
            blob = base64.b64decode(b64, validate=True)
        except (ValueError, binascii.Error) as exc:
            raise CheckpointError(f"signature of {name!r} is not base64") from exc
        if not _valid_name(name) or len(blob) < 5:
            raise CheckpointError(f"malformed signature line {line[:60]!r}")
        sigs.append((name, blob))
    if not sigs:
        raise CheckpointError("note has no signatures")
    if len(sigs) > MAX_SIGNATURES:
        raise CheckpointError(f"note has more than {MAX_SIGNATURES} signatures")
    return body, sigs


def verify_note(note: str | bytes, verifier_keys: Iterable[str | VerifierKey]) -> tuple[str, str]:
    """Return ``(body, signer name)`` if a given key signed the note; raise otherwise.

    Signatures by keys that were not given are ignored, as the signed-note spec asks.
    """
    try:
        text = note.decode("utf-8") if isinstance(note, bytes) else note
    except UnicodeDecodeError as exc:
        raise CheckpointError(f"note is not UTF-8: {exc.reason} at byte {exc.start}") from exc
    body, sigs = _split_note(text)
    known = [parse_verifier_key(k) if isinstance(k, str) else k for k in verifier_keys]
    if not known:
        raise CheckpointError("no verifier keys given")
    for name, blob in sigs:
        for vk in known:
            if vk.name == name and vk.key_hash == blob[:4]:
                try:
                    vk.public_key.verify(blob[4:], body.encode())
                except InvalidSignature as exc:
                    raise CheckpointError(f"signature by {name!r} does not verify") from exc
                return body, name
    names = ", ".join(sorted({n for n, _ in sigs}))
    raise CheckpointError(f"no signature by a trusted key (signed by: {names})")


def parse_body(body: str) -> Checkpoint:
    lines = body.split("\n")[:-1]
    if len(lines) < 3:
        raise CheckpointError("checkpoint body needs origin, size and root lines")
    origin, size_text, root_text, *ext = lines
    if not origin:
        raise CheckpointError("checkpoint origin is empty")
    if not _SIZE_RE.match(size_text):
        raise CheckpointError(f"checkpoint size {size_text!r} is not a decimal integer")
    try:
        root = base64.b64decode(root_text, validate=True)
    except (ValueError, binascii.Error) as exc:
        raise CheckpointError("checkpoint root is not base64") from exc
    if len(root) != HASH_SIZE:
        raise CheckpointError(f"checkpoint root is {len(root)} bytes, expected {HASH_SIZE}")
    return Checkpoint(origin, int(size_text), root, tuple(ext))


def verify_checkpoint(
    note: str | bytes, verifier_keys: Sequence[str | VerifierKey] | Iterable[str | VerifierKey]
) -> Checkpoint:
    """Verify a checkpoint note against trusted verifier keys and return what it states."""
    body, _ = verify_note(note, verifier_keys)
    return parse_body(body)
