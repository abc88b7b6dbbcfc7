"""A reader's witness requirement: the log's checkpoint is cosigned by k of n named
witnesses, and the checkpoint the reader verified records against lies in that history.

The scanner (and anything else that verified proofs against some checkpoint) calls
:func:`require_witnessed` with the log's current cosigned checkpoint and the checkpoint it
trusted: a fork shown only to this reader cannot carry the quorum, because the witnesses
each refuse a tree inconsistent with what they cosigned (see :mod:`witnessing`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from foodtrace.trace.checkpoint import Checkpoint, VerifierKey
from foodtrace.trace.cosignature import Cosignature, CosignerKey, verify_cosigned_checkpoint
from foodtrace.trace.errors import CheckpointError, VerificationError
from foodtrace.trace.merkle import verify_consistency

ConsistencyFetch = Callable[[int, int], Sequence[bytes]]


def require_witnessed(
    note: str,
    log_key: str | VerifierKey,
    witnesses: Sequence[str | CosignerKey],
    required: int,
    trusted: Checkpoint | None = None,
    consistency: ConsistencyFetch | None = None,
) -> tuple[Checkpoint, list[Cosignature]]:
    """Verify the quorum on ``note``; with ``trusted`` (a checkpoint already verified
    against the log key) also that one tree extends the other, the proof being fetched
    with ``consistency(smaller, larger)``. Raises a :class:`VerificationError`."""
    cp, cosigs = verify_cosigned_checkpoint(note, [log_key], witnesses, required)
    if trusted is None:
        return cp, cosigs
    if trusted.origin != cp.origin:
        raise CheckpointError(f"witnessed origin {cp.origin!r} is not {trusted.origin!r}")
    (s1, r1), (s2, r2) = sorted(((trusted.size, trusted.root), (cp.size, cp.root)))
    if s1 == s2:
        if r1 != r2:
            raise CheckpointError(f"two roots for size {s1}: the witnessed one and the one used")
        return cp, cosigs
    if consistency is None:
        raise CheckpointError("a consistency proof is needed but no way to fetch one was given")
    try:
        verify_consistency(s1, s2, list(consistency(s1, s2)), r1, r2)
    except VerificationError as exc:
        raise CheckpointError(
            f"the checkpoint used (size {trusted.size}) is not in the witnessed history "
            f"(size {cp.size}): {exc}"
        ) from exc
    return cp, cosigs
