"""GS1 keys: EPC URNs and GS1 Digital Link URIs reduced to one canonical form.

The event hash (CBV 2.0 rules 17 and 18) must give the same id whether an object was named
``urn:epc:id:sgtin:0614141.107346.2018`` or ``https://example.com/01/10614141073464/21/2018``,
so both become the constrained canonical Digital Link
``https://id.gs1.org/01/10614141073464/21/2018``: the id.gs1.org domain, no query string,
and only the primary key plus its most specific qualifier. Conversion needs no partition
tables: an EPC URN keeps the company prefix and the reference apart with a dot, and the
GS1 key is their concatenation with the check digit recomputed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final
from urllib.parse import urlsplit

CANONICAL_HOST: Final = "https://id.gs1.org"
PRIMARY_KEYS: Final = frozenset(
    {"00", "01", "253", "255", "401", "402", "414", "417", "8003", "8004", "8006", "8010",
     "8017", "8018"}
)  # fmt: skip
QUALIFIERS: Final[dict[str, tuple[str, ...]]] = {
    "01": ("21", "10", "235"),
    "414": ("254",),
    "8006": ("21", "10"),
    "8010": ("8011",),
}
"""Per primary key, the qualifiers kept, most specific first (only one is kept)."""


def check_digit(digits: str) -> str:
    """GS1 mod-10 check digit of ``digits`` (the key without its check digit)."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return str((10 - total % 10) % 10)


def _with_check(digits: str) -> str:
    return digits + check_digit(digits)


def _gtin14(company: str, item: str) -> str:
    return _with_check(item[:1] + company + item[1:])


def _sgtin(p: list[str]) -> str:
    return f"/01/{_gtin14(p[0], p[1])}/21/{p[2]}"


def _sscc(p: list[str]) -> str:
    return f"/00/{_with_check(p[1][:1] + p[0] + p[1][1:])}"


def _sgln(p: list[str]) -> str:
    ext = f"/254/{p[2]}" if len(p) > 2 and p[2] != "0" else ""
    return f"/414/{_with_check(p[0] + p[1])}{ext}"


def _grai(p: list[str]) -> str:
    return f"/8003/0{_with_check(p[0] + p[1])}{p[2]}"


def _giai(p: list[str]) -> str:
    return f"/8004/{p[0]}{p[1]}"


def _gsrn(p: list[str]) -> str:
    return f"/8018/{_with_check(p[0] + p[1])}"


def _gsrnp(p: list[str]) -> str:
    return f"/8017/{_with_check(p[0] + p[1])}"


def _gdti(p: list[str]) -> str:
    return f"/253/{_with_check(p[0] + p[1])}{p[2]}"


def _sgcn(p: list[str]) -> str:
    return f"/255/{_with_check(p[0] + p[1])}{p[2]}"


def _pgln(p: list[str]) -> str:
    return f"/417/{_with_check(p[0] + p[1])}"


def _ginc(p: list[str]) -> str:
    return f"/401/{p[0]}{p[1]}"


def _gsin(p: list[str]) -> str:
    return f"/402/{_with_check(p[0] + p[1])}"


def _cpi(p: list[str]) -> str:
    return f"/8010/{p[0]}{p[1]}/8011/{p[2]}"


def _lgtin(p: list[str]) -> str:
    return f"/01/{_gtin14(p[0], p[1])}/10/{p[2]}"


def _gtin_pattern(p: list[str]) -> str:
    return f"/01/{_gtin14(p[0], p[1])}"


_EPC: Final[dict[str, Callable[[list[str]], str]]] = {
    "urn:epc:id:sgtin:": _sgtin,
    "urn:epc:id:sscc:": _sscc,
    "urn:epc:id:sgln:": _sgln,
    "urn:epc:id:grai:": _grai,
    "urn:epc:id:giai:": _giai,
    "urn:epc:id:gsrn:": _gsrn,
    "urn:epc:id:gsrnp:": _gsrnp,
    "urn:epc:id:gdti:": _gdti,
    "urn:epc:id:sgcn:": _sgcn,
    "urn:epc:id:pgln:": _pgln,
    "urn:epc:id:ginc:": _ginc,
    "urn:epc:id:gsin:": _gsin,
    "urn:epc:id:cpi:": _cpi,
    "urn:epc:class:lgtin:": _lgtin,
    "urn:epc:idpat:sgtin:": _gtin_pattern,
}


def epc_to_digital_link(urn: str) -> str | None:
    """The canonical Digital Link of an EPC URN, or ``None`` if it is not one we know."""
    for prefix, convert in _EPC.items():
        if urn.startswith(prefix):
            parts = urn[len(prefix) :].split(".")
            try:
                return CANONICAL_HOST + convert(parts)
            except (IndexError, ValueError):
                return None
    return None


def constrain_digital_link(uri: str) -> str | None:
    """The constrained canonical form of a GS1 Digital Link URI, or ``None`` if ``uri`` has
    no GS1 primary key in its path."""
    split = urlsplit(uri)
    if split.scheme not in ("http", "https"):
        return None
    segments = [s for s in split.path.split("/") if s]
    for i, segment in enumerate(segments[:-1]):
        if segment in PRIMARY_KEYS:
            pairs = dict(zip(segments[i::2], segments[i + 1 :: 2], strict=False))
            value = pairs[segment]
            if segment == "01":
                if not value.isdigit() or len(value) > 14:
                    return None
                value = value.zfill(14)
            out = f"{CANONICAL_HOST}/{segment}/{value}"
            for qualifier in QUALIFIERS.get(segment, ()):
                if qualifier in pairs:
                    out += f"/{qualifier}/{pairs[qualifier]}"
                    break
            return out
    return None


def canonical(identifier: str) -> str:
    """The form used to compare and hash identifiers: EPC URNs and Digital Links become
    constrained canonical Digital Links; anything else is returned unchanged."""
    return epc_to_digital_link(identifier) or constrain_digital_link(identifier) or identifier
