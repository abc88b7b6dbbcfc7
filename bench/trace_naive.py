"""The naive trace ``bench/trace.py`` measures ours against: what a straightforward
implementation without a recursive query or a read model does (N+1).

Breadth first from the origin lot: at each hop, one query per frontier node for its edges
(:func:`naive_reach`); then, per reached node, one query each for the node, its lot
registration, its open custody holds, its activities and its outgoing edges, and one query
per party for its name; shaped from those rows (activities, not summaries) into the same
:class:`~foodtrace.trace.provenance.TraceResult`. It shares no reading or shaping code with
``foodtrace.provenance.service.trace``, so ``bench/trace.py`` checking both answers equal
also checks the read model against the tables it summarises.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, text
from sqlalchemy.orm import Session

from foodtrace.trace.provenance import (
    Direction,
    Origin,
    TraceEdge,
    TraceLot,
    TraceParty,
    TraceResult,
    party_role_order,
)

DT = DateTime(timezone=True)
NODE = text("SELECT canonical, kind, gtin, lot_code FROM lineage_nodes WHERE id = :n")
START = text("SELECT id FROM lineage_nodes WHERE canonical = :c")
LOT = text("SELECT entry_index, quantity, unit FROM lots WHERE gtin = :g AND lot_code = :l")
HOLDS = text("SELECT holder, since_entry FROM custody_holds WHERE node_id = :n AND until IS NULL")
ACTIVITIES = text(
    "SELECT id, party, role, entry_index, time, quantity, uom, counterparty "
    "FROM lineage_activities WHERE node_id = :n"
).columns(time=DT)
OUT = text(
    "SELECT id, to_node, kind, entry_index, party, quantity, uom, time "
    "FROM lineage_edges WHERE from_node = :n"
).columns(time=DT)
NAME = text("SELECT name FROM parties WHERE party_id = :p")


def naive_reach(session: Session, start: int, direction: str, depth: int) -> dict[int, int]:
    """Breadth first, one query per node per hop: every node within ``depth`` hops with
    its least depth."""
    near, far = ("from_node", "to_node") if direction == "downstream" else ("to_node", "from_node")
    query = text(f"SELECT {far} FROM lineage_edges WHERE {near} = :n")
    depths = {start: 0}
    frontier = [start]
    for d in range(1, depth + 1):
        nxt = []
        for node in frontier:
            for (m,) in session.execute(query, {"n": node}):
                if m not in depths:
                    depths[m] = d
                    nxt.append(m)
        if not nxt:
            break
        frontier = nxt
    return depths


def start_node(session: Session, canonical: str) -> int:
    found = session.execute(START, {"c": canonical}).scalar()
    assert found is not None, canonical
    return int(found)


def naive_trace(
    session: Session, origin: Origin, canonical: str, direction: Direction, depth: int
) -> tuple[dict[int, int], TraceResult]:
    """The walk's depths and the trace, read node by node."""
    depths = naive_reach(session, start_node(session, canonical), direction, depth)
    nodes: dict[int, Any] = {}
    lots: dict[int, Any] = {}
    holds: dict[int, list[Any]] = {}
    acts: dict[int, list[Any]] = {}
    out: dict[int, list[Any]] = {}
    for n in depths:
        node = nodes[n] = session.execute(NODE, {"n": n}).one()
        if node.gtin is not None and node.lot_code is not None:
            lots[n] = session.execute(LOT, {"g": node.gtin, "l": node.lot_code}).one_or_none()
        holds[n] = session.execute(HOLDS, {"n": n}).all()
        acts[n] = session.execute(ACTIVITIES, {"n": n}).all()
        out[n] = session.execute(OUT, {"n": n}).all()
    names = {}
    for party in sorted({a.party for rows in acts.values() for a in rows}):
        found = session.execute(NAME, {"p": party}).one_or_none()
        if found is not None:
            names[party] = found.name
    return depths, _shape(origin, direction, depth, depths, nodes, lots, holds, acts, out, names)


def _shape(
    origin: Origin,
    direction: Direction,
    depth: int,
    depths: dict[int, int],
    nodes: dict[int, Any],
    lots: dict[int, Any],
    holds: dict[int, list[Any]],
    acts: dict[int, list[Any]],
    out: dict[int, list[Any]],
    names: dict[str, str | None],
) -> TraceResult:
    edges = sorted(
        ((e.entry_index, e.id, n, e) for n in depths for e in out[n] if e.to_node in depths),
        key=lambda x: x[:2],
    )
    proofs: dict[int, set[int]] = {}
    for _, _, n, e in edges:
        proofs.setdefault(n, set()).add(e.entry_index)
        proofs.setdefault(e.to_node, set()).add(e.entry_index)
    result_lots = []
    for n, d in depths.items():
        rows = sorted(acts[n], key=lambda a: (a.entry_index, a.id))
        times = [_utc(a.time) for a in rows]
        declared = [
            (a.quantity, a.uom)
            for a in rows
            if a.role in ("created", "produced") and a.quantity is not None
        ]
        quantity, unit = declared[0] if declared else (None, None)
        indices = {a.entry_index for a in rows} | proofs.get(n, set())
        lot = lots.get(n)
        if lot is not None:
            quantity, unit = lot.quantity, lot.unit
            indices.add(lot.entry_index)
        holders = [h.holder for h in sorted(holds[n], key=lambda h: (h.since_entry, h.holder))]
        node = nodes[n]
        result_lots.append(
            TraceLot(
                node.canonical,
                node.kind,
                node.gtin,
                node.lot_code,
                d,
                holders[0] if holders else None,
                tuple(holders),
                quantity,
                unit,
                min(times) if times else None,
                max(times) if times else None,
                tuple(sorted(indices)),
            )
        )
    parties: dict[str, tuple[set[str], dict[str, list[float]], set[int]]] = {}
    receipts = []
    for n in depths:
        for a in acts[n]:
            roles, received, indices = parties.setdefault(a.party, (set(), {}, set()))
            roles.add(a.role)
            indices.add(a.entry_index)
            if a.role == "received":
                receipts.append((a.entry_index, a.id, n, a))
                if a.quantity is not None:
                    received.setdefault(a.uom or "", []).append(a.quantity)
    canon = {n: nodes[n].canonical for n in depths}
    trace_edges = [
        TraceEdge(
            canon[n],
            canon[e.to_node],
            e.kind,
            e.entry_index,
            e.party,
            e.quantity,
            e.uom,
            _utc(e.time),
        )
        for _, _, n, e in edges
    ] + [
        TraceEdge(
            canon[n],
            canon[n],
            "shipment",
            a.entry_index,
            a.party,
            a.quantity,
            a.uom,
            _utc(a.time),
            from_party=a.counterparty,
            to_party=a.party,
        )
        for _, _, n, a in sorted(receipts, key=lambda x: x[:2])
    ]
    return TraceResult(
        origin,
        direction,
        depth,
        tuple(sorted(result_lots, key=lambda lot: (lot.depth, lot.id))),
        tuple(
            TraceParty(
                p,
                names.get(p),
                tuple(sorted(roles, key=party_role_order)),
                tuple((u, math.fsum(q)) for u, q in sorted(received.items())),
                tuple(sorted(indices)),
            )
            for p, (roles, received, indices) in sorted(parties.items())
        ),
        tuple(trace_edges),
    )


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
