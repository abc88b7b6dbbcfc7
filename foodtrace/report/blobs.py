"""Content-addressed files (report PDFs, inspection photos) under ``data_dir/blobs/sha256``.

The entry holds the SHA-256; the file is named by it, so the log vouches for the bytes and
every read re-hashes them before serving, refusing a file that was altered on disk.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")


class BlobCorrupted(Exception):
    """The stored bytes no longer hash to their name."""


def blob_path(data_dir: Path, sha256: str) -> Path:
    if not SHA256_HEX.match(sha256):
        raise ValueError(f"expected 64 lower-case hex digits of a SHA-256, got {sha256!r:.80}")
    return Path(data_dir) / "blobs" / "sha256" / sha256[:2] / sha256


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def put(data_dir: Path, data: bytes) -> str:
    """Store ``data`` (atomically, once) and return its hex SHA-256."""
    digest = hashlib.sha256(data).hexdigest()
    path = blob_path(data_dir, digest)
    if path.exists():
        return digest
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return digest


def exists(data_dir: Path, sha256: str) -> bool:
    return blob_path(data_dir, sha256).is_file()


def get(data_dir: Path, sha256: str) -> bytes:
    """The stored bytes; :class:`FileNotFoundError` if absent, :class:`BlobCorrupted` if
    they no longer match ``sha256``."""
    data = blob_path(data_dir, sha256).read_bytes()
    actual = hashlib.sha256(data).hexdigest()
    if actual != sha256:
        raise BlobCorrupted(f"blob {sha256} on disk hashes to {actual}")
    return data
