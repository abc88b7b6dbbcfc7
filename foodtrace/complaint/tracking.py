"""Complaint tracking numbers (``TS-2026-7KQ2-M9XD``): what the complainant keeps to follow
and rate a complaint, so they must be unguessable and easy to read aloud or retype."""

from __future__ import annotations

import secrets
from collections.abc import Callable

TRACKING_PREFIX = "TS"
# Crockford base32: no I, L, O, U, so a number read aloud or retyped is unambiguous.
TRACKING_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
TRACKING_GROUPS = 2
TRACKING_GROUP_CHARS = 4  # 2 x 4 characters: 40 random bits


def new_tracking_number(year: int, token: Callable[[int], bytes] = secrets.token_bytes) -> str:
    """``TS-2026-7KQ2-M9XD``: the year, then 40 random bits in Crockford base32 groups."""
    n = TRACKING_GROUPS * TRACKING_GROUP_CHARS
    value = int.from_bytes(token(n * 5 // 8 + 1), "big")
    chars = "".join(TRACKING_ALPHABET[(value >> (5 * i)) & 31] for i in range(n))
    groups = [chars[i : i + TRACKING_GROUP_CHARS] for i in range(0, n, TRACKING_GROUP_CHARS)]
    return "-".join([TRACKING_PREFIX, f"{year:04d}", *groups])


def normalize_tracking_number(text: str) -> str:
    """Upper case, with the look-alikes Crockford base32 folds (O→0, I/L→1) folded back."""
    head, _, tail = text.strip().upper().partition("-")
    return f"{head}-{tail.replace('O', '0').replace('I', '1').replace('L', '1')}"
