"""Tables of the provenance projection: the lineage graph, custody, and what each lot went
through. All of them are projections of ``lot.create`` and ``epcis.event`` entries, rebuilt
from the log by :func:`foodtrace.provenance.projection.rebuild`.

A *node* is one traceable object named by its canonical GS1 Digital Link: a lot (GTIN +
lot, a class), a serialised item (SGTIN) or a logistic unit (SSCC). Nodes get integer ids so
that the recursive trace query joins integers, not 500-character URIs.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from foodtrace.store.base import Base

LogIndex = BigInteger().with_variant(Integer(), "sqlite")
ID_CHARS = 512
PARTY_CHARS = 128


class LineageNode(Base):
    """One traceable object; ``kind`` is ``lot``, ``serial``, ``sscc`` or ``other``."""

    __tablename__ = "lineage_nodes"
    __table_args__ = (Index("ix_lineage_nodes_gtin_lot", "gtin", "lot_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    canonical: Mapped[str] = mapped_column(String(ID_CHARS), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    gtin: Mapped[str | None] = mapped_column(String(14))
    lot_code: Mapped[str | None] = mapped_column(String(128))


class LineageEdge(Base):
    """``from_node`` went into ``to_node``: an input into an output (``transformation``) or
    a child into its parent (``aggregation``), proven by the entry ``entry_index``."""

    __tablename__ = "lineage_edges"
    __table_args__ = (
        Index("ix_lineage_edges_from", "from_node", "to_node"),
        Index("ix_lineage_edges_to", "to_node", "from_node"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    from_node: Mapped[int] = mapped_column(ForeignKey("lineage_nodes.id"))
    to_node: Mapped[int] = mapped_column(ForeignKey("lineage_nodes.id"))
    kind: Mapped[str] = mapped_column(String(16))
    entry_index: Mapped[int] = mapped_column(LogIndex)
    party: Mapped[str] = mapped_column(String(PARTY_CHARS))
    quantity: Mapped[float | None] = mapped_column(Float)
    uom: Mapped[str | None] = mapped_column(String(16))
    time: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class NodeActivity(Base):
    """A party did something with a node: ``created``, ``shipped``, ``received``,
    ``transformed`` (as input), ``produced`` (as output), ``aggregated``, ``observed``,
    ``carried``. Gives a lot its dates, its entries and the parties it passed."""

    __tablename__ = "lineage_activities"
    __table_args__ = (
        Index("ix_lineage_activities_node", "node_id", "entry_index"),
        Index("ix_lineage_activities_party", "party", "node_id"),
        # covering: the parties a trace names, from the index alone
        Index("ix_lineage_activities_node_party", "node_id", "party"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    node_id: Mapped[int] = mapped_column(ForeignKey("lineage_nodes.id"))
    party: Mapped[str] = mapped_column(String(PARTY_CHARS))
    role: Mapped[str] = mapped_column(String(16))
    entry_index: Mapped[int] = mapped_column(LogIndex)
    time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    quantity: Mapped[float | None] = mapped_column(Float)
    uom: Mapped[str | None] = mapped_column(String(16))
    counterparty: Mapped[str | None] = mapped_column(String(PARTY_CHARS))


class NodeTransaction(Base):
    """A business transaction (purchase order, despatch advice…) an event about a node
    named: traces can start from one."""

    __tablename__ = "lineage_transactions"
    __table_args__ = (Index("ix_lineage_transactions_id", "biz_transaction", "node_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    biz_transaction: Mapped[str] = mapped_column(String(ID_CHARS))
    type: Mapped[str | None] = mapped_column(String(ID_CHARS))
    node_id: Mapped[int] = mapped_column(ForeignKey("lineage_nodes.id"))
    entry_index: Mapped[int] = mapped_column(LogIndex)


class CustodyHold(Base):
    """``holder`` held the node from ``since`` until ``until`` (open: holds it now).
    ``quantity``/``uom`` is what it held where known (class-level lots can be split)."""

    __tablename__ = "custody_holds"
    __table_args__ = (
        Index("ix_custody_holds_node", "node_id", "holder"),
        # a trace's open holds of the reached nodes, in its order, without the closed ones
        Index(
            "ix_custody_holds_open",
            "node_id",
            "since_entry",
            "holder",
            sqlite_where=text("until IS NULL"),
            postgresql_where=text("until IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    node_id: Mapped[int] = mapped_column(ForeignKey("lineage_nodes.id"))
    holder: Mapped[str] = mapped_column(String(PARTY_CHARS), index=True)
    how: Mapped[str] = mapped_column(String(16))
    since: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    since_entry: Mapped[int] = mapped_column(LogIndex)
    until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    until_entry: Mapped[int | None] = mapped_column(LogIndex)
    quantity: Mapped[float | None] = mapped_column(Float)
    uom: Mapped[str | None] = mapped_column(String(16))


class CustodyTransit(Base):
    """A shipment of a node not yet received (``received_entry`` null) or received: who
    shipped it, to whom (``consignees``) and by whom (``carriers``), space-separated party
    ids, and whether it was the shipper's whole holding."""

    __tablename__ = "custody_transits"
    __table_args__ = (Index("ix_custody_transits_node", "node_id", "received_entry"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    node_id: Mapped[int] = mapped_column(ForeignKey("lineage_nodes.id"))
    shipper: Mapped[str] = mapped_column(String(PARTY_CHARS))
    consignees: Mapped[str] = mapped_column(String(ID_CHARS))
    carriers: Mapped[str] = mapped_column(String(ID_CHARS))
    shipped_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    shipment_entry: Mapped[int] = mapped_column(LogIndex)
    quantity: Mapped[float | None] = mapped_column(Float)
    uom: Mapped[str | None] = mapped_column(String(16))
    received_entry: Mapped[int | None] = mapped_column(LogIndex)
    received_by: Mapped[str | None] = mapped_column(String(PARTY_CHARS))


class Containment(Base):
    """``child`` is packed in the logistic unit ``parent`` (aggregation ADD) until
    ``until_entry`` (DELETE): shipping the parent moves its children."""

    __tablename__ = "custody_containment"
    __table_args__ = (Index("ix_custody_containment_parent", "parent", "until_entry"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    child: Mapped[int] = mapped_column(ForeignKey("lineage_nodes.id"), index=True)
    parent: Mapped[int] = mapped_column(ForeignKey("lineage_nodes.id"))
    since_entry: Mapped[int] = mapped_column(LogIndex)
    until_entry: Mapped[int | None] = mapped_column(LogIndex)


class TraceNode(Base):
    """The trace read model: one summary document per node
    (:func:`foodtrace.trace.trace_read.summarize` of its activities and outgoing edges),
    kept by the projector so that a trace reads one row per node it reached."""

    __tablename__ = "trace_nodes"

    node_id: Mapped[int] = mapped_column(ForeignKey("lineage_nodes.id"), primary_key=True)
    summary: Mapped[str] = mapped_column(Text)
