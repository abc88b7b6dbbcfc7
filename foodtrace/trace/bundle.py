"""Proof bundles: an entry's index, its inclusion proof and the checkpoint it is proved in.

Two encodings of the same thing: the C2SP tlog-proof text form
(``c2sp.org/tlog-proof@v1``, optional ``extra``, ``index N``, one base64 hash a line, a blank
line, the checkpoint note) and JSON for web clients.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from foodtrace.trace.checkpoint import Checkpoint, VerifierKey, verify_checkpoint
from foodtrace.trace.errors import MalformedInputError
from foodtrace.trace.merkle import verify_inclusion

HEADER = "c2sp.org/tlog-proof@v1"
_DIGITS = re.compile("[0-9]+")


@dataclass(frozen=True)
class ProofBundle:
    index: int
    proof: tuple[bytes, ...]
    checkpoint: str
    extra: bytes | None = None

    def to_text(self) -> str:
        lines = [HEADER]
        if self.extra is not None:
            lines.append("extra " + base64.b64encode(self.extra).decode())
        lines.append(f"index {self.index}")
        lines += [base64.b64encode(h).decode() for h in self.proof]
        return "\n".join(lines) + "\n\n" + self.checkpoint

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "index": self.index,
            "proof": [base64.b64encode(h).decode() for h in self.proof],
            "checkpoint": self.checkpoint,
        }
        if self.extra is not None:
            out["extra"] = base64.b64encode(self.extra).decode()
        return out

    def verify(self, leaf_hash: bytes, verifier_keys: Iterable[str | VerifierKey]) -> Checkpoint:
        """Verify the checkpoint signature, then the inclusion of ``leaf_hash`` in it."""
        cp = verify_checkpoint(self.checkpoint, verifier_keys)
        verify_inclusion(self.index, cp.size, leaf_hash, list(self.proof), cp.root)
        return cp


def _b64(text: object, what: str, at: int | None = None) -> bytes:
    """Strict base64, as ``b64decode(validate=True)`` but called directly: a proof is a
    dozen hashes and a scan decodes thousands. ``what.format(at)`` names it in an error."""
    if isinstance(text, str):
        try:
            return binascii.a2b_base64(text, strict_mode=True)
        except (ValueError, binascii.Error):
            pass
    name = what if at is None else what.format(at)
    kind = "base64" if isinstance(text, str) else "a base64 string"
    raise MalformedInputError(f"{name} is not {kind}")


def from_text(text: str) -> ProofBundle:
    head, sep, checkpoint = text.partition("\n\n")
    lines = head.split("\n")
    if not sep or not lines or lines[0] != HEADER:
        raise MalformedInputError(f"a proof bundle starts with {HEADER!r} and has a blank line")
    rest = lines[1:]
    extra = None
    if rest and rest[0].startswith("extra "):
        extra = _b64(rest.pop(0)[6:], "extra")
    # ASCII digits only: str.isdigit() also admits "²" or "٣", which int() refuses
    if not rest or not rest[0].startswith("index ") or not _DIGITS.fullmatch(rest[0][6:]):
        raise MalformedInputError("a proof bundle needs an 'index N' line")
    index = int(rest[0][6:])
    proof = tuple(_b64(line, "proof line {}", i + 1) for i, line in enumerate(rest[1:]))
    return ProofBundle(index, proof, checkpoint, extra)


def from_json(obj: dict[str, Any]) -> ProofBundle:
    try:
        index = obj["index"]
        proof = tuple(_b64(h, "proof[{}]", i) for i, h in enumerate(obj["proof"]))
        checkpoint = obj["checkpoint"]
    except (KeyError, TypeError) as exc:
        raise MalformedInputError(f"proof bundle JSON is missing {exc}") from exc
    if isinstance(index, bool) or not isinstance(index, int) or not isinstance(checkpoint, str):
        raise MalformedInputError("proof bundle 'index' must be an integer, 'checkpoint' a string")
    extra = _b64(obj["extra"], "extra") if "extra" in obj else None
    return ProofBundle(index, proof, checkpoint, extra)
