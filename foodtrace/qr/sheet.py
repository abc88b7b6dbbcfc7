"""Printable A4 label sheets (PDF): a grid of labels, each a QR, its code text and a name.

The QR is drawn as vector rectangles from the same matrix the PNG/SVG renderers use, so it
prints sharp at any resolution and the PDF stays small. Chinese names use reportlab's built-in
CID font ``STSong-Light`` (Adobe-GB1): no font file is shipped or embedded, PDF readers
supply the glyphs. Code text (ASCII) is set in Courier so ``0``/``O`` and ``1``/``l`` differ.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas

from foodtrace.qr.render import EC_LEVEL, QUIET_ZONE_MODULES, dark_runs, qr_matrix

CJK_FONT = "STSong-Light"
CODE_FONT = "Courier"
COLUMNS = 3
ROWS = 6
PAGE_MARGIN = 10 * mm
LABEL_PADDING = 2 * mm
NAME_PT = 9.0
CODE_PT = 6.0


@dataclass(frozen=True)
class Label:
    """One label: the QR payload, the human-readable code text and a (Chinese) name."""

    qr_text: str
    code_text: str
    name: str


def _register_fonts() -> None:
    if CJK_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))


def _fit(text: str, font: str, size: float, width: float) -> str:
    """``text`` cut (with an ellipsis) to fit ``width`` points."""
    if pdfmetrics.stringWidth(text, font, size) <= width:
        return text
    while text and pdfmetrics.stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text + "…"


def _draw_qr(canvas: Canvas, text: str, x: float, y: float, side: float, ec: str) -> None:
    """The QR (with its quiet zone) in the square whose lower-left corner is (x, y)."""
    matrix = qr_matrix(text, ec)
    module = side / (matrix.size + 2 * QUIET_ZONE_MODULES)
    path = canvas.beginPath()
    for row_index, row in enumerate(matrix.rows):
        top = y + side - (row_index + QUIET_ZONE_MODULES) * module
        for col, length in dark_runs(row):
            left = x + (col + QUIET_ZONE_MODULES) * module
            path.rect(left, top - module, length * module, module)
    canvas.drawPath(path, stroke=0, fill=1)


def label_sheet_pdf(
    labels: Sequence[Label],
    *,
    columns: int = COLUMNS,
    rows: int = ROWS,
    error_correction: str = EC_LEVEL,
    title: str = "食安码标签",
    compress: bool = True,
) -> bytes:
    """A4 pages of ``columns`` x ``rows`` labels (as many pages as needed), as PDF bytes.

    Each cell holds the QR centred at the top, the code text under it and the name at the
    bottom; light grey cut lines separate the cells.
    """
    if columns < 1 or rows < 1:
        raise ValueError(f"columns, rows: expected at least 1, got {columns}, {rows}")
    _register_fonts()
    out = io.BytesIO()
    canvas = Canvas(out, pagesize=A4, pageCompression=1 if compress else 0)
    canvas.setTitle(title)
    page_w, page_h = A4
    cell_w = (page_w - 2 * PAGE_MARGIN) / columns
    cell_h = (page_h - 2 * PAGE_MARGIN) / rows
    text_w = cell_w - 2 * LABEL_PADDING
    text_block = NAME_PT + CODE_PT + 3 * LABEL_PADDING
    side = min(cell_w, cell_h - text_block) - 2 * LABEL_PADDING
    per_page = columns * rows
    for start in range(0, max(len(labels), 1), per_page):
        if start:
            canvas.showPage()
        _draw_cut_lines(canvas, columns, rows, cell_w, cell_h)
        for i, label in enumerate(labels[start : start + per_page]):
            left = PAGE_MARGIN + (i % columns) * cell_w
            top = page_h - PAGE_MARGIN - (i // columns) * cell_h
            centre = left + cell_w / 2
            qr_bottom = top - LABEL_PADDING - side
            canvas.setFillGray(0)
            _draw_qr(canvas, label.qr_text, centre - side / 2, qr_bottom, side, error_correction)
            canvas.setFont(CODE_FONT, CODE_PT)
            code_y = qr_bottom - LABEL_PADDING - CODE_PT
            canvas.drawCentredString(
                centre, code_y, _fit(label.code_text, CODE_FONT, CODE_PT, text_w)
            )
            canvas.setFont(CJK_FONT, NAME_PT)
            canvas.drawCentredString(
                centre,
                code_y - LABEL_PADDING - NAME_PT,
                _fit(label.name, CJK_FONT, NAME_PT, text_w),
            )
    canvas.save()
    return out.getvalue()


def _draw_cut_lines(canvas: Canvas, columns: int, rows: int, cell_w: float, cell_h: float) -> None:
    page_w, page_h = A4
    canvas.setStrokeGray(0.8)
    canvas.setLineWidth(0.3)
    for c in range(columns + 1):
        x = PAGE_MARGIN + c * cell_w
        canvas.line(x, PAGE_MARGIN, x, page_h - PAGE_MARGIN)
    for r in range(rows + 1):
        y = PAGE_MARGIN + r * cell_h
        canvas.line(PAGE_MARGIN, y, page_w - PAGE_MARGIN, y)
