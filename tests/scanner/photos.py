"""Deterministic photo-like images of QR codes, for decode tests and the scanner benchmark.

A phone photo of a label is modelled in the order the damage happens: the label lies on a
textured, unevenly lit surface (background), is seen at an angle (rotation, perspective
skew), through a lens (Gaussian blur), by a small sensor (down-scaling so the symbol is
~200 px across), with sensor noise, and is saved as a low-quality JPEG. Every random choice
comes from a seeded ``numpy`` generator, so an image is a pure function of its arguments.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageFilter


@dataclass(frozen=True)
class Degradation:
    """How a photo is spoiled. Sizes and blur are in the final image's pixels."""

    rotation_deg: float = 0.0
    blur_px: float = 0.0
    noise_sigma: float = 0.0
    skew: float = 0.0  # perspective: corners move by up to this fraction of the side
    symbol_px: int = 200  # the QR (with its quiet zone) is about this wide in the photo
    jpeg_quality: int | None = 40

    @property
    def label(self) -> str:
        jpeg = f"q{self.jpeg_quality}" if self.jpeg_quality else "png"
        return (
            f"rot{self.rotation_deg:g}-blur{self.blur_px:g}-noise{self.noise_sigma:g}-"
            f"skew{self.skew:g}-{self.symbol_px}px-{jpeg}"
        )


