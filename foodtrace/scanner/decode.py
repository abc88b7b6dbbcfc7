"""Find and decode every QR code in a photo (file, bytes or PIL image).

zxing-cpp does the work. A clean photo decodes on the first, cheap pass (zxing's local-average
binarizer with rotation and downscaling on). Only when a pass finds fewer codes than asked for
do we spend time on the next one, in order of cost: the global-histogram binarizer; an unsharp
mask against lens blur; a 2-3x upscaled copy of a small image (modules of ~3 px survive
zxing's sampling better when enlarged); upscaled and sharpened; and last a median-filtered,
Otsu-thresholded copy for noisy or unevenly lit shots. On the photo grid in
``tests/scanner/photos.py`` the sharpening pass is what rescues blurred 150 px codes. Results
are merged by text; positions are reported in the coordinates of the original image.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import zxingcpp
from PIL import Image, ImageFilter, ImageOps

# Images whose shorter side is below this are upscaled in the preprocessing passes.
UPSCALE_BELOW_PX = 600
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif", ".tif", ".tiff"})

QR_ONLY = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)

Point = tuple[float, float]


@dataclass(frozen=True)
class DecodedQr:
    """One QR found in an image: its text and corners (top-left, top-right, bottom-right,
    bottom-left, in the original image's pixels), and which pass found it."""

    text: str
    corners: tuple[Point, Point, Point, Point]
    found_by: str

    @property
    def center(self) -> Point:
        return (
            sum(p[0] for p in self.corners) / 4,
            sum(p[1] for p in self.corners) / 4,
        )


class DecodeError(ValueError):
    """The input is not an image that can be read."""


@dataclass(frozen=True)
class _Pass:
    name: str
    prepare: Callable[[Image.Image], tuple[Image.Image, float]]
    binarizer: zxingcpp.Binarizer


def _as_is(image: Image.Image) -> tuple[Image.Image, float]:
    return image, 1.0


def _upscale(image: Image.Image) -> tuple[Image.Image, float]:
    """Small images 2x or 3x larger, so a module spans several pixels after filtering."""
    short = min(image.size)
    if short >= UPSCALE_BELOW_PX:
        return image, 1.0
    scale = 2.0 if short * 2 >= UPSCALE_BELOW_PX else 3.0
    size = (round(image.width * scale), round(image.height * scale))
    return image.resize(size, Image.Resampling.BICUBIC), scale


def _sharpen(image: Image.Image, scale: float) -> Image.Image:
    """Undo some lens blur: unsharp mask about one original pixel wide."""
    image = ImageOps.autocontrast(image, cutoff=1)
    return image.filter(ImageFilter.UnsharpMask(radius=scale, percent=200, threshold=2))


def _sharpened(image: Image.Image) -> tuple[Image.Image, float]:
    return _sharpen(image, 1.0), 1.0


def _upscaled_sharpened(image: Image.Image) -> tuple[Image.Image, float]:
    image, scale = _upscale(image)
    return _sharpen(image, scale), scale


def _thresholded(image: Image.Image) -> tuple[Image.Image, float]:
    """Median filter (sensor noise), then upscale, sharpen and one global Otsu cut."""
    image, scale = _upscaled_sharpened(image.filter(ImageFilter.MedianFilter(3)))
    cut = otsu_threshold(image)
    return image.point(lambda v: 255 if v > cut else 0), scale


def otsu_threshold(image: Image.Image) -> int:
    """Otsu's grey level that best separates dark modules from light background."""
    hist = image.histogram()[:256]
    total = sum(hist)
    grand = sum(i * h for i, h in enumerate(hist))
    best, cut = -1.0, 127
    weight = 0
    running = 0
    for level, count in enumerate(hist):
        weight += count
        if weight == 0 or weight == total:
            continue
        running += level * count
        mean_dark = running / weight
        mean_light = (grand - running) / (total - weight)
        between = weight * (total - weight) * (mean_dark - mean_light) ** 2
        if between > best:
            best, cut = between, level
    return cut


PASSES = (
    _Pass("local-average", _as_is, zxingcpp.Binarizer.LocalAverage),
    _Pass("global-histogram", _as_is, zxingcpp.Binarizer.GlobalHistogram),
    _Pass("sharpened", _sharpened, zxingcpp.Binarizer.LocalAverage),
    _Pass("upscaled", _upscale, zxingcpp.Binarizer.LocalAverage),
    _Pass("upscaled-sharpened", _upscaled_sharpened, zxingcpp.Binarizer.LocalAverage),
    _Pass("median-otsu", _thresholded, zxingcpp.Binarizer.BoolCast),
)


def load_image(source: Image.Image | bytes | str | Path) -> Image.Image:
    """A greyscale image from a PIL image, encoded bytes or a file path."""
    if isinstance(source, Image.Image):
        image = source
    else:
        try:
            image = Image.open(io.BytesIO(source) if isinstance(source, bytes) else source)
            image.load()
        except (OSError, Image.DecompressionBombError) as exc:
            raise DecodeError(f"image: cannot read: {exc}") from exc
    image = ImageOps.exif_transpose(image)
    return image.convert("L")


def decode_image(
    source: Image.Image | bytes | str | Path, *, min_codes: int = 1
) -> list[DecodedQr]:
    """Every QR code found, in reading order (top to bottom, left to right).

    Passes run in order of cost until at least ``min_codes`` distinct codes were found (pass
    the number of codes you expect on a shelf photo), or all passes ran.
    """
    image = load_image(source)
    found: dict[str, DecodedQr] = {}
    for step in PASSES:
        prepared, scale = step.prepare(image)
        for barcode in zxingcpp.read_barcodes(
            prepared,
            formats=QR_ONLY,
            try_rotate=True,
            try_downscale=True,
            try_invert=False,
            binarizer=step.binarizer,
        ):
            if barcode.valid and barcode.text not in found:
                pos = barcode.position

                def at(p: zxingcpp.Point, s: float = scale) -> Point:
                    return (p.x / s, p.y / s)

                corners = (
                    at(pos.top_left),
                    at(pos.top_right),
                    at(pos.bottom_right),
                    at(pos.bottom_left),
                )
                found[barcode.text] = DecodedQr(barcode.text, corners, step.name)
        if len(found) >= min_codes:
            break
    return sorted(found.values(), key=lambda d: (round(d.center[1] / 50), d.center[0]))


def decode_folder(
    folder: str | Path, *, min_codes: int = 1
) -> Iterator[tuple[Path, list[DecodedQr] | DecodeError]]:
    """(path, codes) for every image file under ``folder`` (sorted); unreadable files yield
    their :class:`DecodeError` instead of stopping the walk."""
    for path in sorted(Path(folder).rglob("*")):
        if path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES:
            try:
                yield path, decode_image(path, min_codes=min_codes)
            except DecodeError as exc:
                yield path, exc
