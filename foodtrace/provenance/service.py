"""Trace and custody, read from the provenance projection.

:func:`trace` walks the lineage graph with one recursive SQL query (``WITH RECURSIVE``,
the same text on SQLite and PostgreSQL), then reads the reached nodes' details, their
activities and the edges between them with a fixed number of batched queries: never one
query per hop. :func:`holder` and :func:`holders_history` answer "who holds / held it".
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, Literal

from sqlalchemy import DateTime, Row, TextClause, bindparam, select, text
from sqlalchemy.orm import Session

from foodtrace.provenance.models import (
    CustodyHold,
    CustodyTransit,
    LineageNode,
)
from foodtrace.trace import lineage
from foodtrace.trace.provenance import (
    Direction,
    Origin,
    TraceEdge,
    TraceLot,
    TraceParty,
    TraceResult,
    lot_origin,
    party_role_order,
)

MAX_DEPTH: Final = 64
"""The deepest trace walked; also what a trace without ``depth`` uses. Lineage may have
cycles (re-packing back into an earlier lot): the bound is what ends the walk on them."""
BATCH: Final = 2000  # ids per IN list, under every backend's bound-parameter limit

__all__ = [
    "MAX_DEPTH",
    "Origin",
    "TraceResult",
    "describe",
    "holder",
    "holders",
    "holders_history",
    "lot_origin",
    "reach",
    "trace",
]


class UnknownOrigin(LookupError):
    """The origin names nothing the lineage knows (no such lot, party, transaction…)."""


ANCHORS: Final = {
    "lot": "SELECT id FROM lineage_nodes WHERE canonical = :key",
    "sscc": (
        "SELECT id FROM lineage_nodes WHERE canonical = :key UNION "
        "SELECT e.from_node AS id FROM lineage_edges e JOIN lineage_nodes n "
        "ON n.id = e.to_node WHERE n.canonical = :key AND e.kind = 'aggregation'"
    ),
    "party": "SELECT DISTINCT node_id AS id FROM lineage_activities WHERE party = :key",
    "transaction": (
        "SELECT DISTINCT node_id AS id FROM lineage_transactions WHERE biz_transaction = :key"
    ),
}
"""The node ids an origin stands for: a lot; a logistic unit and what was packed in it;
everything a party handled; everything a business transaction's events named."""
WALK: Final = """
WITH RECURSIVE walk(node, depth) AS (
    SELECT anchor.id, 0 FROM ({anchor}) AS anchor
    UNION
    SELECT e.{far}, w.depth + 1 FROM walk w JOIN lineage_edges e ON e.{near} = w.node
    WHERE w.depth < :depth
)
SELECT node, MIN(depth) FROM walk GROUP BY node
"""
"""The walk. ``UNION`` (not ``UNION ALL``) drops a (node, depth) pair already seen, so
diamonds do not multiply rows and a cycle ends at the depth bound. Plain SQL, the same text
on SQLite and PostgreSQL, built once per origin kind and direction (building the statement
with the SQL expression language on every call cost more than running it)."""


@functools.cache
def _walk(kind: str, direction: Direction) -> TextClause:
    near, far = ("from_node", "to_node") if direction == "downstream" else ("to_node", "from_node")
    return text(WALK.format(anchor=ANCHORS[kind], near=near, far=far))


def _key(origin: Origin) -> str:
    if origin.kind == "lot":
        assert origin.gtin is not None and origin.lot_code is not None
        return lineage.lot_canonical(origin.gtin, origin.lot_code)
    if origin.kind == "sscc":
        return origin.sscc_canonical()
    return str(origin.party_id if origin.kind == "party" else origin.transaction)


def reach(session: Session, origin: Origin, direction: Direction, depth: int) -> dict[int, int]:
    """Every node reached from ``origin`` within ``depth`` hops, with its least depth:
    one ``WITH RECURSIVE`` query."""
    rows = session.execute(_walk(origin.kind, direction), {"key": _key(origin), "depth": depth})
    return {int(node): int(d) for node, d in rows}


def trace(
    session: Session,
    origin: Origin,
    *,
    direction: Literal["upstream", "downstream"],
    depth: int | None = None,
) -> TraceResult:
    """Every lot (and item, logistic unit) reached from ``origin`` across transformations,
    aggregations and shipments, the parties they passed and the edges between them, each
    with the log indices of the entries that prove it. Raises :class:`UnknownOrigin`."""
    if direction not in ("upstream", "downstream"):
        raise ValueError(f"direction: expected upstream or downstream, got {direction!r}")
    limit = MAX_DEPTH if depth is None else depth
    if not 0 <= limit <= MAX_DEPTH:
        raise ValueError(f"depth: expected 0 to {MAX_DEPTH}, got {depth}")
    depths = reach(session, origin, direction, limit)
    if not depths:
        raise UnknownOrigin(f"{origin.describe()} is not in the lineage")
    return describe(session, origin, direction, limit, depths)


