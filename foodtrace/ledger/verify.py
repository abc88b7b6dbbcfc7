"""Verification against the chain: one entry end to end, or the whole log against its anchors.

:func:`verify_entry` needs no database: the entry's JSON, its proof bundle, the log's verifier
key, a web3 connection, the contract address and the log id, so the scanner can run it on
what the API served. Each step raises its own :class:`VerificationError` subclass, whose
``step`` names it, so a caller can show exactly where the chain of trust broke.

:func:`audit_chain` extends the store's audit (leaves, tiles, checkpoint signatures
recomputed from raw rows) with the chain: the log's root at every anchored size must be the
root the contract holds, and consecutive anchored roots must be consistent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from eth_utils.address import to_checksum_address
from web3 import Web3

from foodtrace.ledger.contract import artifact, read_root
from foodtrace.trace import entry as entry_mod
from foodtrace.trace.bundle import ProofBundle
from foodtrace.trace.checkpoint import Checkpoint, parse_body, verify_checkpoint
from foodtrace.trace.errors import EntryError, VerificationError
from foodtrace.trace.merkle import verify_consistency, verify_inclusion

if TYPE_CHECKING:
    from foodtrace.store.audit import AuditReport
    from foodtrace.store.log import MerkleLog

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
    verifier_key: str,
    w3: Web3,
    contract_address: str,
    log: bytes,
    *,
    expected_leaf_hash: bytes | None = None,
    report: Report | None = None,
    consistency: ConsistencySource | None = None,
) -> VerifiedEntry:
    """Entry content → leaf hash → inclusion proof → checkpoint signature → root on chain.

    ``expected_leaf_hash`` (optional) is a leaf hash the caller was given separately, e.g.
    by a page; the entry's must equal it. Raises a :class:`StepError` subclass at the first
    step that fails.

    A server answers with its latest checkpoint, which is often newer than the last anchor.
    Given ``consistency`` (a source of consistency proofs, e.g. the server's; they are
    verified), a checkpoint whose size was never anchored is tied to the contract's latest
    anchor instead: proved a prefix of it, or proved to extend it when the entry lies inside
    the anchored prefix.
    """
    say = report or (lambda _step, _detail: None)
    try:
        entry = entry_mod.loads(entry_json)
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
    try:
        cp = verify_checkpoint(bundle.checkpoint, [verifier_key])
    except VerificationError as exc:
        raise CheckpointSignatureError(str(exc)) from exc
    say("checkpoint", f"signed by {verifier_key.split('+', 1)[0]}, root {cp.root.hex()}")
    try:
        on_chain = read_root(w3, contract_address, log, cp.size)
    except Exception as exc:  # any node or decoding failure means the root was not read
        raise ChainRootError(f"could not read the root at size {cp.size}: {exc}") from exc
    if on_chain is None and consistency is not None:
        detail = _tie_to_latest_anchor(
            ContractAnchors(w3, contract_address, log), cp, bundle.index, consistency
        )
        say("chain", detail)
        return VerifiedEntry(bundle.index, leaf, cp)
    if on_chain is None:
        raise ChainRootError(f"size {cp.size} is not anchored in contract {contract_address}")
    if on_chain != cp.root:
        raise ChainRootError(
            f"root on chain at size {cp.size} is {on_chain.hex()}, the checkpoint's {cp.root.hex()}"
        )
    say("chain", f"root at size {cp.size} matches contract {contract_address}")
    return VerifiedEntry(bundle.index, leaf, cp)


def _tie_to_latest_anchor(
    anchors: ContractAnchors, cp: Checkpoint, index: int, consistency: ConsistencySource
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


class AnchorReader(Protocol):
    """What :func:`audit_chain` needs from the chain."""

    def latest(self) -> tuple[int, bytes]: ...

    def root_at(self, size: int) -> bytes | None: ...


@dataclass
class ContractAnchors:
    """An :class:`AnchorReader` over a deployed TraceAnchor (read-only: no key needed)."""

    w3: Web3
    address: str
    log: bytes

    def latest(self) -> tuple[int, bytes]:
        contract = self.w3.eth.contract(
            address=to_checksum_address(self.address), abi=artifact()["abi"]
        )
        size, root = contract.functions.latest(self.log).call()
        return int(size), bytes(root)

    def root_at(self, size: int) -> bytes | None:
        return read_root(self.w3, self.address, self.log, size)


def audit_chain(
    log: MerkleLog, anchors: AnchorReader, anchored_sizes: Iterable[int] = ()
) -> AuditReport:
    """The store's audit plus the chain: every anchored size (those given, e.g. from the
    journal, and the contract's latest) must carry on chain the root recomputed from the
    stored entries, and consecutive anchored roots must be consistent. Each problem names
    the first entry it affects: for a root that differs, the earliest altered entry already
    found, else the first entry that anchor vouched for."""
    from foodtrace.store.audit import AuditProblem

    report = log.audit()
    recomputed = dict(report.roots)
    data_problems = [p.index for p in report.problems]
    latest_size, _ = anchors.latest()
    sizes = sorted({s for s in anchored_sizes if s > 0} | ({latest_size} - {0}))
    problems: list[AuditProblem] = []
    previous: tuple[int, bytes] | None = None
    for size in sizes:
        first = previous[0] if previous else 0
        on_chain = anchors.root_at(size)
        if on_chain is None:
            if size <= latest_size:
                problems.append(
                    AuditProblem(first, "anchor", f"size {size} is journaled but not on chain")
                )
            continue  # beyond the chain's latest: lost and waiting to be sent again
        if size > report.size:
            problems.append(
                AuditProblem(
                    min(first, report.size),
                    "anchor",
                    f"size {size} is anchored but the log has only {report.size} entries",
                )
            )
            previous = (size, on_chain)
            continue
        ours = recomputed.get(size)
        if ours is None:
            problems.append(
                AuditProblem(first, "checkpoint", f"anchored size {size} has no stored checkpoint")
            )
            ours = log.root(size)
        if ours != on_chain:
            blame = min((i for i in data_problems if i < size), default=first)
            problems.append(
                AuditProblem(
                    blame,
                    "anchor",
                    f"root at size {size} is {ours.hex()}, the chain holds {on_chain.hex()}",
                )
            )
        elif previous is not None and previous[0] <= report.size:
            try:
                proof = log.consistency_proof(previous[0], size)
                verify_consistency(previous[0], size, proof, previous[1], on_chain)
            except (VerificationError, LookupError) as exc:
                problems.append(
                    AuditProblem(
                        first, "anchor", f"anchors {previous[0]} and {size} inconsistent: {exc}"
                    )
                )
        previous = (size, on_chain)
    return report.with_problems(problems)
