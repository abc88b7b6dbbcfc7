"""Decoding QR codes from photos: every required degradation decodes, parses and verifies.

The photos come from ``photos.py`` (seeded, deterministic). The required grid is
``photos.degradation_grid()``: rotation 0/7/15°, blur 0/0.8/1.2 px, noise 0/8, perspective
skew 0/6 %, symbol 150/200 px wide, JPEG quality 40 or lossless; 144 settings x 3 code kinds.
"""

from __future__ import annotations

import collections
import time
from pathlib import Path

import numpy as np
import photos
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from PIL import Image

from foodtrace.qr import render
from foodtrace.scanner import decode
from foodtrace.scanner.decode import DecodeError, decode_folder, decode_image
from foodtrace.trace.codes import (
    Code,
    lot_code,
    merchant_code,
    parse_code,
    serial_code,
    verify_code,
)

AUTHORITY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
TRUSTED = [AUTHORITY.public_key()]
BASE = "https://ft.example.cn"
GTIN = "09506000134352"
CODES = {
    "merchant": merchant_code(BASE, "91350100M000100Y43", AUTHORITY),
    "lot": lot_code(BASE, GTIN, "LOT-2024/07%", AUTHORITY),
    "serial": serial_code(BASE, GTIN, "SN/0001-x%", AUTHORITY),
}


def _symbol(code: Code, error_correction: str = render.EC_LEVEL) -> Image.Image:
    return render.qr_image(code.qr_text, error_correction=error_correction, box_px=4)


def test_every_required_degradation_decodes_parses_and_verifies() -> None:
    grid = list(photos.degradation_grid())
    assert len(grid) == 144
    failures: list[str] = []
    passes: collections.Counter[str] = collections.Counter()
    elapsed = 0.0
    for kind, code in CODES.items():
        symbol = _symbol(code)
        for index, degradation in enumerate(grid):
            image = photos.photo(symbol, degradation, seed=index)
            started = time.perf_counter()
            found = decode_image(image)
            elapsed += time.perf_counter() - started
            hits = [d for d in found if d.text == code.qr_text]
            if not hits:
                failures.append(f"{kind}: {degradation.label}")
                continue
            passes[hits[0].found_by] += 1
            parsed = parse_code(hits[0].text)
            assert parsed == code
            verify_code(parsed, TRUSTED)
    total = len(grid) * len(CODES)
    print(
        f"\ndecoded {total - len(failures)}/{total}; by pass {dict(passes)}; "
        f"{1000 * elapsed / total:.2f} ms/image"
    )
    assert not failures, f"{len(failures)} of {total} did not decode: {failures}"


def test_jpeg_bytes_of_a_photo_decode() -> None:
    degradation = photos.Degradation(rotation_deg=15, blur_px=1.2, noise_sigma=8, symbol_px=150)
    data = photos.photo_bytes(_symbol(CODES["lot"]), degradation, seed=7)
    assert data[:2] == b"\xff\xd8"
    assert [d.text for d in decode_image(data)] == [CODES["lot"].qr_text]


@pytest.mark.parametrize("seed", range(4))
def test_shelf_photo_with_several_codes(seed: int) -> None:
    codes = [lot_code(BASE, GTIN, f"L{seed}-{i}/%", AUTHORITY) for i in range(5)]
    codes.append(CODES["merchant"])
    image = photos.shelf_photo([_symbol(c) for c in codes], seed)
    found = decode_image(image, min_codes=len(codes))
    assert {d.text for d in found} == {c.qr_text for c in codes}
    for d in found:
        for x, y in d.corners:
            assert 0 <= x <= image.width and 0 <= y <= image.height
        verify_code(parse_code(d.text), TRUSTED)


def _placed(scale_px: int) -> tuple[Image.Image, tuple[int, int, int]]:
    """A clean symbol pasted at a known place: (image, (left, top, symbol side in px))."""
    symbol = render.qr_image(CODES["lot"].qr_text, box_px=scale_px, quiet_zone=4)
    canvas = Image.new("L", (symbol.width + 100, symbol.height + 60), 200)
    canvas.paste(symbol, (70, 40))
    quiet = 4 * scale_px
    return canvas, (70 + quiet, 40 + quiet, symbol.width - 2 * quiet)


@pytest.mark.parametrize("only_pass", [p.name for p in decode.PASSES])
def test_positions_are_in_original_image_pixels(
    only_pass: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each pass on its own finds the code where it is, whatever it rescaled."""
    monkeypatch.setattr(decode, "PASSES", tuple(p for p in decode.PASSES if p.name == only_pass))
    image, (left, top, side) = _placed(3)
    (found,) = decode_image(image)
    assert found.found_by == only_pass
    expected = [(left, top), (left + side, top), (left + side, top + side), (left, top + side)]
    for (x, y), (ex, ey) in zip(found.corners, expected, strict=True):
        assert abs(x - ex) <= 4 and abs(y - ey) <= 4, (found.corners, expected)


def test_level_m_survives_more_blur_than_level_q() -> None:
    """Why render.EC_LEVEL is M: beyond the required grid (150 px, blur 1.2-1.4, noise 8),
    the smaller version-7 symbol decodes more often than the version-9 one at level Q."""
    settings = [
        photos.Degradation(rotation_deg=seed * 2.0, blur_px=blur, noise_sigma=8, symbol_px=150)
        for blur in (1.2, 1.4)
        for seed in range(8)
    ]
    decoded = {}
    for level in ("M", "Q"):
        symbol = _symbol(CODES["lot"], level)
        decoded[level] = sum(
            any(d.text == CODES["lot"].qr_text for d in decode_image(photos.photo(symbol, s, i)))
            for i, s in enumerate(settings)
        )
    print(f"\nbeyond the grid: M {decoded['M']}/{len(settings)}, Q {decoded['Q']}/{len(settings)}")
    assert decoded["M"] > decoded["Q"]


def test_an_image_without_codes_gives_nothing() -> None:
    background = photos.background((400, 300), np.random.default_rng(3))
    assert decode_image(background) == []


def test_unreadable_input_is_a_decode_error() -> None:
    with pytest.raises(DecodeError, match="cannot read"):
        decode_image(b"not an image")


def test_folder_helper_reports_each_file(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.png").write_bytes(render.render_png(CODES["merchant"].qr_text))
    photo = photos.photo(_symbol(CODES["serial"]), photos.Degradation(rotation_deg=7), seed=1)
    photo.save(tmp_path / "sub" / "b.jpg", quality=40)
    (tmp_path / "c.jpg").write_bytes(b"broken")
    photos.background((200, 200), np.random.default_rng(1)).save(tmp_path / "d.png")
    (tmp_path / "notes.txt").write_text("ignored")
    results = {path.relative_to(tmp_path).as_posix(): r for path, r in decode_folder(tmp_path)}
    assert list(results) == ["a.png", "c.jpg", "d.png", "sub/b.jpg"]
    assert results["a.png"] == decode_image(tmp_path / "a.png")
    assert [d.text for d in decode_image(tmp_path / "a.png")] == [CODES["merchant"].qr_text]
    assert results["sub/b.jpg"] == decode_image(tmp_path / "sub" / "b.jpg")
    assert [d.text for d in decode_image(str(tmp_path / "sub" / "b.jpg"))] == [
        CODES["serial"].qr_text
    ]
    assert isinstance(results["c.jpg"], DecodeError)
    assert results["d.png"] == []
