"""The draw's PRNG and sampling: reproducible from the published data alone."""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path
from typing import Any

import pytest

from foodtrace.draw import sampling


@pytest.fixture(scope="module")
def golden(testdata: Path) -> list[dict[str, Any]]:
    vectors: list[dict[str, Any]] = json.loads(
        (testdata / "draw" / "golden.json").read_text(encoding="utf-8")
    )
    return vectors


def test_stream_is_sha256_counter_mode() -> None:
    seed = bytes(range(32))
    stream = sampling.blocks(seed, "x")
    first, second = next(stream), next(stream)
    assert first == int.from_bytes(
        hashlib.sha256(seed + b"\x00x\x00" + (0).to_bytes(8, "big")).digest(), "big"
    )
    assert second == int.from_bytes(
        hashlib.sha256(seed + b"\x00x\x00" + (1).to_bytes(8, "big")).digest(), "big"
    )


def test_below_rejects_the_partial_run() -> None:
    # n = 2**255 + 1: any value >= 2**256 - (2**256 mod n) is rejected, so a stream whose
    # first value is in the partial run takes the second one
    n = (1 << 255) + 1
    limit = sampling.SPACE - sampling.SPACE % n
    assert sampling.below(iter([limit, 5]), n) == 5
    assert sampling.below(iter([limit - 1]), n) == (limit - 1) % n
    with pytest.raises(sampling.DrawError):
        sampling.below(iter([1]), 0)


def test_golden_vectors(golden: list[dict[str, Any]]) -> None:
    for v in golden:
        picks = [p.to_json() for p in sampling.run(v["commitment"], v["block_hash"])]
        assert picks == v["merchants"], v["commitment"]["draw_id"]
        sampling.verify(v["commitment"], {**v["commitment"], **v, "merchants": picks})


def test_draw_is_without_replacement_and_order_free() -> None:
    items = [(f"p{i}", 1 + i % 4) for i in range(30)]
    seed = b"\x07" * 32
    picked = sampling.sample(seed, "merchants", items, 10)
    assert len(picked) == len(set(picked)) == 10
    shuffled = items[:]
    random.Random(1).shuffle(shuffled)
    assert sampling.sample(seed, "merchants", shuffled, 10) == picked
    assert sorted(sampling.sample(seed, "merchants", items, 99)) == sorted(p for p, _ in items)
    assert sampling.sample(b"\x08" * 32, "merchants", items, 10) != picked


def test_weights_bias_the_draw() -> None:
    items = [("low", 1), ("high", 8)]
    firsts = [sampling.sample(bytes([i]) * 32, "m", items, 1)[0] for i in range(256)]
    share = firsts.count("high") / len(firsts)
    assert 0.80 < share < 0.97  # expected 8/9 ≈ 0.89


def test_verify_names_a_tampered_result(golden: list[dict[str, Any]]) -> None:
    v = golden[2]
    result = {"block_number": v["commitment"]["block_number"], "block_hash": v["block_hash"]}
    good = {**result, "merchants": v["merchants"]}
    sampling.verify(v["commitment"], good)
    swapped = {**result, "merchants": list(reversed(v["merchants"]))}
    with pytest.raises(sampling.DrawMismatch, match="expected merchants"):
        sampling.verify(v["commitment"], swapped)
    with pytest.raises(sampling.DrawMismatch, match="expected the block committed to"):
        sampling.verify(v["commitment"], {**good, "block_number": 1})
    other_seed = {**good, "block_hash": "0x" + "00" * 32}
    with pytest.raises(sampling.DrawMismatch):
        sampling.verify(v["commitment"], other_seed)
    with pytest.raises(sampling.DrawError, match="32-byte block hash"):
        sampling.run(v["commitment"], "0x1234")
