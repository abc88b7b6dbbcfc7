"""Which GS1 company prefix a GTIN falls under (pure).

A GTIN-14 is an indicator digit, the company prefix, the item reference and a check digit
(GS1 General Specifications §3.3.2): the prefix starts at the second digit. GTIN-13s and
GTIN-12s are stored as GTIN-14 with leading zeros, so a GTIN-13's prefix is read from its own
first digit and a GTIN-12 (U.P.C.) prefix carries the leading ``0`` GS1 adds to it.
Company prefixes never nest (GS1 allocates each number range once), so at most one assigned
prefix covers a GTIN.
"""

from __future__ import annotations

from collections.abc import Iterable

PREFIX_PATTERN = r"^\d{4,12}$"
"""GS1 company prefixes are 4 to 12 digits (GS1-8 prefixes for GTIN-8 are not handled)."""


def key_digits(gtin14: str) -> str:
    """The digits a company prefix is matched against: the GTIN-14 without its indicator
    digit and check digit."""
    if len(gtin14) != 14 or not gtin14.isdigit():
        raise ValueError(f"expected a 14-digit GTIN, got {gtin14!r}")
    return gtin14[1:13]


def covering(gtin14: str, prefixes: Iterable[str]) -> str | None:
    """The longest of ``prefixes`` the GTIN falls under, or None."""
    digits = key_digits(gtin14)
    found = [p for p in prefixes if digits.startswith(p)]
    return max(found, key=len) if found else None


def overlapping(prefix: str, assigned: Iterable[str]) -> list[str]:
    """Assigned prefixes that ``prefix`` would nest in or contain (both are refused: two
    parties could then name the same GTIN)."""
    return sorted(a for a in assigned if a.startswith(prefix) or prefix.startswith(a))
