"""Keeping the trace read model (``trace_nodes``) current: after an event touches nodes,
their summaries are recomputed from the projection's tables with the pure
:func:`foodtrace.trace.trace_read.summarize`, so the read model can never drift from the
rows it summarises (and a rebuild replays it like every other table)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session, aliased

from foodtrace.provenance.models import LineageEdge, LineageNode, NodeActivity, TraceNode
from foodtrace.trace.trace_read import Activity, OutEdge, summarize


def refresh(session: Session, node_ids: Iterable[int]) -> None:
    """Recompute the summaries of ``node_ids`` (flushed rows are what counts)."""
    ids = sorted(set(node_ids))
    if not ids:
        return
    session.flush()
    acts: dict[int, list[Activity]] = {i: [] for i in ids}
    for row in session.execute(
        select(
            NodeActivity.node_id,
            NodeActivity.id,
            NodeActivity.party,
            NodeActivity.role,
            NodeActivity.entry_index,
            NodeActivity.time,
            NodeActivity.quantity,
            NodeActivity.uom,
            NodeActivity.counterparty,
        ).where(NodeActivity.node_id.in_(ids))
    ):
        acts[row[0]].append(Activity(*row[1:]))
    target = aliased(LineageNode)
    out: dict[int, list[OutEdge]] = {i: [] for i in ids}
    for edge in session.execute(
        select(
            LineageEdge.from_node,
            LineageEdge.id,
            target.canonical,
            LineageEdge.kind,
            LineageEdge.entry_index,
            LineageEdge.party,
            LineageEdge.quantity,
            LineageEdge.uom,
            LineageEdge.time,
        )
        .join(target, target.id == LineageEdge.to_node)
        .where(LineageEdge.from_node.in_(ids))
    ):
        out[edge[0]].append(OutEdge(*edge[1:]))
    session.execute(delete(TraceNode).where(TraceNode.node_id.in_(ids)))
    session.execute(
        insert(TraceNode),
        [{"node_id": i, "summary": summarize(acts[i], out[i])} for i in ids],
    )
