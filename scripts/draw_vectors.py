"""Regenerate tests/data/draw/golden.json: fixed commitments and seeds with the draw each
gives under PRNG foodtrace-draw-v1. Run only when the PRNG version changes (a new version
must not alter old vectors): ``PYTHONPATH=. .venv/bin/python scripts/draw_vectors.py``."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from foodtrace.draw import sampling

OUT = Path(__file__).resolve().parents[1] / "tests" / "data" / "draw" / "golden.json"
GRADES = "ABCD"


def commitment(n: int, k: int, inspectors: int, per: int) -> dict[str, object]:
    return {
        "draw_id": f"golden-{n}-{k}",
        "prng": sampling.PRNG,
        "weights": {"A": 1, "B": 2, "C": 4, "D": 8},
        "candidates": [
            {"party_id": f"shop-{i:03d}", "grade": GRADES[(i * 7) % 4]} for i in range(n)
        ],
        "inspectors": [f"insp-{j:02d}" for j in range(inspectors)],
        "merchants_count": k,
        "inspectors_per_merchant": per,
        "block_number": 100 + n,
    }


def main() -> None:
    vectors = []
    for n, k, inspectors, per in ((1, 1, 1, 1), (5, 3, 4, 2), (40, 10, 6, 2), (12, 20, 3, 3)):
        c = commitment(n, k, inspectors, per)
        block_hash = "0x" + hashlib.sha256(f"block {n}".encode()).hexdigest()
        picks = [p.to_json() for p in sampling.run(c, block_hash)]
        vectors.append({"commitment": c, "block_hash": block_hash, "merchants": picks})
    OUT.write_text(json.dumps(vectors, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
