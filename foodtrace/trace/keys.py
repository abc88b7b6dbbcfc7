"""Ed25519 keys: generation, files, public-key encodings and key ids."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from foodtrace.trace.errors import SignatureError

KEY_ID_BYTES = 8


def generate() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def public_bytes(key: Ed25519PublicKey | Ed25519PrivateKey) -> bytes:
    """The 32 raw bytes of a public key."""
    pub = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(key: Ed25519PublicKey | Ed25519PrivateKey | bytes) -> str:
    """A short, stable name for a public key: hex of the first 8 bytes of SHA-256(raw key)."""
    raw = key if isinstance(key, bytes) else public_bytes(key)
    return hashlib.sha256(raw).digest()[:KEY_ID_BYTES].hex()


def public_from_b64(text: str) -> Ed25519PublicKey:
    """A public key from the base64 of its 32 raw bytes."""
    try:
        raw = base64.b64decode(text, validate=True)
        return Ed25519PublicKey.from_public_bytes(raw)
    except ValueError as exc:
        raise SignatureError(f"not a base64 Ed25519 public key: {exc}") from exc


def public_to_b64(key: Ed25519PublicKey | Ed25519PrivateKey) -> str:
    return base64.b64encode(public_bytes(key)).decode()


def private_to_pem(key: Ed25519PrivateKey, password: bytes | None = None) -> bytes:
    enc: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password)
        if password
        else serialization.NoEncryption()
    )
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, enc)


def private_from_pem(data: bytes, password: bytes | None = None) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(data, password=password)
    if not isinstance(key, Ed25519PrivateKey):
        raise SignatureError("the key file does not hold an Ed25519 private key")
    return key


def write_new_file(path: Path, data: bytes) -> None:
    """Create ``path`` holding ``data``, owner-only, all or nothing: written to a temporary
    file, fsynced, then linked into place (never over an existing file: ``FileExistsError``)
    and the directory fsynced, so a crash leaves either no file or the whole key."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.link(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def write_private(path: Path, key: Ed25519PrivateKey) -> None:
    """Write a private key file readable only by its owner (created, never overwritten)."""
    write_new_file(path, private_to_pem(key))


def read_private(path: Path) -> Ed25519PrivateKey:
    return private_from_pem(path.read_bytes())
