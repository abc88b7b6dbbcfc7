"""What an EPCIS event says about traceable objects, as plain data: which objects it names
(and where in the event), which lineage edges it adds, and what each party did.

Pure: the provenance projection stores these facts, the custody rules judge them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import quote, unquote

from foodtrace.trace.epcis import events, gs1keys

INSTANCE_ROLES: Final = ("epcList", "parentID", "childEPCs", "inputEPCList", "outputEPCList")
CLASS_ROLES: Final = events.QUANTITY_ROLES
INPUT_ROLES: Final = frozenset({"inputEPCList", "inputQuantityList"})
OUTPUT_ROLES: Final = frozenset({"outputEPCList", "outputQuantityList"})
CHILD_ROLES: Final = frozenset({"childEPCs", "childQuantityList"})


@dataclass(frozen=True)
class ObjectRef:
    """One object an event names: ``field`` is its place in the entry body, dotted
    (``event.inputQuantityList.0``), so a refusal can point at exactly that element."""

    field: str
    role: str
    canonical: str
    kind: str
    gtin: str | None
    lot_code: str | None
    quantity: float | None = None
    uom: str | None = None


@dataclass(frozen=True)
class Edge:
    """``source`` went into ``target`` (canonical ids)."""

    source: str
    target: str
    kind: str
    quantity: float | None
    uom: str | None


def node_kind(canonical: str) -> tuple[str, str | None, str | None]:
    """``(kind, gtin, lot)`` of a canonical identifier: ``lot`` (GTIN + lot), ``serial``
    (SGTIN), ``sscc``, ``class`` (a GTIN without lot) or ``other``."""
    if not canonical.startswith(gs1keys.CANONICAL_HOST + "/"):
        return "other", None, None
    parts = canonical[len(gs1keys.CANONICAL_HOST) + 1 :].split("/")
    pairs = dict(zip(parts[::2], parts[1::2], strict=False))
    if "00" in pairs:
        return "sscc", None, None
    gtin = pairs.get("01")
    if gtin is None:
        return "other", None, None
    if "21" in pairs:
        return "serial", gtin, None
    if "10" in pairs:
        return "lot", gtin, unquote(pairs["10"])
    return "class", gtin, None


def lot_canonical(gtin: str, lot_code: str) -> str:
    """The canonical Digital Link of a lot, as the EPCIS index spells it."""
    lot = quote(lot_code, safe="")
    return gs1keys.canonical(f"{gs1keys.CANONICAL_HOST}/01/{gtin.zfill(14)}/10/{lot}")


def object_refs(event: Mapping[str, Any]) -> list[ObjectRef]:
    """Every object the event names, in every role, with its place in the entry body."""
    out: list[ObjectRef] = []
    for role in INSTANCE_ROLES:
        value = event.get(role)
        items = [(f"event.{role}", value)] if isinstance(value, str) else []
        if isinstance(value, list):
            items = [(f"event.{role}.{i}", v) for i, v in enumerate(value) if isinstance(v, str)]
        for field, epc in items:
            out.append(_ref(field, role, epc, None, None))
    for role in CLASS_ROLES:
        value = event.get(role)
        if not isinstance(value, list):
            continue
        for i, q in enumerate(value):
            if isinstance(q, dict) and isinstance(q.get("epcClass"), str):
                qty = q.get("quantity")
                number = float(qty) if isinstance(qty, int | float) else None
                out.append(_ref(f"event.{role}.{i}", role, q["epcClass"], number, q.get("uom")))
    return out


def _ref(field: str, role: str, epc: str, quantity: float | None, uom: str | None) -> ObjectRef:
    canonical = gs1keys.canonical(epc)
    kind, gtin, lot = node_kind(canonical)
    return ObjectRef(field, role, canonical, kind, gtin, lot, quantity, uom)


def edges(facts: events.EventFacts, refs: list[ObjectRef]) -> list[Edge]:
    """Lineage edges: every input into every output of a transformation, every child into
    its parent on an aggregation that adds (or observes) it."""
    if facts.type == "TransformationEvent":
        inputs = [r for r in refs if r.role in INPUT_ROLES]
        outputs = [r for r in refs if r.role in OUTPUT_ROLES]
        return [
            Edge(i.canonical, o.canonical, "transformation", i.quantity, i.uom)
            for i in inputs
            for o in outputs
            if i.canonical != o.canonical
        ]
    if facts.type == "AggregationEvent" and facts.action in ("ADD", "OBSERVE"):
        parents = [r for r in refs if r.role == "parentID"]
        children = [r for r in refs if r.role in CHILD_ROLES]
        return [
            Edge(c.canonical, p.canonical, "aggregation", c.quantity, c.uom)
            for p in parents
            for c in children
        ]
    return []


def activity(facts: events.EventFacts, ref: ObjectRef) -> str:
    """What the event's author did with the object, in one word."""
    if ref.role in INPUT_ROLES:
        return "transformed"
    if ref.role in OUTPUT_ROLES:
        return "produced"
    if facts.type == "AggregationEvent":
        return "aggregated" if facts.action != "DELETE" else "disaggregated"
    if facts.biz_step in ("shipping", "receiving"):
        return "shipped" if facts.biz_step == "shipping" else "received"
    if facts.biz_step == "commissioning" or facts.action == "ADD":
        return "created"
    return "observed"
