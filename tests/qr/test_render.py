"""QR images: the payload survives PNG and SVG rendering, sizes and levels are as documented."""

from __future__ import annotations

import base64
import io
import re

import pytest
import zxingcpp
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from PIL import Image, ImageDraw

from foodtrace.qr import render
from foodtrace.scanner.decode import decode_image
from foodtrace.trace.codes import (
    Code,
    lot_code,
    merchant_code,
    parse_code,
    serial_code,
    verify_code,
)

AUTHORITY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
BASE = "https://ft.example.cn"
GTIN = "09506000134352"
CODES = [
    merchant_code(BASE, "91350100M000100Y43", AUTHORITY),
    lot_code(BASE, GTIN, "LOT-2024/07", AUTHORITY),
    lot_code(BASE, GTIN, "50%OFF-a/b", AUTHORITY),
    lot_code(BASE, GTIN, "!\"%&'()*+,-./:;<=>?_", AUTHORITY),
    serial_code(BASE, GTIN, "SN/0001-x%", AUTHORITY),
]


@pytest.mark.parametrize("code", CODES, ids=lambda c: c.human_text)
def test_png_round_trip_render_decode_parse_verify(code: Code) -> None:
    png = render.render_png(code.qr_text)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    found = decode_image(png)
    assert [d.text for d in found] == [code.qr_text]
    parsed = parse_code(found[0].text)
    assert parsed == code
    verify_code(parsed, [AUTHORITY.public_key()])


def test_level_m_keeps_codes_at_version_7_and_q_costs_two_versions() -> None:
    """The density claims in foodtrace.trace.codes and foodtrace.qr.render."""
    for code in CODES[:2]:
        assert render.qr_matrix(code.qr_text, "M").version == 7
        assert render.qr_matrix(code.qr_text, "Q").version == 9
        # The same key id and signature in base64url would need a larger symbol.
        b64 = base64.urlsafe_b64encode(code.key_id + code.signature).decode().rstrip("=")
        as_b64 = code.qr_text.split("?s=")[0] + "?s=" + b64
        assert render.qr_matrix(as_b64, "M").version == 8
    assert render.qr_matrix(CODES[0].qr_text).size == 45


def test_png_geometry_has_the_quiet_zone() -> None:
    png = render.render_png(CODES[1].qr_text, box_px=5)
    image = Image.open(io.BytesIO(png))
    assert image.size == ((45 + 2 * render.QUIET_ZONE_MODULES) * 5,) * 2
    band = image.convert("L").crop((0, 0, image.width, 4 * 5))
    assert band.getextrema() == (255, 255)  # the quiet zone is white


def test_png_with_ascii_caption_still_decodes() -> None:
    code = CODES[1]
    png = render.render_png(code.qr_text, caption=code.human_text)
    image = Image.open(io.BytesIO(png))
    assert image.height > image.width - 1  # caption band below the symbol
    assert [d.text for d in decode_image(png)] == [code.qr_text]


def test_png_with_chinese_caption_needs_a_font(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(render, "CJK_FONT_CANDIDATES", ("/nonexistent/font.ttc",))
    with pytest.raises(ValueError, match="CJK font"):
        render.render_png("x", caption="五常大米")


def _svg_to_image(svg: bytes, scale: int = 3) -> Image.Image:
    """Rasterise our own SVG (one path of axis-aligned runs) without an SVG library."""
    text = svg.decode()
    width = int(re.search(r'width="(\d+)"', text).group(1))  # type: ignore[union-attr]
    height = int(re.search(r'height="(\d+)"', text).group(1))  # type: ignore[union-attr]
    image = Image.new("L", (width * scale, height * scale), 255)
    draw = ImageDraw.Draw(image)
    path = re.search(r'<path fill="#000" d="([^"]+)"', text).group(1)  # type: ignore[union-attr]
    for x, y, w, h in re.findall(r"M(\d+),(\d+)h(\d+)v(\d+)h-\d+z", path):
        x0, y0 = int(x) * scale, int(y) * scale
        draw.rectangle((x0, y0, x0 + int(w) * scale - 1, y0 + int(h) * scale - 1), fill=0)
    return image


@pytest.mark.parametrize("code", CODES, ids=lambda c: c.human_text)
def test_svg_round_trip(code: Code) -> None:
    svg = render.render_svg(code.qr_text, caption="五常大米 <有机> & " + code.human_text)
    assert svg.startswith(b"<?xml") and b"<svg" in svg
    assert "五常大米 &lt;有机&gt; &amp;".encode() in svg
    found = zxingcpp.read_barcodes(_svg_to_image(svg))
    assert [b.text for b in found] == [code.qr_text]


def test_svg_and_png_share_one_matrix() -> None:
    code = CODES[2]
    svg_image = _svg_to_image(render.render_svg(code.qr_text, module=1), scale=1)
    png_image = Image.open(io.BytesIO(render.render_png(code.qr_text, box_px=1))).convert("L")
    assert svg_image.tobytes() == png_image.tobytes()


def test_unknown_error_correction_level_is_refused() -> None:
    with pytest.raises(ValueError, match="error_correction"):
        render.qr_matrix("x", "X")
