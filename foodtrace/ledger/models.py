"""The ledger's tables: where the contract lives and what was anchored in it.

``ledger_deployments`` lets a restart reuse the contract it deployed instead of deploying
another; ``anchors`` is the anchorer's journal. Neither is trusted for verification: the
chain is re-read for every decision that matters (what the contract has as latest, whether
an anchor is still there), the table only says what we sent and when it became final.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from foodtrace.store.base import Base

LogIndex = BigInteger().with_variant(Integer(), "sqlite")

SUBMITTED = "submitted"
FINAL = "final"
LOST = "lost"
STATUSES = (SUBMITTED, FINAL, LOST)


def _now() -> datetime:
    return datetime.now(UTC)


class Deployment(Base):
    """A TraceAnchor contract on one chain, with the log registered in it."""

    __tablename__ = "ledger_deployments"
    # Not unique: a node that lost its state may hand a redeployment the same address.

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    chain_id: Mapped[int] = mapped_column(BigInteger)
    contract_address: Mapped[str] = mapped_column(String(42))
    log_id: Mapped[bytes] = mapped_column(LargeBinary(32))
    deploy_tx: Mapped[bytes | None] = mapped_column(LargeBinary(32), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    """Set when the contract vanished (a node restarted without its state)."""


class Anchor(Base):
    """One anchored (size, root) in one deployment; re-submissions update the same row."""

    __tablename__ = "anchors"
    __table_args__ = (UniqueConstraint("deployment_id", "tree_size"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    deployment_id: Mapped[int] = mapped_column(ForeignKey("ledger_deployments.id"))
    tree_size: Mapped[int] = mapped_column(LogIndex)
    root: Mapped[bytes] = mapped_column(LargeBinary(32))
    status: Mapped[str] = mapped_column(String(16))
    tx_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32), nullable=True)
    block_number: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    block_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32), nullable=True)
    gas_used: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    submissions: Mapped[int] = mapped_column(Integer, default=0)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    final_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
