"""A4 label sheets: a valid PDF with the right pages, Chinese names, and QRs that decode.

The QRs are decoded from the rendered page. With poppler's ``pdftoppm`` installed the page is
rasterised by it; without it, the page's content stream is rasterised here (the sheet draws
each QR as filled rectangles, so a rectangle filler is a faithful renderer for them). Either
way the test reads what is in the PDF, not the matrix the PDF was drawn from.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from PIL import Image, ImageDraw

from foodtrace.qr import sheet
from foodtrace.scanner.decode import decode_image
from foodtrace.trace.codes import lot_code, merchant_code, parse_code, verify_code

AUTHORITY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
BASE = "https://ft.example.cn"
NAMES = ["五常稻花香大米 5kg", "赣南脐橙", "冷鲜猪肉（二分体）", "沙县小吃（福州店）"]
A4_PT = (595.2756, 841.8898)
PX_PER_PT = 3


def _labels(n: int) -> list[sheet.Label]:
    labels = []
    for i in range(n):
        code = (
            merchant_code(BASE, f"SHOP-{i:03d}", AUTHORITY)
            if i % 4 == 3
            else lot_code(BASE, "09506000134352", f"L{i:02d}-2024/07%", AUTHORITY)
        )
        labels.append(sheet.Label(code.qr_text, code.human_text, NAMES[i % len(NAMES)]))
    return labels


def _page_streams(pdf: bytes) -> list[str]:
    """Uncompressed content streams that draw QR rectangles, one per page in order."""
    streams = re.findall(rb"stream\r?\n(.*?)endstream", pdf, re.S)
    return [s.decode("latin-1") for s in streams if b" re " in s]


def _rasterise_rects(stream: str) -> Image.Image:
    image = Image.new("L", (round(A4_PT[0] * PX_PER_PT), round(A4_PT[1] * PX_PER_PT)), 255)
    draw = ImageDraw.Draw(image)
    height = A4_PT[1]
    for x, y, w, h in re.findall(r"([\d.]+) ([\d.]+) ([\d.]+) ([\d.]+) re", stream):
        x0, y0, x1, y1 = (
            float(x),
            height - float(y) - float(h),
            float(x) + float(w),
            height - float(y),
        )
        draw.rectangle(
            (x0 * PX_PER_PT, y0 * PX_PER_PT, x1 * PX_PER_PT - 1, y1 * PX_PER_PT - 1), fill=0
        )
    return image


def _page_one(pdf: bytes, tmp_path: Path) -> tuple[Image.Image, str]:
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm:
        src = tmp_path / "sheet.pdf"
        src.write_bytes(pdf)
        subprocess.run(
            [
                pdftoppm,
                "-r",
                "200",
                "-f",
                "1",
                "-l",
                "1",
                "-gray",
                "-png",
                str(src),
                str(tmp_path / "p"),
            ],
            check=True,
        )
        (page,) = tmp_path.glob("p*.png")
        return Image.open(page), "pdftoppm"
    return _rasterise_rects(_page_streams(pdf)[0]), "content-stream rectangles"


def _page_count(pdf: bytes) -> int:
    (count,) = re.findall(rb"/Count (\d+)", pdf)
    return int(count)


def _shown_strings(pdf: bytes) -> list[bytes]:
    """The byte strings of every ``(...) Tj`` text operator, PDF escapes undone."""
    escapes = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}

    def unescape(match: re.Match[bytes]) -> bytes:
        body = match.group(1)
        if body[:1].isdigit():
            return bytes([int(body, 8)])
        return escapes.get(body, body)

    literals = re.findall(rb"\(((?:[^()\\]|\\.)*)\) Tj", pdf, re.S)
    return [re.sub(rb"\\([0-7]{1,3}|.)", unescape, lit, flags=re.S) for lit in literals]


def test_sheet_is_a_pdf_with_one_page_per_grid() -> None:
    pdf = sheet.label_sheet_pdf(_labels(20))
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    assert _page_count(pdf) == 2  # 3 x 6 = 18 labels a page
    assert len(re.findall(rb"/Type /Page\b", pdf)) == 2
    assert _page_count(sheet.label_sheet_pdf(_labels(18))) == 1
    assert _page_count(sheet.label_sheet_pdf(_labels(8), columns=2, rows=2)) == 2
    assert b"/STSong-Light" in pdf and b"/UniGB-UCS2-H" in pdf
    assert b"/FontFile" not in pdf  # the CID font is not embedded: no font file needed


def test_sheet_text_holds_code_text_and_chinese_names() -> None:
    labels = _labels(4)
    shown = _shown_strings(sheet.label_sheet_pdf(labels, compress=False))
    for label in labels:
        assert label.code_text.encode() in shown
        # STSong-Light with UniGB-UCS2-H: names are shown as UTF-16BE strings.
        assert label.name.encode("utf-16-be") in shown


def test_qrs_decode_from_the_rendered_page(tmp_path: Path) -> None:
    labels = _labels(18)
    pdf = sheet.label_sheet_pdf(labels, compress=False)
    page, renderer = _page_one(pdf, tmp_path)
    found = decode_image(page, min_codes=len(labels))
    texts = {d.text for d in found}
    assert texts == {label.qr_text for label in labels}, f"rendered by {renderer}"
    for text in texts:
        verify_code(parse_code(text), [AUTHORITY.public_key()])
    # Reading order on the page is the label order.
    assert [d.text for d in found] == [label.qr_text for label in labels]


def test_long_names_are_cut_to_the_cell() -> None:
    long_name = "特别长的产品名称" * 10
    shown = _shown_strings(
        sheet.label_sheet_pdf([sheet.Label("X", "X", long_name)], compress=False)
    )
    (name,) = [s.decode("utf-16-be") for s in shown if s != b"X"]
    assert name.endswith("…") and long_name.startswith(name[:-1]) and len(name) < 30


def test_bad_grid_is_refused() -> None:
    with pytest.raises(ValueError, match="columns"):
        sheet.label_sheet_pdf(_labels(1), columns=0)
