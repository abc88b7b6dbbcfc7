"""Rebuilding the provenance projection from the log, and comparing two copies of it.

The tables are a projection: emptied and replayed from every ``lot.create`` and
``epcis.event`` entry in log order, they come out as the live projector left them (a test
and ``bench/trace.py --check`` compare with :func:`contents`).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, Final

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from foodtrace.provenance.models import (
    Containment,
    CustodyHold,
    CustodyTransit,
    LineageEdge,
    LineageNode,
    NodeActivity,
    NodeTransaction,
    TraceNode,
)
from foodtrace.provenance.projection import check_custody, on_lot_created, project_lineage
from foodtrace.store.models import LogEntry
from foodtrace.trace import entry as entry_mod
from foodtrace.trace.entry import Entry
from foodtrace.trace.epcis import events

REPLAYED_TYPES: Final = ("lot.create", "epcis.event")
REPLAY_BATCH: Final = 1000
TABLES: Final = (
    TraceNode,
    Containment,
    CustodyTransit,
    CustodyHold,
    NodeTransaction,
    NodeActivity,
    LineageEdge,
    LineageNode,
)
"""The projection's tables, children first (the order to empty them in)."""


def project(session: Session, index: int, entry: Entry) -> None:
    """Project one replayed entry (as the live projectors do)."""
    if entry.type == "lot.create":
        on_lot_created(session, index, entry)
    else:
        facts = events.extract(entry.body["event"])
        project_lineage(session, index, entry, check_custody(session, index, entry, facts))


def rebuild(session: Session) -> int:
    """Empty the projection's tables and replay every ``lot.create`` and ``epcis.event``
    entry of the log into them, in log order; returns how many entries were replayed."""
    for table in TABLES:
        session.execute(delete(table))
    n, after = 0, -1
    while True:
        rows = session.execute(
            select(LogEntry.leaf_index, LogEntry.data)
            .where(LogEntry.type.in_(REPLAYED_TYPES), LogEntry.leaf_index > after)
            .order_by(LogEntry.leaf_index)
            .limit(REPLAY_BATCH)
        ).all()
        if not rows:
            return n
        for index, data in rows:
            project(session, index, entry_mod.loads(bytes(data)))
        n, after = n + len(rows), rows[-1][0]


def contents(session: Session) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the projection, node ids replaced by canonical ids and surrogate keys
    dropped, sorted: what a replay of the log (or a bulk load) must reproduce exactly."""
    canon = dict(session.execute(select(LineageNode.id, LineageNode.canonical)).all())

    def rows(model: Any, *columns: str, nodes: tuple[str, ...] = ()) -> list[tuple[Any, ...]]:
        out = [
            tuple(canon[getattr(r, c)] if c in nodes else _plain(getattr(r, c)) for c in columns)
            for r in session.scalars(select(model))
        ]
        return sorted(out, key=repr)

    return {
        "nodes": rows(LineageNode, "canonical", "kind", "gtin", "lot_code"),
        "edges": rows(
            LineageEdge,
            "from_node",
            "to_node",
            "kind",
            "entry_index",
            "party",
            "quantity",
            "uom",
            "time",
            nodes=("from_node", "to_node"),
        ),
        "activities": rows(
            NodeActivity,
            "node_id",
            "party",
            "role",
            "entry_index",
            "time",
            "quantity",
            "uom",
            "counterparty",
            nodes=("node_id",),
        ),
        "transactions": rows(
            NodeTransaction,
            "biz_transaction",
            "type",
            "node_id",
            "entry_index",
            nodes=("node_id",),
        ),
        "holds": rows(
            CustodyHold,
            "node_id",
            "holder",
            "how",
            "since",
            "since_entry",
            "until",
            "until_entry",
            "quantity",
            "uom",
            nodes=("node_id",),
        ),
        "transits": rows(
            CustodyTransit,
            "node_id",
            "shipper",
            "consignees",
            "carriers",
            "shipped_at",
            "shipment_entry",
            "quantity",
            "uom",
            "received_entry",
            "received_by",
            nodes=("node_id",),
        ),
        "containment": rows(
            Containment,
            "child",
            "parent",
            "since_entry",
            "until_entry",
            nodes=("child", "parent"),
        ),
        "trace_nodes": _summaries(session, canon),
    }


def _summaries(session: Session, canon: dict[int, str]) -> list[tuple[Any, ...]]:
    """The read model's summaries by canonical id, the activity and edge ids in them (which
    only order the rows of one entry) replaced by their rank in their table."""
    rank = {
        "receipts": _ranks(session, NodeActivity.id),
        "out": _ranks(session, LineageEdge.id),
    }
    out = []
    for node, summary in session.execute(select(TraceNode.node_id, TraceNode.summary)):
        doc = json.loads(summary)
        for key, ranks in rank.items():
            doc[key] = [[ranks[row[0]], *row[1:]] for row in doc[key]]
        out.append((canon[node], doc))
    return sorted(out, key=repr)


def _ranks(session: Session, column: Any) -> dict[int, int]:
    return {i: r for r, i in enumerate(session.scalars(select(column).order_by(column)))}


def _plain(value: Any) -> Any:
    """Datetimes in UTC whatever the backend returned (naive on SQLite, aware on PostgreSQL)."""
    if not isinstance(value, datetime):
        return value
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
