"""Verifying one logged entry end to end: pure steps over plain data and a chain reader.

Entry content → leaf hash → inclusion proof → checkpoint signed by the log key → the root the
chain holds at that size. The chain is reached only through an :class:`AnchorSource` (the
scanner's tiny JSON-RPC reader, the server's web3 client), so this runs unchanged in the
independent scanner and in ``foodtrace verify``. Each step raises its own
:class:`StepError` subclass, whose ``step`` names it, so a caller shows exactly where the
chain of trust broke.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from foodtrace.trace import entry as entry_mod
from foodtrace.trace.bundle import ProofBundle
from foodtrace.trace.checkpoint import Checkpoint, parse_body, verify_checkpoint
from foodtrace.trace.errors import EntryError, VerificationError
from foodtrace.trace.merkle import verify_consistency, verify_inclusion


class AnchorSource(Protocol):
    """One contract's anchored roots of one log, read from some chain."""

    @property
    def address(self) -> str: ...

    def latest(self) -> tuple[int, bytes]: ...

    def root_at(self, size: int) -> bytes | None: ...


STEPS = ("entry", "leaf", "inclusion", "checkpoint", "chain")


class StepError(VerificationError):
    """A verification step failed; ``step`` is one of :data:`STEPS`."""

    step = ""

    def __init__(self, message: str) -> None:
        super().__init__(f"{self.step}: {message}")
        self.reason = message


class EntryContentError(StepError):
    step = "entry"


class LeafHashError(StepError):
    step = "leaf"


class InclusionError(StepError):
    step = "inclusion"


class CheckpointSignatureError(StepError):
    step = "checkpoint"


class ChainRootError(StepError):
    step = "chain"


@dataclass(frozen=True)
class VerifiedEntry:
    index: int
    leaf_hash: bytes
    checkpoint: Checkpoint
    entry: entry_mod.Entry | None = None


Report = Callable[[str, str], None]
"""Called after each step that passed: ``(step, what was checked)``."""

ConsistencySource = Callable[[int, int], Sequence[bytes]]
"""``(size1, size2) -> consistency proof`` from anyone (the server): it is verified, not trusted."""


def _unverified_checkpoint(note: str) -> Checkpoint:
    sep = note.rfind("\n\n")
    if sep < 0:
        raise CheckpointSignatureError("the checkpoint note has no signature block")
    try:
        return parse_body(note[: sep + 1])
    except VerificationError as exc:
        raise CheckpointSignatureError(str(exc)) from exc


def verify_entry(
    entry_json: bytes | str,
    bundle: ProofBundle,
    verifier_key: str | Sequence[str],
    anchors: AnchorSource,
    *,
    expected_leaf_hash: bytes | None = None,
    report: Report | None = None,
    consistency: ConsistencySource | None = None,
    signed_checkpoint: Callable[[str], Checkpoint] | None = None,
) -> VerifiedEntry:
    """Entry content → leaf hash → inclusion proof → checkpoint signature → root on chain
    (read through ``anchors``: one contract's roots for one log). ``verifier_key`` may be
    several keys of the log (a key the chain rotated to, beside the pinned one): any signs.

    ``expected_leaf_hash`` (optional) is a leaf hash the caller was given separately, e.g.
    by a page; the entry's must equal it. Raises a :class:`StepError` subclass at the first
    step that fails.

    A server answers with its latest checkpoint, which is often newer than the last anchor.
    Given ``consistency`` (a source of consistency proofs, e.g. the server's; they are
    verified), a checkpoint whose size was never anchored is tied to the contract's latest
    anchor instead: proved a prefix of it, or proved to extend it when the entry lies inside
    the anchored prefix.

    ``signed_checkpoint`` (optional) verifies a checkpoint note's signature in place of
    ``verify_checkpoint(note, verifier_key)``: a client checking many records proved in one
    checkpoint verifies its signature once (it must raise a ``VerificationError`` when the
    note is not signed by a trusted key).
    """
    say = report or (lambda _step, _detail: None)
    try:
        # leaf_hash canonicalises (RFC 8785) and raises if it cannot: no need to do it twice
        entry = entry_mod.loads(entry_json, check_canonical=False)
        leaf = entry.leaf_hash()
    except (EntryError, VerificationError, ValueError) as exc:
        raise EntryContentError(f"not a well-formed signed entry: {exc}") from exc
    say("entry", f"{entry.type} by {entry.author}, issued {entry.issued_at}")
    if expected_leaf_hash is not None and leaf != expected_leaf_hash:
        raise LeafHashError(
            f"leaf hash {leaf.hex()} of the entry, expected {expected_leaf_hash.hex()}"
        )
    say("leaf", leaf.hex())
    stated = _unverified_checkpoint(bundle.checkpoint)
    try:
        verify_inclusion(bundle.index, stated.size, leaf, list(bundle.proof), stated.root)
    except VerificationError as exc:
        raise InclusionError(f"entry {bundle.index} in tree of size {stated.size}: {exc}") from exc
    say("inclusion", f"entry {bundle.index} is in the tree of size {stated.size}")
    vkeys = [verifier_key] if isinstance(verifier_key, str) else list(verifier_key)
    try:
        if signed_checkpoint is not None:
            cp = signed_checkpoint(bundle.checkpoint)
        else:
            cp = verify_checkpoint(bundle.checkpoint, vkeys)
    except VerificationError as exc:
        raise CheckpointSignatureError(str(exc)) from exc
    say("checkpoint", f"signed by {vkeys[0].split('+', 1)[0]}, root {cp.root.hex()}")
    try:
        on_chain = anchors.root_at(cp.size)
    except Exception as exc:  # any node or decoding failure means the root was not read
        raise ChainRootError(f"could not read the root at size {cp.size}: {exc}") from exc
    if on_chain is None and consistency is not None:
        detail = _tie_to_latest_anchor(anchors, cp, bundle.index, consistency)
        say("chain", detail)
        return VerifiedEntry(bundle.index, leaf, cp, entry)
    if on_chain is None:
        raise ChainRootError(f"size {cp.size} is not anchored in contract {anchors.address}")
    if on_chain != cp.root:
        raise ChainRootError(
            f"root on chain at size {cp.size} is {on_chain.hex()}, the checkpoint's {cp.root.hex()}"
        )
    say("chain", f"root at size {cp.size} matches contract {anchors.address}")
    return VerifiedEntry(bundle.index, leaf, cp, entry)


def _tie_to_latest_anchor(
    anchors: AnchorSource, cp: Checkpoint, index: int, consistency: ConsistencySource
) -> str:
    """The chain step for a checkpoint at a size that was never anchored (see verify_entry)."""
    try:
        size, root = anchors.latest()
    except Exception as exc:  # any node or decoding failure means the root was not read
        raise ChainRootError(f"could not read the latest anchor: {exc}") from exc
    if size == 0:
        raise ChainRootError(f"the log has no anchor in contract {anchors.address}")
    if size < cp.size and index >= size:
        raise ChainRootError(
            f"entry {index} is not anchored yet: the contract's latest anchor is at size {size}"
        )
    small, big = sorted(((cp.size, cp.root), (size, root)))
    try:
        proof = list(consistency(small[0], big[0]))
        verify_consistency(small[0], big[0], proof, small[1], big[1])
    except (VerificationError, LookupError, ValueError) as exc:
        raise ChainRootError(
            f"checkpoint at size {cp.size} is not consistent with the root anchored at size "
            f"{size}: {exc}"
        ) from exc
    relation = "a prefix of" if cp.size < size else "an extension of"
    return f"tree of size {cp.size} is {relation} the root anchored at size {size}"
