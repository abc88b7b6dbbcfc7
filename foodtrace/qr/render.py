"""QR symbols as module matrices, PNG bytes and SVG bytes, with an optional caption.

Choices, and why:

* Error correction level **M** (15 %) by default. Our payloads are ~160 characters, so the
  level decides the symbol version: a lot code is version 7 (45x45 modules) at M and version 9
  (53x53) at Q. On a phone photo the limiting damage is blur, low resolution and JPEG ringing,
  which hit every module evenly; there, larger modules (fewer of them in the same print size)
  decode better than extra redundancy. Q pays off against local damage (a scratch, grease,
  a torn corner); it is one argument away for labels that expect it. The photo test grid in
  ``tests/scanner`` is what this choice was measured on.
* The payload is split into numeric / alphanumeric / byte segments (qrcode's optimiser; we
  try a few minimum run lengths and keep the smallest symbol), which is what makes the
  upper-case URL and base32 signature of :mod:`foodtrace.trace.codes` pay off.
* The quiet zone is the 4 modules the standard asks for: decoders find the finder patterns
  much less reliably on a busy background without it.
* Images are drawn from the matrix ourselves (no image factories), so the PNG, the SVG and
  the PDF label sheet all share one matrix and one geometry.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

import qrcode
from PIL import Image, ImageDraw, ImageFont

EC_LEVEL = "M"
QUIET_ZONE_MODULES = 4
PNG_BOX_PX = 8
SVG_MODULE_UNITS = 4
CAPTION_PX = 16
_SEGMENT_MINIMUMS = (0, 4, 8, 16)
_EC = {
    "L": qrcode.constants.ERROR_CORRECT_L,
    "M": qrcode.constants.ERROR_CORRECT_M,
    "Q": qrcode.constants.ERROR_CORRECT_Q,
    "H": qrcode.constants.ERROR_CORRECT_H,
}
# Fonts with CJK glyphs, tried in order for PNG captions that are not plain ASCII.
CJK_FONT_CANDIDATES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
)


@dataclass(frozen=True)
class QrMatrix:
    """A QR symbol without its quiet zone: ``rows[y][x]`` is True for a dark module."""

    version: int
    error_correction: str
    rows: tuple[tuple[bool, ...], ...]

    @property
    def size(self) -> int:
        return len(self.rows)


def qr_matrix(text: str, error_correction: str = EC_LEVEL) -> QrMatrix:
    """The smallest QR symbol for ``text`` over a few segmentations, at the given level."""
    try:
        level = _EC[error_correction]
    except KeyError:
        raise ValueError(
            f"error_correction: expected one of L, M, Q, H, got {error_correction!r}"
        ) from None
    best: qrcode.QRCode | None = None
    for minimum in _SEGMENT_MINIMUMS:
        qr = qrcode.QRCode(error_correction=level, border=0)
        qr.add_data(text, optimize=minimum)
        qr.best_fit()  # sizes the symbol only; masks are chosen once, below
        if best is None or qr.version < best.version:
            best = qr
    assert best is not None
    best.make(fit=False)
    rows = tuple(tuple(bool(m) for m in row) for row in best.get_matrix())
    return QrMatrix(version=best.version, error_correction=error_correction, rows=rows)


def dark_runs(row: Sequence[bool]) -> list[tuple[int, int]]:
    """(start, length) of each horizontal run of dark modules: fewer shapes to draw."""
    runs: list[tuple[int, int]] = []
    start = -1
    for x, dark in enumerate([*row, False]):
        if dark and start < 0:
            start = x
        elif not dark and start >= 0:
            runs.append((start, x - start))
            start = -1
    return runs


def qr_image(
    text: str,
    *,
    error_correction: str = EC_LEVEL,
    box_px: int = PNG_BOX_PX,
    quiet_zone: int = QUIET_ZONE_MODULES,
    caption: str | None = None,
    font_path: Path | None = None,
) -> Image.Image:
    """The QR as a greyscale PIL image, with the caption centred under it if given."""
    matrix = qr_matrix(text, error_correction)
    side = (matrix.size + 2 * quiet_zone) * box_px
    symbol = Image.new("L", (side, side), 255)
    draw = ImageDraw.Draw(symbol)
    for y, row in enumerate(matrix.rows):
        top = (y + quiet_zone) * box_px
        for x, length in dark_runs(row):
            left = (x + quiet_zone) * box_px
            draw.rectangle((left, top, left + length * box_px - 1, top + box_px - 1), fill=0)
    if not caption:
        return symbol
    font = _caption_font(caption, font_path)
    left, top, right, bottom = (round(v) for v in font.getbbox(caption))
    text_w, text_h = right - left, bottom - top
    width = max(side, text_w + 2 * box_px)
    image = Image.new("L", (width, side + text_h + box_px * quiet_zone // 2), 255)
    image.paste(symbol, ((width - side) // 2, 0))
    ImageDraw.Draw(image).text(((width - text_w) // 2 - left, side - top), caption, 0, font)
    return image


def _caption_font(
    caption: str, font_path: Path | None
) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    if font_path is not None:
        return ImageFont.truetype(str(font_path), CAPTION_PX)
    if caption.isascii():
        return ImageFont.load_default(CAPTION_PX)
    for candidate in CJK_FONT_CANDIDATES:
        if Path(candidate).exists():
            return ImageFont.truetype(candidate, CAPTION_PX)
    raise ValueError(
        "caption: non-ASCII text needs a CJK font; pass font_path (none of "
        f"{', '.join(CJK_FONT_CANDIDATES)} exists). SVG and PDF captions need no font file."
    )


def render_png(
    text: str,
    *,
    error_correction: str = EC_LEVEL,
    box_px: int = PNG_BOX_PX,
    quiet_zone: int = QUIET_ZONE_MODULES,
    caption: str | None = None,
    font_path: Path | None = None,
) -> bytes:
    """PNG bytes of the QR (1 bit per pixel when there is no caption)."""
    image = qr_image(
        text,
        error_correction=error_correction,
        box_px=box_px,
        quiet_zone=quiet_zone,
        caption=caption,
        font_path=font_path,
    )
    out = io.BytesIO()
    (image if caption else image.convert("1")).save(out, format="PNG", optimize=True)
    return out.getvalue()


def render_svg(
    text: str,
    *,
    error_correction: str = EC_LEVEL,
    module: int = SVG_MODULE_UNITS,
    quiet_zone: int = QUIET_ZONE_MODULES,
    caption: str | None = None,
) -> bytes:
    """SVG bytes of the QR: one path of dark runs; the caption is text (any script)."""
    matrix = qr_matrix(text, error_correction)
    side = (matrix.size + 2 * quiet_zone) * module
    caption_h = 6 * module if caption else 0
    q, m = quiet_zone, module
    path = "".join(
        f"M{(x + q) * m},{(y + q) * m}h{n * m}v{m}h-{n * m}z"
        for y, row in enumerate(matrix.rows)
        for x, n in dark_runs(row)
    )
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n',
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {side} {side + caption_h}" ',
        f'width="{side}" height="{side + caption_h}" shape-rendering="crispEdges">',
        f'<rect width="{side}" height="{side + caption_h}" fill="#fff"/>',
        f'<path fill="#000" d="{path}"/>',
    ]
    if caption:
        parts.append(
            f'<text x="{side / 2}" y="{side + caption_h / 2}" text-anchor="middle" '
            'dominant-baseline="middle" '
            f'font-size="{3 * module}" font-family="sans-serif, \'Noto Sans CJK SC\', '
            f"'PingFang SC', 'Microsoft YaHei'\">{escape(caption)}</text>"
        )
    parts.append("</svg>\n")
    return "".join(parts).encode("utf-8")
