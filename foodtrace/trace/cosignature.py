"""Witness cosignatures on checkpoints: C2SP tlog-cosignature, ``cosignature/v1`` (Ed25519).

A log's own signature says only what the operator claims; a cosignature is an independent
witness saying "as of this time, this is the largest tree I have seen for this origin, and
it is consistent with everything I saw before". A reader that requires k of n named
witnesses cannot be shown a fork unless k of them were shown it too.

Format (signed-note signature line): ``— <name> base64(keyID ‖ timestamp ‖ signature)``,
with keyID = SHA-256(name ‖ 0x0A ‖ 0x04 ‖ pubkey)[:4], timestamp a big-endian u64 of POSIX
seconds, and the Ed25519 signature over ``"cosignature/v1\\n" "time <t>\\n"`` followed by the
whole checkpoint body. Verifier keys are ``name+hex(keyID)+base64(0x04‖pubkey)``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from foodtrace.trace import keys
from foodtrace.trace.checkpoint import (
    SIG_PREFIX,
    Checkpoint,
    VerifierKey,
    parse_body,
    verify_note,
)
from foodtrace.trace.errors import CheckpointError

ALG_COSIGNATURE_V1 = 0x04
HEADER = "cosignature/v1\n"
MAX_TIMESTAMP = 2**63 - 1
_BLOB_SIZE = 4 + 8 + 64


class CosignatureError(CheckpointError):
    """A cosignature that does not verify, or fewer valid cosignatures than required."""


@dataclass(frozen=True)
class CosignerKey:
    """A witness as a reader knows it: its name and its Ed25519 public key."""

    name: str
    key_hash: bytes
    public_key: Ed25519PublicKey


@dataclass(frozen=True)
class Cosignature:
    """A verified cosignature: who cosigned, and when (POSIX seconds)."""

    name: str
    timestamp: int


def _valid_name(name: str) -> bool:
    return bool(name) and not any(c.isspace() or c == "+" for c in name)


def key_hash(name: str, public_key: bytes) -> bytes:
    return hashlib.sha256(
        name.encode() + b"\n" + bytes([ALG_COSIGNATURE_V1]) + public_key
    ).digest()[:4]


def cosigner_vkey(name: str, key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """The verifier key ``name+hex(keyID)+base64(0x04‖pubkey)`` readers configure."""
    if not _valid_name(name):
        raise ValueError(f"witness name {name!r} must be non-empty with no spaces or '+'")
    raw = keys.public_bytes(key)
    blob = base64.b64encode(bytes([ALG_COSIGNATURE_V1]) + raw).decode()
    return f"{name}+{key_hash(name, raw).hex()}+{blob}"


def parse_cosigner_vkey(text: str) -> CosignerKey:
    parts = text.strip().split("+", 2)
    if len(parts) != 3 or not _valid_name(parts[0]) or len(parts[1]) != 8:
        raise CosignatureError(f"malformed witness key {text!r}: expected name+hex8+base64")
    name, hash_hex, b64 = parts
    try:
        blob = base64.b64decode(b64, validate=True)
        hint = bytes.fromhex(hash_hex)
    except (ValueError, binascii.Error) as exc:
        raise CosignatureError(f"malformed witness key {text!r}: {exc}") from exc
    if len(blob) != 33 or blob[0] != ALG_COSIGNATURE_V1:
        raise CosignatureError(f"witness key {name!r} is not a cosignature/v1 (type 0x04) key")
    if key_hash(name, blob[1:]) != hint:
        raise CosignatureError(f"witness key {name!r}: key ID does not match the key")
    return CosignerKey(name, hint, Ed25519PublicKey.from_public_bytes(blob[1:]))


def signed_message(body: str, timestamp: int) -> bytes:
    """What a witness signs: the header line, the time line and the whole checkpoint body."""
    if not 0 <= timestamp <= MAX_TIMESTAMP:
        raise CosignatureError(f"timestamp {timestamp} out of range 0..2^63-1")
    if not body.endswith("\n"):
        raise CosignatureError("a checkpoint body ends with a newline")
    return f"{HEADER}time {timestamp}\n{body}".encode()


def cosign(body: str, name: str, key: Ed25519PrivateKey, timestamp: int) -> str:
    """One cosignature line (ending in a newline) by witness ``name`` on a checkpoint body."""
    parse_body(body)  # a witness signs checkpoints only
    sig = key.sign(signed_message(body, timestamp))
    blob = key_hash(name, keys.public_bytes(key)) + struct.pack(">Q", timestamp) + sig
    return f"{SIG_PREFIX}{name} {base64.b64encode(blob).decode()}\n"


def split(note: str) -> tuple[str, list[str]]:
    """A note's body and its signature lines (each without its newline)."""
    sep = note.rfind("\n\n")
    if sep < 0 or not note.endswith("\n"):
        raise CheckpointError("note has no blank line between body and signatures")
    return note[: sep + 1], [line for line in note[sep + 2 :].split("\n") if line]


