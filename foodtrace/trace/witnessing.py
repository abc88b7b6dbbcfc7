"""What a witness decides about a submitted checkpoint (C2SP tlog-witness ``add-checkpoint``).

Pure: the witness service gives the request body, the log keys it trusts and what it last
cosigned for that origin, and gets back the checkpoint to cosign or a :class:`Refusal` with
the HTTP status the spec asks for. The rule that makes a fork visible: a witness cosigns a
checkpoint only if a consistency proof from the last one it cosigned verifies, so two
witnesses shown two different trees of the same origin can never both cosign both.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from foodtrace.trace.checkpoint import Checkpoint, parse_body, verify_note
from foodtrace.trace.errors import CheckpointError, VerificationError
from foodtrace.trace.merkle import HASH_SIZE, verify_consistency

MAX_PROOF_LINES = 63
SIZE_CONTENT_TYPE = "text/x.tlog.size"
_OLD_RE = re.compile(r"^old (0|[1-9][0-9]{0,19})$")


@dataclass(frozen=True)
class Seen:
    """The latest checkpoint a witness cosigned for one origin."""

    size: int
    root: bytes


@dataclass(frozen=True)
class AddCheckpoint:
    old_size: int
    proof: tuple[bytes, ...]
    note: str

    def encode(self) -> bytes:
        """The request body, as a log sends it."""
        lines = [f"old {self.old_size}", *(base64.b64encode(h).decode() for h in self.proof)]
        return ("\n".join(lines) + "\n\n" + self.note).encode()


class Refusal(Exception):
    """Why a witness will not cosign, as the HTTP status tlog-witness prescribes (with a 409,
    the size the witness has cosigned)."""

    def __init__(self, status: int, reason: str, known_size: int | None = None) -> None:
        super().__init__(f"{status}: {reason}")
        self.status, self.reason, self.known_size = status, reason, known_size


def parse_request(data: bytes) -> AddCheckpoint:
    """An ``add-checkpoint`` body: ``old N``, up to 63 base64 proof lines, a blank line, a
    checkpoint note. Malformed input is a 400."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Refusal(400, "request body is not UTF-8") from exc
    head, sep, note = text.partition("\n\n")
    if not sep:
        raise Refusal(400, "no blank line between the proof and the checkpoint")
    lines = head.split("\n")
    match = _OLD_RE.match(lines[0])
    if not match:
        raise Refusal(400, f"first line {lines[0][:40]!r} is not 'old <size>'")
    if len(lines) - 1 > MAX_PROOF_LINES:
        raise Refusal(400, f"more than {MAX_PROOF_LINES} consistency proof lines")
    proof = []
    for n, line in enumerate(lines[1:], start=1):
        try:
            h = base64.b64decode(line, validate=True)
        except (ValueError, binascii.Error) as exc:
            raise Refusal(400, f"proof line {n} is not base64") from exc
        if len(h) != HASH_SIZE:
            raise Refusal(400, f"proof line {n} is {len(h)} bytes, expected {HASH_SIZE}")
        proof.append(h)
    return AddCheckpoint(int(match.group(1)), tuple(proof), note)


def judge(
    request: AddCheckpoint,
    log_keys: Mapping[str, Sequence[str]],
    seen: Seen | None,
) -> Checkpoint:
    """The checkpoint to cosign, or :class:`Refusal`. ``log_keys`` maps each origin the
    witness serves to the log verifier keys it trusts; ``seen`` is what it last cosigned for
    the request's origin (None: never)."""
    origin = request.note.split("\n", 1)[0]
    if origin not in log_keys:
        raise Refusal(404, f"unknown log origin {origin!r}")
    try:
        body, _ = verify_note(request.note, log_keys[origin])
        checkpoint = parse_body(body)
    except CheckpointError as exc:
        raise Refusal(403, f"checkpoint not signed by a trusted key of {origin!r}: {exc}") from exc
    if request.old_size > checkpoint.size:
        raise Refusal(400, f"old size {request.old_size} exceeds checkpoint size {checkpoint.size}")
    known = seen.size if seen is not None else 0
    if request.old_size != known:
        raise Refusal(409, f"old size {request.old_size} is not the cosigned size {known}", known)
    if seen is None or request.old_size == 0:
        if request.proof:
            raise Refusal(422, "a consistency proof from size 0 must be empty")
        return checkpoint
    if request.old_size == checkpoint.size:
        if checkpoint.root != seen.root:
            raise Refusal(409, f"a different root for the cosigned size {known}: a fork", known)
        return checkpoint
    try:
        verify_consistency(seen.size, checkpoint.size, request.proof, seen.root, checkpoint.root)
    except VerificationError as exc:
        raise Refusal(
            422, f"no consistency from the cosigned size {known} to {checkpoint.size}: {exc}"
        ) from exc
    return checkpoint
