"""Personal data (names, ID numbers, phone numbers) never enters the log.

The log holds a salted SHA-256 *commitment* to the value; the value and the salt live in a
separate, erasable table (PIPL). Erasing them leaves the commitment in the log meaningless
without breaking any proof, and while they exist anyone holding them can check the log
refers to exactly that value. The salt (32 random bytes) stops guessing a phone number or
ID number from its hash, which a plain hash of such a small space would allow.

The committed bytes are a canonical encoding of the value (NFC, trimmed, tagged with its
kind), so that "张三" typed on two keyboards commits the same. Pages show only masked
forms: 张*, 张*三, 欧**明, 138****1234.
"""

from __future__ import annotations

import hashlib
import hmac
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


def mask_name(name: str) -> str:
    """Keep the surname and, for 3+ characters, the last character: 张三 → 张*,
    张小三 → 张*三, 欧阳小明 → 欧**明. Latin names keep initials: John Smith → J*** S****."""
    name = name.strip()
    if not name:
        return name
    if " " in name:
        return " ".join(p[0] + "*" * (len(p) - 1) for p in name.split())
    if len(name) == 1:
        return "*"
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


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
    """居民身份证 (18 chars): keep the first 6 (region) and last 4: 110105********123X."""
    text = id_number.strip().upper()
    if len(text) <= 8:
        return "*" * len(text)
    keep_head = 6 if len(text) >= 15 else 2
    return text[:keep_head] + "*" * (len(text) - keep_head - 4) + text[-4:]
