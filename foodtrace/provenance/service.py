"""Trace and custody, read from the provenance projection.

:func:`trace` walks the lineage graph with one recursive SQL query (``WITH RECURSIVE``,
the same text on SQLite and PostgreSQL), then reads the reached nodes' details, their
activities and the edges between them with a fixed number of batched queries: never one
query per hop. :func:`holder` and :func:`holders_history` answer "who holds / held it".
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, Literal

from sqlalchemy import Select, func, literal, select, union
from sqlalchemy.orm import Session

from foodtrace.party.models import Party
from foodtrace.product.models import Lot
from foodtrace.provenance.models import (
    CustodyHold,
    CustodyTransit,
    LineageEdge,
    LineageNode,
    NodeActivity,
    NodeTransaction,
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
    "holder",
    "holders",
    "holders_history",
    "lot_origin",
    "reach",
    "trace",
]


class UnknownOrigin(LookupError):
    """The origin names nothing the lineage knows (no such lot, party, transaction…)."""


def _start(origin: Origin) -> Select[Any]:
    """The anchor of the walk: the node ids an origin stands for."""
    if origin.kind == "lot":
        assert origin.gtin is not None and origin.lot_code is not None
        canonical = lineage.lot_canonical(origin.gtin, origin.lot_code)
        return select(LineageNode.id).where(LineageNode.canonical == canonical)
    if origin.kind == "sscc":
        assert origin.sscc is not None
        unit = select(LineageNode.id).where(LineageNode.canonical == origin.sscc_canonical())
        contents = select(LineageEdge.from_node).where(
            LineageEdge.to_node.in_(unit.scalar_subquery()), LineageEdge.kind == "aggregation"
        )
        return union(unit, contents).subquery().select()
    if origin.kind == "party":
        return select(NodeActivity.node_id).where(NodeActivity.party == origin.party_id).distinct()
    return (
        select(NodeTransaction.node_id)
        .where(NodeTransaction.biz_transaction == origin.transaction)
        .distinct()
    )


def reach(session: Session, origin: Origin, direction: Direction, depth: int) -> dict[int, int]:
    """Every node reached from ``origin`` within ``depth`` hops, with its least depth:
    one ``WITH RECURSIVE`` query. ``UNION`` (not ``UNION ALL``) drops a (node, depth) pair
    seen before, so diamonds do not multiply rows and cycles end at the depth bound."""
    anchor = _start(origin).subquery("anchor")
    walk = select(anchor.c[0].label("node"), literal(0).label("depth")).cte("walk", recursive=True)
    near, far = (
        (LineageEdge.from_node, LineageEdge.to_node)
        if direction == "downstream"
        else (LineageEdge.to_node, LineageEdge.from_node)
    )
    walk = walk.union(
        select(far.label("node"), (walk.c.depth + 1).label("depth"))
        .join_from(walk, LineageEdge, near == walk.c.node)
        .where(walk.c.depth < depth)
    )
    rows = session.execute(select(walk.c.node, func.min(walk.c.depth)).group_by(walk.c.node)).all()
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
    ids = list(depths)
    nodes = {
        n.id: n
        for chunk in _chunks(ids)
        for n in session.scalars(select(LineageNode).where(LineageNode.id.in_(chunk)))
    }
    activities = [
        a
        for chunk in _chunks(ids)
        for a in session.scalars(select(NodeActivity).where(NodeActivity.node_id.in_(chunk)))
    ]
    open_holds = [
        h
        for chunk in _chunks(ids)
        for h in session.scalars(
            select(CustodyHold).where(CustodyHold.node_id.in_(chunk), CustodyHold.until.is_(None))
        )
    ]
    near = LineageEdge.from_node if direction == "downstream" else LineageEdge.to_node
    edges = [
        e
        for chunk in _chunks(ids)
        for e in session.scalars(select(LineageEdge).where(near.in_(chunk)))
    ]
    edges = [e for e in edges if e.from_node in depths and e.to_node in depths]
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


def _lots(
    session: Session,
    nodes: dict[int, LineageNode],
    depths: dict[int, int],
    activities: Sequence[NodeActivity],
    open_holds: Sequence[CustodyHold],
    edges: Sequence[LineageEdge],
) -> tuple[TraceLot, ...]:
    by_node: dict[int, list[NodeActivity]] = {}
    for a in activities:
        by_node.setdefault(a.node_id, []).append(a)
    held: dict[int, list[str]] = {}
    for h in sorted(open_holds, key=lambda h: h.since_entry):
        held.setdefault(h.node_id, []).append(h.holder)
    proofs: dict[int, set[int]] = {}
    for e in edges:
        proofs.setdefault(e.from_node, set()).add(e.entry_index)
        proofs.setdefault(e.to_node, set()).add(e.entry_index)
    registered = _registered_lots(session, nodes.values())
    out = []
    for node_id, d in depths.items():
        n = nodes[node_id]
        acts = by_node.get(node_id, [])
        times = [_utc(a.time) for a in acts]
        lot = registered.get((n.gtin, n.lot_code))
        quantity, unit = (lot.quantity, lot.unit) if lot else _declared(acts)
        indices = {a.entry_index for a in acts} | proofs.get(node_id, set())
        if lot:
            indices.add(lot.entry_index)
        out.append(
            TraceLot(
                id=n.canonical,
                kind=n.kind,
                gtin=n.gtin,
                lot_code=n.lot_code,
                depth=d,
                holder=held[node_id][0] if held.get(node_id) else None,
                holders=tuple(held.get(node_id, ())),
                quantity=quantity,
                unit=unit,
                first_event_time=min(times) if times else None,
                last_event_time=max(times) if times else None,
                entry_indices=tuple(sorted(indices)),
            )
        )
    return tuple(sorted(out, key=lambda lot: (lot.depth, lot.id)))


def _declared(acts: Sequence[NodeActivity]) -> tuple[float | None, str | None]:
    """The quantity an unregistered object was created or produced in, if stated."""
    for a in sorted(acts, key=lambda a: a.entry_index):
        if a.role in ("created", "produced") and a.quantity is not None:
            return a.quantity, a.uom
    return None, None


def _registered_lots(session: Session, nodes: Any) -> dict[tuple[str | None, str | None], Lot]:
    keys = [(n.gtin, n.lot_code) for n in nodes if n.kind == "lot"]
    out: dict[tuple[str | None, str | None], Lot] = {}
    for i in range(0, len(keys), BATCH):
        gtins = {g for g, _ in keys[i : i + BATCH]}
        codes = {c for _, c in keys[i : i + BATCH]}
        for lot in session.scalars(select(Lot).where(Lot.gtin.in_(gtins), Lot.lot_code.in_(codes))):
            out[(lot.gtin, lot.lot_code)] = lot
    return out


def _parties(session: Session, activities: Sequence[NodeActivity]) -> tuple[TraceParty, ...]:
    by_party: dict[str, list[NodeActivity]] = {}
    for a in activities:
        by_party.setdefault(a.party, []).append(a)
    names: dict[str, str] = {}
    ids = list(by_party)
    for i in range(0, len(ids), BATCH):
        names.update(
            session.execute(
                select(Party.party_id, Party.name).where(Party.party_id.in_(ids[i : i + BATCH]))
            ).all()
        )
    out = []
    for party, acts in by_party.items():
        received: dict[str, float] = {}
        for a in acts:
            if a.role == "received" and a.quantity is not None:
                received[a.uom or ""] = received.get(a.uom or "", 0.0) + a.quantity
        out.append(
            TraceParty(
                party_id=party,
                name=names.get(party),
                roles=tuple(sorted({a.role for a in acts}, key=party_role_order)),
                received=tuple(sorted(received.items())),
                entry_indices=tuple(sorted({a.entry_index for a in acts})),
            )
        )
    return tuple(sorted(out, key=lambda p: p.party_id))


def _shipments(activities: Sequence[NodeActivity], canon: dict[int, str]) -> tuple[TraceEdge, ...]:
    """Receipts as edges from the shipper to the receiver of the same object."""
    return tuple(
        TraceEdge(
            canon[a.node_id],
            canon[a.node_id],
            "shipment",
            a.entry_index,
            a.party,
            a.quantity,
            a.uom,
            _utc(a.time),
            from_party=a.counterparty,
            to_party=a.party,
        )
        for a in sorted(activities, key=lambda a: (a.entry_index, a.id))
        if a.role == "received"
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