def background(size: tuple[int, int], rng: np.random.Generator) -> Image.Image:
    """A grey surface: a lighting gradient plus blotchy low-frequency texture."""
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    angle = rng.uniform(0, 2 * np.pi)
    ramp = (np.cos(angle) * xx / w + np.sin(angle) * yy / h) * rng.uniform(20, 50)
    coarse = rng.normal(0, 1, (max(2, h // 40), max(2, w // 40)))
    texture = np.asarray(
        Image.fromarray(((coarse - coarse.min()) / np.ptp(coarse) * 255).astype(np.uint8)).resize(
            (w, h), Image.Resampling.BICUBIC
        ),
        dtype=np.float64,
    )
    base = rng.uniform(140, 200) + ramp + (texture - 128) * 0.15
    return Image.fromarray(np.clip(base, 0, 255).astype(np.uint8), "L")


def _perspective(image: Image.Image, skew: float, rng: np.random.Generator) -> Image.Image:
    """Move each corner inward by up to ``skew`` of the side, as a tilted camera would."""
    w, h = image.size
    src = [(0, 0), (w, 0), (w, h), (0, h)]
    dst = [
        (x + rng.uniform(0, skew) * w * (1 if x == 0 else -1), y)
        if i % 2 == 0
        else (x, y + rng.uniform(0, skew) * h * (1 if y == 0 else -1))
        for i, (x, y) in enumerate(src)
    ]
    # Solve for the 8 coefficients mapping output (dst) pixels back to input (src) pixels.
    rows = []
    for (x, y), (u, v) in zip(dst, src, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
    coeffs = np.linalg.solve(np.array(rows, float), np.array(src, float).reshape(8))
    return image.transform(
        (w, h),
        Image.Transform.PERSPECTIVE,
        tuple(coeffs),
        Image.Resampling.BICUBIC,
    )


def place(symbol: Image.Image, d: Degradation, rng: np.random.Generator) -> Image.Image:
    """The symbol at full resolution after skew and rotation, white outside the label."""
    label = symbol if symbol.mode == "LA" else symbol.convert("LA")
    if d.skew:
        label = _perspective(label, d.skew, rng)
    if d.rotation_deg:
        label = label.rotate(d.rotation_deg, Image.Resampling.BICUBIC, expand=True)
    return label


def _finish(image: Image.Image, d: Degradation, rng: np.random.Generator) -> Image.Image:
    if d.blur_px:
        image = image.filter(ImageFilter.GaussianBlur(d.blur_px))
    if d.noise_sigma:
        pixels = np.asarray(image, dtype=np.float64)
        pixels = pixels + rng.normal(0, d.noise_sigma, pixels.shape)
        image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "L")
    if d.jpeg_quality:
        out = io.BytesIO()
        image.save(out, format="JPEG", quality=d.jpeg_quality)
        image = Image.open(io.BytesIO(out.getvalue()))
        image.load()
    return image


def _paste_label(canvas: Image.Image, label: Image.Image, at: tuple[int, int]) -> None:
    """Paste a (rotated) label: only the label's own pixels, not the corners rotation adds."""
    mask = Image.new("L", label.size, 255)
    if label.mode == "LA":
        mask = label.getchannel("A")
        label = label.convert("L")
    canvas.paste(label, at, mask)


def photo(symbol: Image.Image, d: Degradation, seed: int) -> Image.Image:
    """One QR photographed with degradation ``d``: a greyscale image ~1.6x the symbol."""
    rng = np.random.default_rng(seed)
    scale = d.symbol_px / symbol.width
    small = symbol.convert("L").resize(
        (d.symbol_px, round(symbol.height * scale)), Image.Resampling.LANCZOS
    )
    label = place(small.convert("LA"), d, rng)
    side = round(max(label.size) * 1.6)
    canvas = background((side, side), rng)
    x = int(rng.integers(0, side - label.width + 1))
    y = int(rng.integers(0, side - label.height + 1))
    _paste_label(canvas, label, (x, y))
    return _finish(canvas, d, rng)


def photo_bytes(symbol: Image.Image, d: Degradation, seed: int) -> bytes:
    """As :func:`photo`, encoded (JPEG at the degradation's quality, else PNG)."""
    out = io.BytesIO()
    image = photo(symbol, d, seed)
    if d.jpeg_quality:
        image.save(out, format="JPEG", quality=d.jpeg_quality)
    else:
        image.save(out, format="PNG")
    return out.getvalue()


def shelf_photo(
    symbols: Sequence[Image.Image],
    seed: int,
    *,
    symbol_px: int = 220,
    degradation: Degradation | None = None,
) -> Image.Image:
    """Several labels on one background, in a loose grid with random jitter and rotation."""
    d = degradation or Degradation(blur_px=0.6, noise_sigma=4, jpeg_quality=60)
    rng = np.random.default_rng(seed)
    cols = int(np.ceil(np.sqrt(len(symbols))))
    rows = int(np.ceil(len(symbols) / cols))
    cell = round(symbol_px * 1.7)
    canvas = background((cols * cell, rows * cell), rng)
    for i, symbol in enumerate(symbols):
        scale = symbol_px / symbol.width
        small = symbol.convert("L").resize(
            (symbol_px, round(symbol.height * scale)), Image.Resampling.LANCZOS
        )
        tilt = Degradation(rotation_deg=float(rng.uniform(-15, 15)), skew=d.skew)
        label = place(small.convert("LA"), tilt, rng)
        slack_x = max(0, cell - label.width)
        slack_y = max(0, cell - label.height)
        x = (i % cols) * cell + int(rng.integers(0, slack_x + 1))
        y = (i // cols) * cell + int(rng.integers(0, slack_y + 1))
        _paste_label(canvas, label, (x, y))
    return _finish(canvas, d, rng)


ROTATIONS = (0.0, 7.0, 15.0)
BLURS = (0.0, 0.8, 1.2)
NOISES = (0.0, 8.0)
SKEWS = (0.0, 0.06)
SIZES = (150, 200)
JPEG_QUALITIES: tuple[int | None, ...] = (40, None)


def degradation_grid() -> Iterator[Degradation]:
    """The required grid: every combination below must decode (see tests/scanner)."""
    for rot, blur, noise, skew, size, jpeg in itertools.product(
        ROTATIONS, BLURS, NOISES, SKEWS, SIZES, JPEG_QUALITIES
    ):
        yield Degradation(rot, blur, noise, skew, size, jpeg)
