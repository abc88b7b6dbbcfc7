"""Rasterise our own SVGs and label-sheet PDFs without an SVG or PDF library, so the tests
decode what the files contain (both draw QR modules as axis-aligned rectangles)."""

from __future__ import annotations

import base64
import re
import zlib

from PIL import Image, ImageDraw

A4_PT = (595.2756, 841.8898)
PX_PER_PT = 3


def svg_to_image(svg: bytes, scale: int = 3) -> Image.Image:
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


def pdf_pages(pdf: bytes) -> list[Image.Image]:
    """Each page's filled rectangles, from its (ASCII85/Flate-encoded or plain) content stream."""
    pages = []
    for raw in re.findall(rb"stream\r?\n(.*?)\r?\n?endstream", pdf, re.S):
        if raw.rstrip().endswith(b"~>"):  # reportlab: /ASCII85Decode /FlateDecode
            raw = base64.a85decode(raw.rstrip(), adobe=True)
        try:
            stream = zlib.decompress(raw).decode("latin-1")
        except zlib.error:
            stream = raw.decode("latin-1")
        if " re" not in stream:
            continue
        image = Image.new("L", (round(A4_PT[0] * PX_PER_PT), round(A4_PT[1] * PX_PER_PT)), 255)
        draw = ImageDraw.Draw(image)
        for x, y, w, h in re.findall(r"([\d.]+) ([\d.]+) ([\d.]+) ([\d.]+) re", stream):
            x0, y1 = float(x), A4_PT[1] - float(y)
            x1, y0 = x0 + float(w), y1 - float(h)
            draw.rectangle(
                (x0 * PX_PER_PT, y0 * PX_PER_PT, x1 * PX_PER_PT - 1, y1 * PX_PER_PT - 1), fill=0
            )
        pages.append(image)
    return pages
