"""Personal data (names, ID numbers, phone numbers) never enters the log.

The log holds a salted SHA-256 *commitment* to the value; the value and the salt live in a
separate, erasable table (PIPL). Erasing them leaves the commitment in the log meaningless
without breaking any proof, and while they exist anyone holding them can check the log
refers to exactly that value. The salt (32 random bytes) stops guessing a phone number or
ID number from its hash, which a plain hash of such a small space would allow.

The committed bytes are a canonical encoding of the value (NFC, trimmed, tagged with its
kind), so that "张三" typed on two keyboards commits the same. Pages show only masked
forms: 张*, 张**, 李 *, 138****1234, 1****************4.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import unicodedata
from typing import Final

SALT_BYTES: Final = 32
_DOMAIN: Final = b"foodtrace.personal.v1\x00"


def canonical(value: str, kind: str = "") -> bytes:
    """The exact bytes committed: domain tag, kind, NUL, then the NFC-normalised, trimmed
    value (internal whitespace collapsed) in UTF-8."""
    text = " ".join(unicodedata.normalize("NFC", value).split())
    if kind in ("id_number", "phone"):
        text = text.replace(" ", "").replace("-", "").upper()
    return _DOMAIN + kind.encode() + b"\x00" + text.encode("utf-8")


def commit(value: str, kind: str = "", salt: bytes | None = None) -> tuple[str, bytes]:
    """``(commitment_hex, salt)`` with a fresh random salt unless one is given."""
    salt = secrets.token_bytes(SALT_BYTES) if salt is None else salt
    if len(salt) < 16:
        raise ValueError(f"salt: expected at least 16 bytes, got {len(salt)}")
    return hashlib.sha256(salt + canonical(value, kind)).hexdigest(), salt


def verify_commitment(commitment_hex: str, value: str, salt: bytes, kind: str = "") -> bool:
    """Whether ``value`` with ``salt`` opens ``commitment_hex`` (constant-time compare)."""
    expected, _ = commit(value, kind, salt)
    return hmac.compare_digest(expected, commitment_hex.lower())


_NAME_SEPARATORS: Final = re.compile(r"(\s+|·)")


def _mask_part(part: str, keep_first: bool) -> str:
    if len(part) <= 1:
        return part if keep_first and part else "*" * len(part)
    return part[0] + "*" * (len(part) - 1)


def mask_name(name: str) -> str:
    """Only the first character of each part of the name survives: 张三 → 张*, 张小三 →
    张**, 李 四 → 李 *, 阿依·买买提 → 阿*·买**, John Smith → J*** S****.

    Parts are split on whitespace and the middle dot of transliterated names. A later part
    of one character is hidden whole (keeping "its first character" would show it all); so
    is a name of a single character. Keeping the last character too (张*三) told apart
    too many people in a shop's small staff list.
    """
    text = unicodedata.normalize("NFC", name).strip()
    pieces = _NAME_SEPARATORS.split(text)
    out: list[str] = []
    first = len(text) > 1
    for piece in pieces:
        if _NAME_SEPARATORS.fullmatch(piece):
            out.append(" " if piece.isspace() else piece)
        elif piece:
            out.append(_mask_part(piece, keep_first=first))
            first = False
    return "".join(out)


def mask_phone(phone: str) -> str:
    """138****1234 for a mainland mobile number; otherwise all but the last 4 digits hidden."""
    digits = "".join(c for c in phone if c.isdigit())
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]  # +86 country code
    if len(digits) == 11 and digits.startswith("1"):
        return digits[:3] + "****" + digits[7:]
    if len(digits) <= 4:
        return "*" * len(digits)
    return "*" * (len(digits) - 4) + digits[-4:]


def mask_id_number(id_number: str) -> str:
    """Keep only the first and last character, whatever the length: 110105199001011234 →
    1****************4. Keeping the region (6) and the tail (4) left a short foreign ID
    almost whole; two or fewer characters are hidden entirely."""
    text = "".join(id_number.split()).upper()
    if len(text) <= 2:
        return "*" * len(text)
    return text[0] + "*" * (len(text) - 2) + text[-1]
