"""What the page's verification badge checks: for the entries a page's facts point into,
their leaf data, inclusion proofs, the signed checkpoints (with witnesses' cosignatures) and
the anchor to read back from the chain, so the browser trusts neither this server nor its
database."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from foodtrace.ledger.anchors import AnchorInfo
from foodtrace.resolver.display import FORMATS
from foodtrace.store.checkpoints import SignedCheckpoint
from foodtrace.store.log import MerkleLog
from foodtrace.store.models import LogEntry
from foodtrace.trace.merkle import Node, inclusion_nodes, inclusion_proof

EMBEDDED_CHAIN_NOTE: Final = (
    "本页核对的区块链由本服务器自己内置运行，仅供试用；要做到独立验证，需要一条运营方无法控制的链。"
)
ANCHOR_SELECTOR: Final = "0x8c0d6778"  # keccak256("anchorAt(bytes32,uint64)")[:4]
LOG_KEY_SELECTOR: Final = "0x9d21e627"  # keccak256("logKeyHash(bytes32)")[:4]


@dataclass(frozen=True)
class Witnessing:
    """What the page needs about witnesses: their cosignature verifier keys, how many must
    have cosigned, and the log's checkpoint notes with the collected cosignatures added."""

    keys: tuple[str, ...]
    required: int
    cosigned: Callable[[str], str]
    largest: Callable[[], int | None] = lambda: None
    """The largest checkpoint size a configured witness cosigned."""


def witnessed_extension(
    log: MerkleLog, witnesses: Witnessing, shown: Iterable[str]
) -> dict[str, Any] | None:
    """The largest cosigned checkpoint, with a consistency proof to it from each shown size
    below it. A witness cosigns only trees at least as large as the last it saw, so a
    smaller checkpoint issued later (an aligned anchor) is witnessed through a larger one
    that provably extends it; the page checks the proof itself."""
    size = witnesses.largest()
    below = sorted(int(s) for s in shown if size is not None and int(s) < size)
    if size is None or not below:
        return None
    return {
        "checkpoint": witnesses.cosigned(log.checkpoint_at(size).note),
        "consistency": {
            str(s): [base64.b64encode(h).decode() for h in log.consistency_proof(s, size)]
            for s in below
        },
    }


def proofs(
    log: MerkleLog,
    session: Session,
    records: Iterable[int],
    anchor: AnchorInfo | None,
    chain_public_url: str,
    latest: SignedCheckpoint | None = None,
    witnesses: Witnessing | None = None,
    *,
    chain_embedded: bool = False,
) -> dict[str, Any]:
    """What the page's script verifies: each record's exact leaf data and inclusion proof,
    the signed checkpoints they are proved in (the anchored one when it covers the record,
    else ``latest``, the log's latest checkpoint), the log's verifier key, and the anchor to
    read back from the chain.

    A page view never signs a checkpoint (that is a write, and SQLite has one writer): a
    record newer than the latest checkpoint is sent ``pending``, without a proof, and the
    badge says it is not yet verifiable; the anchorer's next checkpoint covers it. All the
    leaf data come from one query and all the proofs' node hashes from another. With
    ``witnesses``, each checkpoint note carries the cosignatures collected for it, and the
    page gets the witnesses' verifier keys and the quorum it must see."""
    indices = sorted(set(records))
    latest = latest if latest is not None else log.latest_checkpoint()
    anchored = None
    if anchor is not None:
        try:
            anchored = log.checkpoint_at(anchor.tree_size)
        except LookupError:
            anchored = None

    def covering(index: int) -> SignedCheckpoint | None:
        for cp in (anchored, latest):
            if cp is not None and index < cp.size:
                return cp
        return None

    rows = session.execute(
        select(LogEntry.leaf_index, LogEntry.data).where(LogEntry.leaf_index.in_(indices))
    )
    data = {int(i): bytes(d) for i, d in rows}
    missing = [i for i in indices if i not in data]
    if missing:
        raise IndexError(f"entries {missing} do not exist in the log")
    proved = {i: cp for i in indices if (cp := covering(i)) is not None}
    wanted: list[Node] = list(
        dict.fromkeys(n for i, cp in proved.items() for n in inclusion_nodes(i, cp.size))
    )
    hashes = dict(zip(wanted, log.read_nodes(wanted), strict=True)) if wanted else {}
    out_records = []
    checkpoints: dict[str, str] = {}
    for index in indices:
        text = data[index].decode("utf-8", errors="replace")
        cp = proved.get(index)
        if cp is None:
            out_records.append({"index": index, "data": text, "pending": True})
            continue
        proof = inclusion_proof(index, cp.size, lambda nodes: [hashes[n] for n in nodes])
        checkpoints[str(cp.size)] = cp.note if witnesses is None else witnesses.cosigned(cp.note)
        out_records.append(
            {
                "index": index,
                "data": text,
                "proof": [base64.b64encode(h).decode() for h in proof],
                "checkpoint": str(cp.size),
            }
        )
    return {
        "records": out_records,
        "checkpoints": checkpoints,
        "verifier_key": log.verifier_key(),
        "anchor": None
        if anchor is None
        else {
            "tree_size": anchor.tree_size,
            "root": base64.b64encode(anchor.root).decode(),
            "status": anchor.status,
            "tx_hash": anchor.tx_hash,
            "block_number": anchor.block_number,
            "contract_address": anchor.contract_address,
            "chain_id": anchor.chain_id,
            "log_id": anchor.log_id,
        },
        "rpc_url": chain_public_url or None,
        # Said on every page whose chain is the server's own (the badge's note to show).
        "chain_note": EMBEDDED_CHAIN_NOTE if chain_embedded else None,
        "selector": ANCHOR_SELECTOR,
        "key_selector": LOG_KEY_SELECTOR,
        "witnesses": {"keys": [], "required": 0}
        if witnesses is None
        else {"keys": list(witnesses.keys), "required": witnesses.required},
        "witnessed": None
        if witnesses is None
        else witnessed_extension(log, witnesses, checkpoints),
        "formats": FORMATS,
    }