def describe(
    session: Session, origin: Origin, direction: Direction, limit: int, depths: dict[int, int]
) -> TraceResult:
    """The trace of the nodes ``depths`` reached: their details, activities, holders and
    the edges between them, read with batched queries (a fixed number per 2,000 nodes)."""
    ids = list(depths)
    # Plain rows, not ORM objects: a recall scope reads thousands of activity rows.
    # Four statements in all, whatever the size: on a loaded server each is a round trip.
    node_rows = _rows(session, "nodes", ids)
    nodes = {n.id: n for n in node_rows}
    open_holds = [(n.id, n.holder, n.since_entry) for n in node_rows if n.holder is not None]
    activities = _rows(session, "activities", ids)
    edges = [
        e for e in _rows(session, direction, ids) if e.to_node in depths and e.from_node in depths
    ]
    lots = _lots(session, nodes, depths, activities, open_holds, edges)
    party_rows = _parties(session, activities)
    canon = {i: n.canonical for i, n in nodes.items()}
    trace_edges = tuple(
        TraceEdge(
            canon[e.from_node],
            canon[e.to_node],
            e.kind,
            e.entry_index,
            e.party,
            e.quantity,
            e.uom,
            _utc(e.time),
        )
        for e in sorted(edges, key=lambda e: (e.entry_index, e.id))
    ) + _shipments(activities, canon)
    return TraceResult(origin, direction, limit, lots, party_rows, trace_edges)


def _chunks(ids: Sequence[int]) -> Iterator[Sequence[int]]:
    for i in range(0, len(ids), BATCH):
        yield ids[i : i + BATCH]


DETAILS: Final = {
    "nodes": (  # with the lot it was created as, if any, and each current holder
        "SELECT n.id, n.canonical, n.kind, n.gtin, n.lot_code, l.entry_index, l.quantity, "
        "l.unit, h.holder, h.since_entry FROM lineage_nodes n "
        "LEFT JOIN lots l ON l.gtin = n.gtin AND l.lot_code = n.lot_code "
        "LEFT JOIN custody_holds h ON h.node_id = n.id AND h.until IS NULL "
        "WHERE n.id IN :ids"
    ),
    "activities": (  # with the party's registered name
        "SELECT a.id, a.node_id, a.party, a.role, a.entry_index, a.time, a.quantity, a.uom, "
        "a.counterparty, p.name FROM lineage_activities a "
        "LEFT JOIN parties p ON p.party_id = a.party WHERE a.node_id IN :ids"
    ),
    "downstream": (
        "SELECT id, from_node, to_node, kind, entry_index, party, quantity, uom, time "
        "FROM lineage_edges WHERE from_node IN :ids"
    ),
    "upstream": (
        "SELECT id, from_node, to_node, kind, entry_index, party, quantity, uom, time "
        "FROM lineage_edges WHERE to_node IN :ids"
    ),
}


@functools.cache
def _detail(name: str) -> TextClause:
    query = text(DETAILS[name]).bindparams(bindparam("ids", expanding=True))
    if "time" in DETAILS[name]:
        query = query.columns(time=DateTime(timezone=True))  # type: ignore[assignment]
    return query


def _rows(session: Session, name: str, ids: Sequence[int]) -> list[Row[Any]]:
    """The rows of detail query ``name`` for the nodes ``ids``, in batched IN lists."""
    out: list[Row[Any]] = []
    for chunk in _chunks(ids):
        out += session.execute(_detail(name), {"ids": list(chunk)}).all()
    return out


def _lots(
    session: Session,
    nodes: dict[int, Row[Any]],
    depths: dict[int, int],
    activities: Sequence[Any],
    open_holds: Sequence[Any],
    edges: Sequence[Any],
) -> tuple[TraceLot, ...]:
    # One pass per row kind, tuples unpacked once: thousands of rows in a recall scope.
    span: dict[int, list[Any]] = {}  # node: [first time, last time, {entries}, declared]
    for _, node, _, role, index, at, quantity, uom, _, _ in activities:
        seen = span.get(node)
        if seen is None:
            span[node] = seen = [at, at, set(), None]
        elif at < seen[0]:
            seen[0] = at
        elif at > seen[1]:
            seen[1] = at
        seen[2].add(index)
        produced = role in ("created", "produced") and quantity is not None
        if produced and (seen[3] is None or index < seen[3][0]):
            seen[3] = (index, quantity, uom)
    held: dict[int, list[str]] = {}
    for node, holder, _ in sorted(open_holds, key=lambda h: (h[2], h[1])):
        held.setdefault(node, []).append(holder)
    proofs: dict[int, set[int]] = {}
    for e in edges:
        proofs.setdefault(e.from_node, set()).add(e.entry_index)
        proofs.setdefault(e.to_node, set()).add(e.entry_index)
    registered = {
        (n.gtin, n.lot_code): (n.entry_index, n.quantity, n.unit)
        for n in nodes.values()
        if n.entry_index is not None
    }
    out = []
    for node_id, d in depths.items():
        n = nodes[node_id]
        first, last, indices, declared = span.get(node_id) or [None, None, set(), None]
        lot = registered.get((n.gtin, n.lot_code))
        quantity, unit = (declared[1], declared[2]) if declared else (None, None)
        if lot is not None:
            quantity, unit = lot[1], lot[2]
            indices = indices | {lot[0]}
        holders = held.get(node_id, [])
        out.append(
            TraceLot(
                id=n.canonical,
                kind=n.kind,
                gtin=n.gtin,
                lot_code=n.lot_code,
                depth=d,
                holder=holders[0] if holders else None,
                holders=tuple(holders),
                quantity=quantity,
                unit=unit,
                first_event_time=_utc(first) if first is not None else None,
                last_event_time=_utc(last) if last is not None else None,
                entry_indices=tuple(sorted(indices | proofs.get(node_id, set()))),
            )
        )
    return tuple(sorted(out, key=lambda lot: (lot.depth, lot.id)))


