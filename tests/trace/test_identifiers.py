"""Domain identifiers: valid ones normalise, invalid ones name the field and the rule."""

from __future__ import annotations

import pytest

from foodtrace.trace import identifiers as ids
from foodtrace.trace.identifiers import IdentifierError


def test_credit_code() -> None:
    assert ids.credit_code(" 91350100m000100y43 ") == "91350100M000100Y43"
    with pytest.raises(IdentifierError, match=r"^credit_code: expected an 18-character"):
        ids.credit_code("91350100M000100Y44")
    with pytest.raises(IdentifierError, match=r"^shop_code: "):
        ids.credit_code("123", field="shop_code")


@pytest.mark.parametrize(
    ("raw", "gtin14"),
    [
        ("73513537", "00000073513537"),
        ("036000291452", "00036000291452"),
        ("6901234123456", "06901234123456"),
        ("4006381333931", "04006381333931"),
        ("10614141073464", "10614141073464"),
        ("4006-3813-33931", "04006381333931"),
    ],
)
def test_gtin_normalises_to_14_digits(raw: str, gtin14: str) -> None:
    assert ids.gtin(raw) == gtin14


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("4006381333932", "valid check digit"),
        ("40063813339", "8, 12, 13 or 14 digits"),
        ("ABCDEFGHIJKLM", "8, 12, 13 or 14 digits"),
    ],
)
def test_gtin_rejects(raw: str, expected: str) -> None:
    with pytest.raises(IdentifierError, match=expected) as err:
        ids.gtin(raw)
    assert err.value.field == "gtin"
    assert isinstance(err.value, ValueError)


def test_gln() -> None:
    assert ids.gln("4012345000009") == "4012345000009"
    with pytest.raises(IdentifierError, match="valid check digit"):
        ids.gln("4012345000008")
    with pytest.raises(IdentifierError, match="13 digits"):
        ids.gln("401234500000")


def test_business_licence() -> None:
    assert ids.business_licence("jy 1330 1060 0012 34") == "JY13301060001234"
    assert ids.business_licence("JY23301060001234") == "JY23301060001234"
    assert ids.business_licence_kind("JY13301060001234") == "sales"
    assert ids.business_licence_kind("JY23301060001234") == "catering"
    assert ids.business_licence_kind("JY33301060001234") == "canteen"
    with pytest.raises(IdentifierError, match=r"first digit is 1 \(sales\)"):
        ids.business_licence("JY43301060001234")
    with pytest.raises(IdentifierError, match="JY \\+ 14 digits"):
        ids.business_licence("JY1330106000123")
    with pytest.raises(IdentifierError, match="JY \\+ 14 digits"):
        ids.business_licence("SC13301060001234")


def test_production_licence() -> None:
    assert ids.production_licence("sc10633010600012") == "SC10633010600012"
    with pytest.raises(IdentifierError, match=r"^production_licence: expected .*SC \+ 14 digits"):
        ids.production_licence("SC1063301060001")
    with pytest.raises(IdentifierError):
        ids.production_licence("JY10633010600012")
