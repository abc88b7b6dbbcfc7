"""The latest anchor a page can point a shopper's browser at (a read of the ledger tables)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from foodtrace.ledger.models import Anchor, Deployment


@dataclass(frozen=True)
class AnchorInfo:
    tree_size: int
    root: bytes
    status: str
    tx_hash: str | None
    block_number: int | None
    contract_address: str
    chain_id: int
    log_id: str


def latest_anchor(session: Session) -> AnchorInfo | None:
    """The largest anchor journaled with a transaction, in a live deployment."""
    found = session.execute(
        select(Deployment, Anchor)
        .join(Anchor, Anchor.deployment_id == Deployment.id)
        .where(
            Deployment.retired_at.is_(None),
            Anchor.tx_hash.is_not(None),
            Anchor.status != "lost",
        )
        .order_by(Anchor.tree_size.desc(), Deployment.id)
        .limit(1)
    ).first()
    if found is None:
        return None
    dep, anchor = found
    return AnchorInfo(
        anchor.tree_size,
        bytes(anchor.root),
        anchor.status,
        "0x" + bytes(anchor.tx_hash).hex() if anchor.tx_hash else None,
        anchor.block_number,
        dep.contract_address,
        int(dep.chain_id),
        "0x" + bytes(dep.log_id).hex(),
    )
