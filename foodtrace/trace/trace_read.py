"""The trace read model (pure): one summary document per lineage node, and a trace shaped
from the documents of the nodes a walk reached.

A node's *summary* is everything a trace says about it that does not change with who asks:
its first and last event times, the quantity its creation declared, the entries of its
activities, what each party did with it, every receipt of it (a shipment edge) and its
outgoing lineage edges. The provenance projection keeps one per node (``trace_nodes``),
recomputed with :func:`summarize` whenever an event touches the node, so a trace reads one
row per node instead of every activity row. What can change without an event about the
node (who holds it now, a lot's registration, a party's name) is joined live.

Rows are plain tuples; times are ISO 8601 strings in the document and ``datetime`` (UTC)
in the result.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple

from foodtrace.trace.provenance import (
    Direction,
    Origin,
    TraceEdge,
    TraceLot,
    TraceParty,
    TraceResult,
    party_role_order,
)

DECLARING_ROLES = frozenset({"created", "produced"})


class Activity(NamedTuple):
    """A ``lineage_activities`` row: ``id`` orders the activities of one entry."""

    id: int
    party: str
    role: str
    entry_index: int
    time: datetime
    quantity: float | None
    uom: str | None
    counterparty: str | None


class OutEdge(NamedTuple):
    """A ``lineage_edges`` row leaving the node, its target named by canonical id."""

    id: int
    target: str
    kind: str
    entry_index: int
    party: str
    quantity: float | None
    uom: str | None
    time: datetime


class NodeRow(NamedTuple):
    """A node the walk reached, with its summary and its lot registration, if any."""

    node: int
    depth: int
    canonical: str
    kind: str
    gtin: str | None
    lot_code: str | None
    summary: str | None
    lot_entry: int | None
    lot_quantity: float | None
    lot_unit: str | None


def utc(value: datetime) -> datetime:
    """``value`` in UTC (SQLite hands back naive datetimes, stored as UTC)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _iso(value: datetime) -> str:
    return utc(value).isoformat()


def summarize(activities: Iterable[Activity], edges: Iterable[OutEdge]) -> str:
    """The summary document of a node with these activities and outgoing edges: the same
    text whatever order the rows come in."""
    acts = sorted(activities, key=lambda a: (a.entry_index, a.id))
    times = [utc(a.time) for a in acts]
    declared = next(
        ([a.quantity, a.uom] for a in acts if a.role in DECLARING_ROLES and a.quantity is not None),
        None,
    )
    parties: dict[str, tuple[set[str], set[int]]] = {}
    for a in acts:
        roles, entries = parties.setdefault(a.party, (set(), set()))
        roles.add(a.role)
        entries.add(a.entry_index)
    doc = {
        "first": min(times).isoformat() if times else None,
        "last": max(times).isoformat() if times else None,
        "declared": declared,
        "entries": sorted({a.entry_index for a in acts}),
        "parties": {
            p: [sorted(roles, key=party_role_order), sorted(entries)]
            for p, (roles, entries) in sorted(parties.items())
        },
        "receipts": [
            [a.id, a.entry_index, a.party, _iso(a.time), a.quantity, a.uom, a.counterparty]
            for a in acts
            if a.role == "received"
        ],
        "out": [
            [e.id, e.target, e.kind, e.entry_index, e.party, e.quantity, e.uom, _iso(e.time)]
            for e in sorted(edges, key=lambda e: (e.entry_index, e.id))
        ],
    }
    return json.dumps(doc, separators=(",", ":"), sort_keys=True)


EMPTY: dict[str, Any] = {
    "first": None,
    "last": None,
    "declared": None,
    "entries": [],
    "parties": {},
    "receipts": [],
    "out": [],
}


_EMPTY_TEXT: str = json.dumps(EMPTY, separators=(",", ":"), sort_keys=True)


