"""食安码 codes: building, parsing, signing, forgery and malformed input.

Golden codes in ``data/codes_golden.json`` pin the URL format and the signed message (Ed25519
signatures are deterministic). Regenerate with ``python tests/trace/test_codes.py`` only
when the format is meant to change.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from foodtrace.trace import codes
from foodtrace.trace.codes import (
    Code,
    CodeError,
    CodeKind,
    Lot,
    Merchant,
    Serial,
    lot_code,
    merchant_code,
    parse_code,
    serial_code,
    verify_code,
)
from foodtrace.trace.errors import SignatureError, VerificationError

GOLDEN = Path(__file__).parent / "data" / "codes_golden.json"
BASE = "https://ft.example.cn"
GTIN = "09506000134352"
AUTHORITY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
OTHER = Ed25519PrivateKey.from_private_bytes(bytes(range(32, 64)))
TRUSTED = [AUTHORITY.public_key()]
SPECIAL_LOTS = ["A", "LOT-2024/07", "50%OFF", "x/y/z", "a-b_c.d", "!\"%&'()*+,-./:;<=>?_", "9" * 20]


def _golden_cases() -> list[tuple[str, Code]]:
    return [
        ("merchant", merchant_code(BASE, "91350100M000100Y43", AUTHORITY)),
        ("merchant-prefixed", merchant_code(BASE + "/trace", "shop-42", AUTHORITY)),
        ("lot", lot_code(BASE, "9506000134352", "LOT-2024/07", AUTHORITY)),
        ("lot-special", lot_code(BASE, GTIN, "!\"%&'()*+,-./:;<=>?_", AUTHORITY)),
        ("serial", serial_code(BASE, "96385074", "SN0001", AUTHORITY)),
    ]


def test_golden_codes_are_stable() -> None:
    golden = json.loads(GOLDEN.read_text())
    built = {name: code for name, code in _golden_cases()}
    assert set(golden) == set(built)
    for name, want in golden.items():
        code = built[name]
        assert code.url == want["url"], name
        assert code.qr_text == want["qr_text"], name
        assert code.subject.message().decode() == want["message"], name
        assert parse_code(want["qr_text"]) == code
        verify_code(parse_code(want["url"]), TRUSTED)


@pytest.mark.parametrize("lot", SPECIAL_LOTS)
def test_lot_code_round_trips_through_its_url(lot: str) -> None:
    code = lot_code(BASE, GTIN, lot, AUTHORITY)
    for text in (code.url, code.qr_text):
        parsed = parse_code(text)
        assert parsed == code
        assert parsed.subject == Lot(GTIN, lot)
        verify_code(parsed, TRUSTED)
    assert "/" not in code.url.split("/10/")[1].split("?")[0]  # '/' in a lot is escaped


def test_serial_and_merchant_round_trip() -> None:
    serial = serial_code(BASE, GTIN, "SN/0001%", AUTHORITY)
    merchant = merchant_code(BASE, "91350100M000100Y43", AUTHORITY)
    assert parse_code(serial.qr_text).subject == Serial(GTIN, "SN/0001%")
    assert parse_code(merchant.qr_text).subject == Merchant("91350100M000100Y43")
    assert serial.kind is CodeKind.SERIAL and merchant.kind is CodeKind.MERCHANT
    for code in (serial, merchant):
        verify_code(parse_code(code.qr_text), TRUSTED)


def test_gtin_forms_are_normalised_to_14_digits() -> None:
    for gtin in ("9506000134352", "09506000134352", "96385074", "036000291452"):
        code = lot_code(BASE, gtin, "L1", AUTHORITY)
        assert isinstance(code.subject, Lot)
        assert code.subject.gtin == gtin.zfill(14)
    # A shorter GTIN in a URL parses to the same, still-valid code.
    code = lot_code(BASE, GTIN, "L1", AUTHORITY)
    verify_code(parse_code(code.url.replace(GTIN, GTIN[1:])), TRUSTED)


def test_base_url_keeps_its_path_prefix_and_is_lower_cased() -> None:
    code = lot_code("HTTPS://FT.Example.CN:8443/r/", GTIN, "L1", AUTHORITY)
    assert code.base_url == "https://ft.example.cn:8443/r"
    assert code.url.startswith("https://ft.example.cn:8443/r/01/")
    assert code.qr_text.startswith("HTTPS://FT.EXAMPLE.CN:8443/r/01/")
    assert parse_code(code.qr_text) == code


def test_signature_does_not_bind_the_host() -> None:
    """Documented choice: a code stays valid when the resolver moves."""
    code = lot_code(BASE, GTIN, "L1", AUTHORITY)
    moved = parse_code(code.url.replace("ft.example.cn", "trace.example.org"))
    verify_code(moved, TRUSTED)
    assert moved.base_url == "https://trace.example.org"


def test_token_is_uppercase_base32_of_key_id_and_signature() -> None:
    code = merchant_code(BASE, "M1", AUTHORITY)
    assert len(code.token) == codes.TOKEN_CHARS == 109
    assert set(code.token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
    assert code.key_id == codes.code_key_id(AUTHORITY.public_key())
    raw = base64.b32decode(code.token + "===")
    assert raw == code.key_id + code.signature


def test_key_rotation_picks_the_key_by_id() -> None:
    code = lot_code(BASE, GTIN, "L1", OTHER)
    verify_code(code, [AUTHORITY.public_key(), OTHER.public_key()])
    with pytest.raises(SignatureError, match="not a trusted authority key"):
        verify_code(code, TRUSTED)


# --- forgeries -------------------------------------------------------------------------------


def _expect_forged(text: str) -> None:
    with pytest.raises(SignatureError) as info:
        verify_code(parse_code(text), TRUSTED)
    assert isinstance(info.value, VerificationError)


def test_changed_lot_is_refused() -> None:
    code = lot_code(BASE, GTIN, "LOT-A", AUTHORITY)
    _expect_forged(code.url.replace("/10/LOT-A", "/10/LOT-B"))


def test_changed_gtin_is_refused() -> None:
    code = lot_code(BASE, GTIN, "LOT-A", AUTHORITY)
    other_gtin = "04012345123456"  # valid check digit
    assert codes.normalize_gtin(other_gtin) == other_gtin
    _expect_forged(code.url.replace(GTIN, other_gtin))


def test_lot_signature_does_not_verify_a_serial() -> None:
    code = lot_code(BASE, GTIN, "X1", AUTHORITY)
    _expect_forged(code.url.replace("/10/X1", "/21/X1"))


def test_changed_merchant_is_refused() -> None:
    code = merchant_code(BASE, "SHOP1", AUTHORITY)
    _expect_forged(code.url.replace("/M/SHOP1", "/M/SHOP2"))


def test_signature_from_another_key_is_refused() -> None:
    genuine = lot_code(BASE, GTIN, "LOT-A", AUTHORITY)
    forged = Code(
        genuine.base_url, genuine.subject, genuine.key_id, OTHER.sign(genuine.subject.message())
    )
    with pytest.raises(SignatureError, match="does not match"):
        verify_code(parse_code(forged.url), TRUSTED)


def test_flipped_signature_bit_is_refused() -> None:
    genuine = lot_code(BASE, GTIN, "LOT-A", AUTHORITY)
    sig = bytearray(genuine.signature)
    sig[10] ^= 1
    forged = Code(genuine.base_url, genuine.subject, genuine.key_id, bytes(sig))
    _expect_forged(forged.qr_text)


@pytest.mark.parametrize("cut", [1, 8, 50, 109])
def test_truncated_signature_is_a_code_error(cut: int) -> None:
    code = lot_code(BASE, GTIN, "LOT-A", AUTHORITY)
    with pytest.raises(CodeError) as info:
        parse_code(code.url[:-cut])
    assert info.value.field == "s"


# --- malformed input -------------------------------------------------------------------------

_GOOD = lot_code(BASE, GTIN, "L1", AUTHORITY)
_TOKEN = _GOOD.token


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("", "code"),
        ("not a url", "code"),
        ("ftp://ft.example.cn/M/A?s=" + _TOKEN, "code"),
        ("https:///M/A?s=" + _TOKEN, "code"),
        ("https://user@ft.example.cn/M/A?s=" + _TOKEN, "code"),
        ("https://ft.example.cn:99999/M/A?s=" + _TOKEN, "code"),
        ("https://[::1/M/A?s=" + _TOKEN, "code"),
        ("https://ft.example.cn/M/A?s=" + _TOKEN + "#x", "code"),
        ("https://ft.example.cn/X/A?s=" + _TOKEN, "path"),
        ("https://ft.example.cn/M/?s=" + _TOKEN, "merchant_id"),
        ("https://ft.example.cn/M/-bad?s=" + _TOKEN, "merchant_id"),
        ("https://ft.example.cn/01/09506000134353/10/L1?s=" + _TOKEN, "gtin"),
        ("https://ft.example.cn/01/0950600013435/10/L1?s=" + _TOKEN, "gtin"),
        ("https://ft.example.cn/01/095060001343520/10/L1?s=" + _TOKEN, "gtin"),
        ("https://ft.example.cn/01/" + GTIN + "/10/?s=" + _TOKEN, "lot"),
        ("https://ft.example.cn/01/" + GTIN + "/10/" + "A" * 21 + "?s=" + _TOKEN, "lot"),
        ("https://ft.example.cn/01/" + GTIN + "/10/%7E?s=" + _TOKEN, "lot"),
        ("https://ft.example.cn/01/" + GTIN + "/10/A%2?s=" + _TOKEN, "lot"),
        ("https://ft.example.cn/01/" + GTIN + "/10/A%zz?s=" + _TOKEN, "lot"),
        ("https://ft.example.cn/01/" + GTIN + "/21/%C3%A9?s=" + _TOKEN, "serial"),
        ("https://ft.example.cn//01/" + GTIN + "/10/L1?s=" + _TOKEN, "base_url"),
        ("https://ft.example.cn/M/A", "query"),
        ("https://ft.example.cn/M/A?s=" + _TOKEN + "&s=" + _TOKEN, "query"),
        ("https://ft.example.cn/M/A?s=" + _TOKEN.lower(), "s"),
        ("https://ft.example.cn/M/A?s=" + _TOKEN[:-1] + "1", "s"),
        ("https://ft.example.cn/M/A?s=" + _TOKEN[:-1] + "R", "s"),  # trailing bit set
        ("https://ft.example.cn/M/A?s=" + "A" * 2000, "code"),
        ("https://ft.example.cn/M/食安?s=" + _TOKEN, "code"),
    ],
)
def test_malformed_codes_name_the_field(text: str, field: str) -> None:
    with pytest.raises(CodeError) as info:
        parse_code(text)
    assert info.value.field == field, str(info.value)


def test_extra_query_parameters_are_ignored_but_unsigned() -> None:
    parsed = parse_code(_GOOD.url + "&linkType=all")
    assert parsed == _GOOD


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: lot_code(BASE, "09506000134353", "L1", AUTHORITY), "gtin"),
        (lambda: lot_code(BASE, GTIN, "批次1", AUTHORITY), "lot"),
        (lambda: lot_code(BASE, GTIN, "a b", AUTHORITY), "lot"),
        (lambda: serial_code(BASE, GTIN, "", AUTHORITY), "serial"),
        (lambda: merchant_code(BASE, "a/b", AUTHORITY), "merchant_id"),
        (lambda: merchant_code("https://ft.example.cn/?x=1", "A", AUTHORITY), "base_url"),
        (lambda: merchant_code("https://ft.example.cn/a b", "A", AUTHORITY), "base_url"),
        (lambda: merchant_code("mailto:x@example.cn", "A", AUTHORITY), "base_url"),
    ],
)
def test_builders_refuse_bad_values(build: object, field: str) -> None:
    with pytest.raises(CodeError) as info:
        build()  # type: ignore[operator]
    assert info.value.field == field


# --- fuzzing ---------------------------------------------------------------------------------

_url_chars = st.sampled_from([*"/:?&=%#@[]._-~!$'()*+,;01AZaz9", _TOKEN[:9]])


def _parse_or_code_error(text: str) -> None:
    """Anything but a CodeError escaping fails the test; a code that parses is canonical."""
    try:
        code = parse_code(text)
    except CodeError as exc:
        assert exc.field and exc.problem
        return
    assert parse_code(code.url) == code


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=300))
def test_parse_code_raises_only_code_error_on_any_text(text: str) -> None:
    _parse_or_code_error(text)


@settings(max_examples=400, deadline=None)
@given(st.lists(_url_chars, max_size=40).map("".join), st.integers(0, 4))
def test_parse_code_raises_only_code_error_on_url_like_text(tail: str, which: int) -> None:
    prefix = ["https://ft.example.cn/", "https://ft.example.cn/01/", _GOOD.url[:60], "http://", ""]
    _parse_or_code_error(prefix[which] + tail)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, len(_GOOD.url) - 1), st.characters(codec="ascii"))
def test_one_changed_character_is_caught(position: int, char: str) -> None:
    """A single-character change either fails to parse or fails to verify, or is harmless
    (same subject, e.g. host case); it never verifies as a different code."""
    text = _GOOD.url[:position] + char + _GOOD.url[position + 1 :]
    try:
        code = parse_code(text)
    except CodeError:
        return
    try:
        verify_code(code, TRUSTED)
    except SignatureError:
        return
    assert code.subject == _GOOD.subject


if __name__ == "__main__":  # regenerate the golden file
    GOLDEN.write_text(
        json.dumps(
            {
                name: {
                    "url": code.url,
                    "qr_text": code.qr_text,
                    "message": code.subject.message().decode(),
                }
                for name, code in _golden_cases()
            },
            indent=2,
            ensure_ascii=False,
        )
        + "\n"
    )