def add_cosignatures(note: str, lines: Iterable[str]) -> str:
    """``note`` with signature ``lines`` appended (those it already carries are skipped)."""
    body, have = split(note)
    extra = [line.rstrip("\n") for line in lines]
    new = [line for line in dict.fromkeys(extra) if line and line not in have]
    for line in new:
        if not line.startswith(SIG_PREFIX):
            raise CosignatureError(f"not a signature line: {line[:60]!r}")
    return body + "\n" + "".join(line + "\n" for line in [*have, *new])


def _keys(witnesses: Iterable[str | CosignerKey]) -> list[CosignerKey]:
    return [parse_cosigner_vkey(w) if isinstance(w, str) else w for w in witnesses]


def cosignatures(
    note: str, witnesses: Iterable[str | CosignerKey], now: int | None = None
) -> list[Cosignature]:
    """The valid cosignatures on ``note`` by the given witnesses, one per witness.

    Lines by other keys are ignored, as signed-note asks; a line that claims a given
    witness's name and key ID but does not verify raises, and so does a timestamp later
    than ``now`` when it is given."""
    body, lines = split(note)
    known = _keys(witnesses)
    found: dict[str, Cosignature] = {}
    for line in lines:
        name, _, b64 = line[len(SIG_PREFIX) :].rpartition(" ")
        try:
            blob = base64.b64decode(b64, validate=True)
        except (ValueError, binascii.Error):
            continue  # not ours to judge: only known keys' lines are checked
        for w in known:
            if w.name != name or blob[:4] != w.key_hash:
                continue
            if len(blob) != _BLOB_SIZE:
                raise CosignatureError(f"cosignature by {name!r} is {len(blob)} bytes, not 76")
            (timestamp,) = struct.unpack(">Q", blob[4:12])
            try:
                w.public_key.verify(blob[12:], signed_message(body, timestamp))
            except InvalidSignature as exc:
                raise CosignatureError(f"cosignature by {name!r} does not verify") from exc
            if now is not None and timestamp > now:
                raise CosignatureError(f"cosignature by {name!r} is dated in the future")
            found.setdefault(name, Cosignature(name, timestamp))
    return list(found.values())


def require_cosignatures(
    note: str,
    witnesses: Sequence[str | CosignerKey],
    required: int,
    now: int | None = None,
) -> list[Cosignature]:
    """The valid cosignatures, or :class:`CosignatureError` if fewer than ``required``."""
    if required > len(witnesses):
        raise CosignatureError(f"{required} cosignatures required but only {len(witnesses)} named")
    got = cosignatures(note, witnesses, now)
    if len(got) < required:
        names = ", ".join(c.name for c in got) or "none"
        raise CosignatureError(
            f"checkpoint has {len(got)} of the {required} required witness cosignatures "
            f"(valid: {names})"
        )
    return got


def verify_cosigned_checkpoint(
    note: str,
    log_keys: Iterable[str | VerifierKey],
    witnesses: Sequence[str | CosignerKey] = (),
    required: int = 0,
    now: int | None = None,
) -> tuple[Checkpoint, list[Cosignature]]:
    """A checkpoint signed by the log and cosigned by at least ``required`` witnesses."""
    body, _ = verify_note(note, log_keys)
    checkpoint = parse_body(body)
    return checkpoint, require_cosignatures(note, witnesses, required, now)
