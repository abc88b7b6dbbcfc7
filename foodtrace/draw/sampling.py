"""The 双随机 draw as a pure, re-runnable function of published data.

PRNG "foodtrace-draw-v1", SHA-256 in counter mode: block *k* of the stream labelled *L* is
``SHA-256(seed ‖ 0x00 ‖ UTF-8(L) ‖ 0x00 ‖ k as 8 bytes big-endian)``, read as a 256-bit
big-endian integer. ``below(n)`` takes the next block *v* and returns ``v mod n`` unless *v*
falls in the last, partial run of *n* (``v >= 2**256 - 2**256 mod n``), in which case it takes
the next block (rejection sampling: no modulo bias).

Merchants: stream ``merchants``; the candidates are sorted by party id (UTF-8 byte order)
and each has an integer weight (its grade's weight). Each pick draws ``r = below(W)`` with
``W`` the remaining total weight, takes the first candidate whose cumulative weight exceeds
``r``, and removes it (weighted sampling without replacement, integers only, so every
platform gets the same list). Inspectors for the *i*-th merchant drawn (0-based): stream
``inspectors/i``, the same procedure over the sorted inspectors with weight 1 each.

The seed is the 32 bytes of the hash of a chain block named in the ``draw.commit`` entry
before that block existed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

PRNG = "foodtrace-draw-v1"
SPACE = 1 << 256


class DrawError(ValueError):
    """The published data do not describe a draw (bad seed, unknown grade, …)."""


class DrawMismatch(DrawError):
    """A published result is not what the commitment and the seed give."""


def blocks(seed: bytes, label: str) -> Iterator[int]:
    k = 0
    while True:
        h = hashlib.sha256(seed + b"\x00" + label.encode() + b"\x00" + k.to_bytes(8, "big"))
        yield int.from_bytes(h.digest(), "big")
        k += 1


def below(stream: Iterator[int], n: int) -> int:
    if n < 1:
        raise DrawError(f"expected a positive range, got {n}")
    limit = SPACE - SPACE % n
    for v in stream:
        if v < limit:
            return v % n
    raise AssertionError("unreachable: the stream is infinite")


def sample(seed: bytes, label: str, items: Sequence[tuple[str, int]], k: int) -> list[str]:
    """``k`` distinct ids from ``(id, weight)`` pairs, by the procedure above; the pairs
    are sorted by id first, so the caller's order does not matter."""
    pool = sorted(items, key=lambda p: p[0].encode())
    if len({p[0] for p in pool}) != len(pool):
        raise DrawError("expected distinct candidate ids")
    if any(w < 1 for _, w in pool):
        raise DrawError("expected integer weights >= 1")
    stream = blocks(seed, label)
    picked = []
    for _ in range(min(k, len(pool))):
        r = below(stream, sum(w for _, w in pool))
        for i, (pid, w) in enumerate(pool):
            if r < w:
                picked.append(pid)
                del pool[i]
                break
            r -= w
    return picked


@dataclass(frozen=True)
class Pick:
    party_id: str
    grade: str
    inspectors: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"party_id": self.party_id, "grade": self.grade, "inspectors": list(self.inspectors)}


def seed_of(block_hash: str) -> bytes:
    text = block_hash.removeprefix("0x")
    if len(text) != 64:
        raise DrawError(f"expected a 32-byte block hash in hex, got {block_hash!r}")
    try:
        return bytes.fromhex(text)
    except ValueError:
        raise DrawError(f"expected a 32-byte block hash in hex, got {block_hash!r}") from None


def run(commitment: Mapping[str, Any], block_hash: str) -> list[Pick]:
    """The draw a ``draw.commit`` body and its block hash determine."""
    seed = seed_of(block_hash)
    weights: Mapping[str, int] = commitment["weights"]
    grades = {c["party_id"]: c["grade"] for c in commitment["candidates"]}
    try:
        items = [(pid, int(weights[g])) for pid, g in grades.items()]
    except KeyError as exc:
        raise DrawError(f"no weight for grade {exc.args[0]}") from None
    merchants = sample(seed, "merchants", items, int(commitment["merchants_count"]))
    inspectors = [(i, 1) for i in commitment["inspectors"]]
    per = int(commitment["inspectors_per_merchant"])
    return [
        Pick(pid, grades[pid], tuple(sample(seed, f"inspectors/{n}", inspectors, per)))
        for n, pid in enumerate(merchants)
    ]


def verify(commitment: Mapping[str, Any], result: Mapping[str, Any]) -> list[Pick]:
    """Re-run the draw from its published commitment and the result's block hash; raise
    :class:`DrawMismatch` saying what differs, else return the picks."""
    if result.get("block_number") != commitment.get("block_number"):
        raise DrawMismatch(
            f"expected the block committed to, {commitment.get('block_number')}, "
            f"got {result.get('block_number')}"
        )
    picks = run(commitment, str(result["block_hash"]))
    expected = [p.to_json() for p in picks]
    if list(result.get("merchants", [])) != expected:
        raise DrawMismatch(
            f"expected merchants {[p['party_id'] for p in expected]}, "
            f"got {[m.get('party_id') for m in result.get('merchants', [])]}"
        )
    return picks