def shape(
    origin: Origin,
    direction: Direction,
    limit: int,
    nodes: Sequence[NodeRow],
    docs: Sequence[dict[str, Any]],
    holds: Iterable[tuple[int, str, int]],
    names: Mapping[str, str | None],
) -> TraceResult:
    """The trace of the reached ``nodes`` with their decoded summaries ``docs``, their open
    ``holds`` ``(node, holder, since_entry)`` and the registered ``names`` of parties."""
    held: dict[int, list[str]] = {}
    for _, holder, node in sorted((since, holder, node) for node, holder, since in holds):
        held.setdefault(node, []).append(holder)
    reached = {n.canonical for n in nodes}
    proofs: dict[str, set[int]] = {}
    lineage: list[tuple[int, int, TraceEdge]] = []
    for n, doc in zip(nodes, docs, strict=True):
        for eid, target, kind, index, party, quantity, uom, at in doc["out"]:
            if target in reached:
                proofs.setdefault(n.canonical, set()).add(index)
                proofs.setdefault(target, set()).add(index)
                edge = TraceEdge(n.canonical, target, kind, index, party, quantity, uom, _dt(at))
                lineage.append((index, eid, edge))
    receipts: list[tuple[int, int, TraceEdge]] = []
    seen: dict[str, tuple[set[str], dict[str, list[float]], set[int]]] = {}
    lots = []
    for n, doc in zip(nodes, docs, strict=True):
        for party, (roles, entries) in doc["parties"].items():
            found = seen.get(party)
            if found is None:
                seen[party] = found = (set(), {}, set())
            found[0].update(roles)
            found[2].update(entries)
        for aid, index, party, at, quantity, uom, other in doc["receipts"]:
            edge = TraceEdge(
                n.canonical,
                n.canonical,
                "shipment",
                index,
                party,
                quantity,
                uom,
                _dt(at),
                other,
                party,
            )
            receipts.append((index, aid, edge))
            if quantity is not None:
                seen[party][1].setdefault(uom or "", []).append(quantity)
        quantity, unit = doc["declared"] or (None, None)
        indices = set(doc["entries"]) | proofs.get(n.canonical, set())
        if n.lot_entry is not None:
            quantity, unit = n.lot_quantity, n.lot_unit
            indices.add(n.lot_entry)
        holders = held.get(n.node, [])
        lots.append(
            TraceLot(
                id=n.canonical,
                kind=n.kind,
                gtin=n.gtin,
                lot_code=n.lot_code,
                depth=n.depth,
                holder=holders[0] if holders else None,
                holders=tuple(holders),
                quantity=quantity,
                unit=unit,
                first_event_time=_dt(doc["first"]) if doc["first"] else None,
                last_event_time=_dt(doc["last"]) if doc["last"] else None,
                entry_indices=tuple(sorted(indices)),
            )
        )
    parties = tuple(
        TraceParty(
            party_id=party,
            name=names.get(party),
            roles=tuple(sorted(roles, key=party_role_order)),
            # summed by fsum: exact, so a total does not depend on the order of the rows
            received=tuple((u, math.fsum(q)) for u, q in sorted(received.items())),
            entry_indices=tuple(sorted(indices)),
        )
        for party, (roles, received, indices) in sorted(seen.items())
    )
    lineage.sort()  # by (entry, id), unique: the edges themselves are never compared
    receipts.sort()
    return TraceResult(
        origin,
        direction,
        limit,
        tuple(sorted(lots, key=lambda lot: (lot.depth, lot.id))),
        parties,
        tuple(e for _, _, e in lineage) + tuple(e for _, _, e in receipts),
    )


def decode(summary: str | None) -> dict[str, Any]:
    """A summary document (a node without one has done nothing yet)."""
    return json.loads(summary) if summary else EMPTY


def party_ids(docs: Iterable[Mapping[str, Any]]) -> set[str]:
    """Every party named in these summaries: the parties whose registered names a trace
    shows (the trace statement selects them by the nodes' activities, the same set)."""
    out: set[str] = set()
    for doc in docs:
        out.update(doc["parties"])
    return out


def decode_all(summaries: Iterable[str | None]) -> list[dict[str, Any]]:
    """The summary documents of many nodes, decoded as one JSON array (one parser call,
    not one per node; a node without a summary has done nothing yet)."""
    return json.loads("[" + ",".join(s or _EMPTY_TEXT for s in summaries) + "]")  # type: ignore[no-any-return]


def decode_trace(
    summaries: Iterable[str | None], holds: str, names: str
) -> tuple[list[dict[str, Any]], list[tuple[int, str, int]], dict[str, str | None]]:
    """The summary documents of the reached nodes, their open holds ``(node, holder,
    since_entry)`` (a JSON array of arrays) and the parties' names (a JSON array of
    ``[party_id, name]``), decoded by one parser call."""
    docs = ",".join(s or _EMPTY_TEXT for s in summaries)
    decoded = json.loads(f"[{holds},{names},{docs}]")
    return decoded[2:], decoded[0], dict(decoded[1])


_dt = datetime.fromisoformat
