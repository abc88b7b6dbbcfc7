"""The sequencer's tables: the durable queue of checked groups and the election epochs.

A queued group is data, not code: the leaf data of its signed, already-checked entries.
The sequencer runs their registered projections itself (:func:`foodtrace.record.registry.
project`), so a refusal (custody, duplicates) is stored on the row and reaches the
submitting worker as the same problem. A row's outcome is written in the transaction that
appends its entries, so a group is either pending or integrated, never half-written.

Two shapes of ``leaves``: a JSON array of leaf data (a registered group, projected by the
sequencer), or a JSON object ``{"plain": [leaf data…], "metas": [[type, author, key,
issued_at]…]}``: signed entries a worker checked and verified for bulk ingest
(:class:`~foodtrace.store.ingest.Ingestor`), appended without projections as a single
process would, each its own group.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import BigInteger, DateTime, Integer, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from foodtrace.store.base import Base

PENDING, INTEGRATED, REFUSED = 0, 1, 2


def plain_leaves(datas: Sequence[bytes], metas: Sequence[Sequence[str]]) -> str:
    """The ``leaves`` of a queued bulk-ingest group (checked, verified, never projected)."""
    return json.dumps(
        {"plain": [d.decode() for d in datas], "metas": [list(m) for m in metas]},
        ensure_ascii=False,
        separators=(",", ":"),
    )


def is_plain(leaves: str) -> bool:
    return leaves.startswith("{")


class QueuedGroup(Base):
    """One atomic group waiting for (or answered by) the sequencer."""

    __tablename__ = "sequencer_queue"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    leaves: Mapped[str] = mapped_column(Text)  # JSON array of the entries' leaf data (JCS)
    state: Mapped[int] = mapped_column(SmallInteger, default=PENDING, index=True)
    first_index: Mapped[int | None] = mapped_column(BigInteger)
    count: Mapped[int] = mapped_column(Integer)
    refusal: Mapped[str | None] = mapped_column(Text)  # JSON: position, status, problems
    enqueued_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=lambda: datetime.now(UTC)
    )


class ElectionEpoch(Base):
    """The fencing token of an elected role (``sequencer``, ``anchorer``): bumped by every
    newly elected holder, checked in the same transaction as each of its commits."""

    __tablename__ = "election_epochs"

    role: Mapped[str] = mapped_column(String(32), primary_key=True)
    epoch: Mapped[int] = mapped_column(BigInteger)
    holder: Mapped[str] = mapped_column(String(128))
