"""Checking a scanned 食安码: parsing it, verifying the code authority's signature, and the
key its scans are counted under."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Final

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from foodtrace.config import CODE_AUTHORITY_KEY_FILE, Settings
from foodtrace.trace import keys
from foodtrace.trace.codes import Code, CodeError, Subject, parse_code, verify_code
from foodtrace.trace.errors import SignatureError

AUTHORITY_KEY_FILE: Final = CODE_AUTHORITY_KEY_FILE  # under data_dir unless configured


@dataclass(frozen=True)
class CodeRejected(Exception):
    """A code that cannot be resolved: ``reason`` is malformed, forged or unknown."""

    reason: str
    status: int
    title: str  # zh-CN, for the page
    detail: str  # what exactly was wrong (English, as the core's errors)
    field: str = "code"


def authority_keys(settings: Settings) -> list[Ed25519PublicKey]:
    """The code authority's public key(s), from ``code_authority_key_file`` (the same file
    labels sign with; default ``data_dir/code-authority.key``); a resolver without one
    trusts no code. Read
    again only when the file changes (parsing the PEM on every scan costs as much as
    verifying the code)."""
    path: Path = settings.resolved_code_authority_key_file
    try:
        stat = path.stat()
    except FileNotFoundError:
        return []
    return list(_authority_keys(str(path), stat.st_mtime_ns, stat.st_size))


@lru_cache(maxsize=8)
def _authority_keys(path: str, _mtime_ns: int, _size: int) -> tuple[Ed25519PublicKey, ...]:
    try:
        return (keys.read_private(Path(path)).public_key(),)
    except FileNotFoundError:
        return ()


def check_code(url: str, trusted: Iterable[Ed25519PublicKey]) -> Code:
    """Parse and verify a scanned code URL, or raise :class:`CodeRejected`."""
    try:
        code = parse_code(url)
    except CodeError as exc:
        raise CodeRejected("malformed", 400, "这不是有效的食安码", str(exc), exc.field) from exc
    try:
        verify_code(code, trusted)
    except SignatureError as exc:
        raise CodeRejected("forged", 403, "食安码验证失败,可能是伪造的", str(exc), "s") from exc
    return code


def code_key(subject: Subject) -> str:
    """The key scans are counted under: the code's signed message (no personal data)."""
    return subject.message().decode("ascii")
