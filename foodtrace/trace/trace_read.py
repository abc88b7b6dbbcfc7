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
    holds: Iterable[Sequence[Any]],
    names: Mapping[str, str | None],
) -> TraceResult:
    """The trace of the reached ``nodes`` with their decoded summaries ``docs``, their open
    ``holds`` ``(node, holder, since_entry)`` and the registered ``names`` of parties.

    Built for the common case cheaply: most parties of a trace appear in one node's summary
    only (a shop that received one lot), and a summary already lists a party's roles and
    entries sorted, so those are taken as they are; only a party several nodes name gets
    its roles and entries merged and sorted again. The rows are made with ``_make`` (the
    tuple constructor, which fills no defaults: every field is given) rather than by
    keyword."""
    held: dict[int, list[str]] = {}
    for _, holder, node in sorted((since, holder, node) for node, holder, since in holds):
        held.setdefault(node, []).append(holder)
    reached = {n.canonical for n in nodes}
    proofs: dict[str, set[int]] = {}
    lineage: list[tuple[int, int, TraceEdge]] = []
    receipts: list[tuple[int, int, TraceEdge]] = []
    once: dict[str, list[Any]] = {}  # party: [roles, entries] of the one summary naming it
    merged: dict[str, tuple[set[str], set[int]]] = {}  # parties several summaries name
    received: dict[str, dict[str, list[float]]] = {}
    make_edge = TraceEdge._make
    for n, doc in zip(nodes, docs, strict=True):
        canonical = n.canonical
        for eid, target, kind, index, party, quantity, uom, at in doc["out"]:
            if target in reached:
                proofs.setdefault(canonical, set()).add(index)
                proofs.setdefault(target, set()).add(index)
                edge = make_edge(
                    (canonical, target, kind, index, party, quantity, uom, _dt(at), None, None)
                )
                lineage.append((index, eid, edge))
        for party, pair in doc["parties"].items():
            both = merged.get(party)
            if both is not None:
                both[0].update(pair[0])
                both[1].update(pair[1])
            elif party in once:
                first = once.pop(party)
                merged[party] = ({*first[0], *pair[0]}, {*first[1], *pair[1]})
            else:
                once[party] = pair
        for aid, index, party, at, quantity, uom, other in doc["receipts"]:
            edge = make_edge(
                (
                    canonical,
                    canonical,
                    "shipment",
                    index,
                    party,
                    quantity,
                    uom,
                    _dt(at),
                    other,
                    party,
                )
            )
            receipts.append((index, aid, edge))
            if quantity is not None:
                received.setdefault(party, {}).setdefault(uom or "", []).append(quantity)
    make_lot = TraceLot._make
    lots = []
    for n, doc in zip(nodes, docs, strict=True):
        quantity, unit = doc["declared"] or (None, None)
        indices = proofs.get(n.canonical)
        if indices is None and n.lot_entry is None:
            entries = tuple(doc["entries"])  # sorted and unique already
        else:
            merged_entries = set(doc["entries"])
            if indices is not None:
                merged_entries |= indices
            if n.lot_entry is not None:
                merged_entries.add(n.lot_entry)
            entries = tuple(sorted(merged_entries))
        if n.lot_entry is not None:
            quantity, unit = n.lot_quantity, n.lot_unit
        holders = held.get(n.node, ())
        first, last = doc["first"], doc["last"]
        lots.append(
            make_lot(
                (
                    n.canonical,
                    n.kind,
                    n.gtin,
                    n.lot_code,
                    n.depth,
                    holders[0] if holders else None,
                    tuple(holders),
                    quantity,
                    unit,
                    _dt(first) if first else None,
                    _dt(last) if last else None,
                    entries,
                )
            )
        )
    make_party = TraceParty._make
    parties = []
    for party in sorted((*once, *merged)):
        pair = once.get(party)
        if pair is not None:
            roles, entries = tuple(pair[0]), tuple(pair[1])  # sorted in the summary
        else:
            role_set, entry_set = merged[party]
            roles = tuple(sorted(role_set, key=party_role_order))
            entries = tuple(sorted(entry_set))
        quantities = received.get(party)
        # summed by fsum: exact, so a total does not depend on the order of the rows
        totals = (
            tuple((u, math.fsum(q)) for u, q in sorted(quantities.items())) if quantities else ()
        )
        parties.append(make_party((party, names.get(party), roles, totals, entries)))
    lineage.sort()  # by (entry, id), unique: the edges themselves are never compared
    receipts.sort()
    lots.sort(key=_lot_order)
    return TraceResult(
        origin,
        direction,
        limit,
        tuple(lots),
        tuple(parties),
        tuple(e for _, _, e in lineage) + tuple(e for _, _, e in receipts),
    )


def _lot_order(lot: TraceLot) -> tuple[int, str]:
    return (lot.depth, lot.id)


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
