"""Verification against the chain: one entry end to end, or the whole log against its anchors.

:func:`verify_entry` is the pure core's (:mod:`foodtrace.trace.verify`) over a web3
connection: the entry's JSON, its proof bundle, the log's verifier key, the contract address
and the log id; no database.

:func:`audit_chain` extends the store's audit (leaves, tiles, checkpoint signatures
recomputed from raw rows) with the chain: the log's root at every anchored size must be the
root the contract holds, and consecutive anchored roots must be consistent.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from eth_utils.address import to_checksum_address
from web3 import Web3

from foodtrace.ledger.contract import artifact, read_log_key_hash, read_root
from foodtrace.trace import verify as core
from foodtrace.trace.bundle import ProofBundle
from foodtrace.trace.errors import VerificationError
from foodtrace.trace.logkey import check_log_key
from foodtrace.trace.merkle import verify_consistency
from foodtrace.trace.verify import (
    STEPS,
    ChainRootError,
    CheckpointSignatureError,
    ConsistencySource,
    EntryContentError,
    InclusionError,
    LeafHashError,
    Report,
    StepError,
    VerifiedEntry,
)

__all__ = [
    "STEPS",
    "ChainRootError",
    "CheckpointSignatureError",
    "EntryContentError",
    "InclusionError",
    "LeafHashError",
    "StepError",
    "VerifiedEntry",
]

if TYPE_CHECKING:
    from foodtrace.store.audit import AuditProblem, AuditReport
    from foodtrace.store.log import MerkleLog


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
    """:func:`foodtrace.trace.verify.verify_entry` with the roots read through web3."""
    return core.verify_entry(
        entry_json,
        bundle,
        verifier_key,
        ContractAnchors(w3, contract_address, log),
        expected_leaf_hash=expected_leaf_hash,
        report=report,
        consistency=consistency,
    )


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

    def log_key_hash(self) -> bytes:
        return read_log_key_hash(self.w3, self.address, self.log)


def log_key_problems(verifier_key: str, pinned: bytes) -> list[AuditProblem]:
    """The log key this log signs with against the one the chain pins (as an audit problem
    at entry 0: every checkpoint hangs on it)."""
    from foodtrace.store.audit import AuditProblem

    try:
        check_log_key(verifier_key, pinned)
    except VerificationError as exc:
        return [AuditProblem(0, "log key", str(exc))]
    return []


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
