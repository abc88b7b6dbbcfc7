"""Domain identifiers: validate what a producer types in, and return the one normalised form
the log stores, so that the same licence or product never appears under two spellings.

Every validator raises an :class:`IdentifierError` (a ``ValueError``) that names the field
and says what was expected.
"""

from __future__ import annotations

import re
from typing import Final

from stdnum import ean
from stdnum.cn import uscc
from stdnum.exceptions import ValidationError as StdnumError

_LICENCE_RE: Final = re.compile(r"^(JY|SC)(\d{14})$")
BUSINESS_LICENCE_KINDS: Final = {"1": "sales", "2": "catering", "3": "canteen"}
"""食品经营许可证: the first digit after ``JY`` says what kind of business holds it."""


class IdentifierError(ValueError):
    """An identifier is malformed; ``field`` names it, ``expected`` says what would do."""

    def __init__(self, field: str, expected: str, got: str) -> None:
        self.field = field
        self.expected = expected
        super().__init__(f"{field}: expected {expected}, got {got!r:.40}")


def _compact(value: str) -> str:
    return re.sub(r"[\s\-]", "", value).upper()


def credit_code(value: str, field: str = "credit_code") -> str:
    """统一社会信用代码 (GB 32100): 18 characters with a check character; returned compact
    and upper-case."""
    try:
        return str(uscc.validate(_compact(value)))
    except StdnumError as exc:
        raise IdentifierError(
            field, f"an 18-character unified social credit code ({exc})", value
        ) from exc


def gtin(value: str, field: str = "gtin") -> str:
    """A GTIN-8/12/13/14 with a valid check digit, returned as GTIN-14 (zero-padded)."""
    digits = _compact(value)
    if len(digits) not in (8, 12, 13, 14) or not digits.isdigit():
        raise IdentifierError(field, "a GTIN of 8, 12, 13 or 14 digits", value)
    try:
        return str(ean.validate(digits)).zfill(14)
    except StdnumError as exc:
        raise IdentifierError(field, "a GTIN with a valid check digit", value) from exc


def gln(value: str, field: str = "gln") -> str:
    """A GS1 Global Location Number: 13 digits, the last a GS1 mod-10 check digit."""
    digits = _compact(value)
    if len(digits) != 13 or not digits.isdigit():
        raise IdentifierError(field, "a GLN of 13 digits", value)
    try:
        return str(ean.validate(digits))
    except StdnumError as exc:
        raise IdentifierError(field, "a GLN with a valid check digit", value) from exc


def business_licence(value: str, field: str = "business_licence") -> str:
    """食品经营许可证 number: ``JY`` + 14 digits, the first 1 (sales), 2 (catering) or 3
    (canteen)."""
    match = _LICENCE_RE.match(_compact(value))
    if not match or match.group(1) != "JY":
        raise IdentifierError(field, "a food business licence number: JY + 14 digits", value)
    if match.group(2)[0] not in BUSINESS_LICENCE_KINDS:
        raise IdentifierError(
            field, "JY + 14 digits whose first digit is 1 (sales), 2 (catering) or 3 (canteen)",
            value,
        )  # fmt: skip
    return match.group(0)


def business_licence_kind(value: str) -> str:
    """``sales``, ``catering`` or ``canteen`` for a valid 食品经营许可证 number."""
    return BUSINESS_LICENCE_KINDS[business_licence(value)[2]]


def production_licence(value: str, field: str = "production_licence") -> str:
    """食品生产许可证 number: ``SC`` + 14 digits."""
    match = _LICENCE_RE.match(_compact(value))
    if not match or match.group(1) != "SC":
        raise IdentifierError(field, "a food production licence number: SC + 14 digits", value)
    return match.group(0)