def _parties(session: Session, activities: Sequence[Any]) -> tuple[TraceParty, ...]:
    seen: dict[str, tuple[set[str], dict[str, list[float]], set[int]]] = {}
    names: dict[str, str | None] = {}
    for _, _, party, role, index, _, quantity, uom, _, name in activities:
        names[party] = name
        found = seen.get(party)
        if found is None:
            seen[party] = found = (set(), {}, set())
        found[0].add(role)
        found[2].add(index)
        if role == "received" and quantity is not None:
            found[1].setdefault(uom or "", []).append(quantity)  # summed by fsum: exact,
            # so a total does not depend on the order the batches returned its rows in
    return tuple(
        TraceParty(
            party_id=party,
            name=names.get(party),
            roles=tuple(sorted(roles, key=party_role_order)),
            received=tuple((u, math.fsum(q)) for u, q in sorted(received.items())),
            entry_indices=tuple(sorted(indices)),
        )
        for party, (roles, received, indices) in sorted(seen.items())
    )


def _shipments(activities: Sequence[Any], canon: dict[int, str]) -> tuple[TraceEdge, ...]:
    """Receipts as edges from the shipper to the receiver of the same object."""
    receipts = sorted((a for a in activities if a[3] == "received"), key=lambda a: (a[4], a[0]))
    return tuple(
        TraceEdge(
            canon[node],
            canon[node],
            "shipment",
            index,
            party,
            quantity,
            uom,
            _utc(at),
            from_party=other,
            to_party=party,
        )
        for _, node, party, _, index, at, quantity, uom, other, _ in receipts
    )


# --- holdings ------------------------------------------------------------------------------


@dataclass(frozen=True)
class HoldRecord:
    """One period of custody: who, how it began, from when to when (``until`` None: now),
    and the entries that opened and closed it."""

    holder: str
    how: str
    since: datetime
    until: datetime | None
    since_entry: int
    until_entry: int | None
    quantity: float | None
    uom: str | None


def holders_history(session: Session, canonical: str) -> list[HoldRecord]:
    """Every custody period of an object (a lot's canonical Digital Link, an SGTIN or an
    SSCC, see :func:`foodtrace.trace.lineage.lot_canonical`), oldest first."""
    rows = session.scalars(
        select(CustodyHold)
        .join(LineageNode, LineageNode.id == CustodyHold.node_id)
        .where(LineageNode.canonical == canonical)
        .order_by(CustodyHold.since_entry, CustodyHold.id)
    ).all()
    return [
        HoldRecord(
            r.holder,
            r.how,
            _utc(r.since),
            _utc(r.until) if r.until else None,
            r.since_entry,
            r.until_entry,
            r.quantity,
            r.uom,
        )
        for r in rows
    ]


def holders(session: Session, gtin: str, lot_code: str) -> list[str]:
    """Every party holding (part of) the lot now, first holder first."""
    canonical = lineage.lot_canonical(gtin, lot_code)
    return [h.holder for h in holders_history(session, canonical) if h.until is None]


def holder(session: Session, gtin: str, lot_code: str) -> str | None:
    """Who holds the lot now (the earliest current holder when a lot was split), or None."""
    found = holders(session, gtin, lot_code)
    return found[0] if found else None


def in_transit(session: Session, canonical: str) -> list[CustodyTransit]:
    """Shipments of the object not yet received."""
    return list(
        session.scalars(
            select(CustodyTransit)
            .join(LineageNode, LineageNode.id == CustodyTransit.node_id)
            .where(LineageNode.canonical == canonical, CustodyTransit.received_entry.is_(None))
        )
    )


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
