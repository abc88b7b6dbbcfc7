"""A generated supply chain for ``bench/trace.py``, and a bulk projection of it.

The generator emits EPCIS 2.0 events as dicts, each with its author: farms commission lots
and ship them to processors, who receive them; a processor transforms 3-10 lots it holds
(fan-in) into an output lot, which either goes on to 1-3 other processors (commingling:
lineage deepens and widens, for at most :data:`STAGES` transformations) or is packed
into an SSCC, shipped to a distributor and distributed to 5-50 retailers (fan-out).
Party ids and GLNs are the ones the tables see.

:class:`BulkProjection` projects those events into the provenance tables' rows with the
same pure functions the live projector uses (``lineage.object_refs`` / ``edges`` /
``activity`` and ``custody.judge`` over an in-memory custody state), so the bulk rows are
the projector's rows; ``bench/trace.py --check`` compares them on a prefix of the graph.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, insert, text

from foodtrace.provenance.models import (
    Containment,
    CustodyHold,
    CustodyTransit,
    LineageEdge,
    LineageNode,
    NodeActivity,
    TraceNode,
)
from foodtrace.trace import custody, lineage, trace_read
from foodtrace.trace.epcis import events

DL = "https://id.gs1.org"
T0 = datetime(2026, 1, 1, tzinfo=UTC)
CHAIN_ON = 0.6  # share of processed lots that go on to other processors
STAGES = 9
"""Processing stages a lot can pass before it must be sold (a lot's stage is one more than
its deepest input's; farm lots are stage 0). Without a bound, onward processing is a
supercritical branching process (each processed lot begets 0.6 x 2 = 1.2 processed lots on
average), so lineage grew without end: chains of 45 transformations and one farm lot
reaching 7,000 lots at 1M events. Nine stages and the packing into an SSCC make the longest
lineage path exactly the issue's depth 10, deeper than any real food chain."""


CHUNK = 20_000


def _check(digits: str) -> str:
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return digits + str((10 - total % 10) % 10)


@dataclass(frozen=True)
class Sizes:
    farms: int
    processors: int
    distributors: int
    retailers: int

    @classmethod
    def for_events(cls, n: int) -> Sizes:
        return cls(max(60, n // 300), max(12, n // 1000), max(3, n // 10_000), max(60, n // 500))


def party_gln(kind: str, i: int) -> str:
    prefix = {"farm": "61", "processor": "62", "distributor": "63", "retailer": "64"}[kind]
    return _check(f"{prefix}{i:010d}")


def party_id(kind: str, i: int) -> str:
    return f"{kind}-{i:05d}"


def _pgln(kind: str, i: int) -> str:
    return f"{DL}/417/{party_gln(kind, i)}"


@dataclass
class Generator:
    """Events in time order, as ``(author, event)``, until ``target`` events."""

    target: int
    seed: int = 7
    sizes: Sizes = field(init=False)
    rng: random.Random = field(init=False)
    n: int = 0
    lots: int = 0
    units: int = 0
    pools: dict[int, list[tuple[str, float]]] = field(default_factory=dict)
    stage: dict[str, int] = field(default_factory=dict)
    want: dict[int, int] = field(default_factory=dict)
    farm_lots: list[str] = field(default_factory=list)
    retail_lots: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.sizes = Sizes.for_events(self.target)
        self.rng = random.Random(self.seed)

    def _time(self) -> str:
        self.n += 1
        return (T0 + timedelta(seconds=30 * self.n)).isoformat().replace("+00:00", "Z")

    def _lot(self, kind: str, owner: int) -> str:
        self.lots += 1
        gtin = _check(f"{ {'farm': '0690', 'processor': '0691'}[kind] }{owner:09d}")
        return f"{DL}/01/{gtin}/10/{kind[0].upper()}{self.lots}"

    def __iter__(self) -> Iterator[tuple[str, dict[str, Any]]]:
        s, rng = self.sizes, self.rng
        while self.n < self.target:
            farm, proc = rng.randrange(s.farms), rng.randrange(s.processors)
            lot, kg = self._lot("farm", farm), float(rng.randrange(200, 2000))
            self.farm_lots.append(lot)
            yield (
                party_id("farm", farm),
                _ev(self._time(), "ADD", "commissioning", quantityList=[_q(lot, kg)]),
            )
            yield from self._move(("farm", farm), ("processor", proc), [_q(lot, kg)])
            yield from self._arrive(proc, lot, kg)

    def _move(
        self,
        frm: tuple[str, int],
        to: tuple[str, int],
        quantities: list[dict[str, Any]],
        epcs: list[str] | None = None,
    ) -> Iterator[tuple[str, dict[str, Any]]]:
        parties = {
            "sourceList": [{"type": "owning_party", "source": _pgln(*frm)}],
            "destinationList": [{"type": "owning_party", "destination": _pgln(*to)}],
        }
        objects = {"epcList": epcs or [], "quantityList": quantities}
        yield party_id(*frm), _ev(self._time(), "OBSERVE", "shipping", **objects, **parties)
        yield party_id(*to), _ev(self._time(), "OBSERVE", "receiving", **objects, **parties)

    def _arrive(self, proc: int, lot: str, kg: float) -> Iterator[tuple[str, dict[str, Any]]]:
        """A lot reaches a processor's stock; enough stock makes a transformation."""
        pool = self.pools.setdefault(proc, [])
        pool.append((lot, kg))
        want = self.want.setdefault(proc, self.rng.randint(3, 10))
        if len(pool) < want:
            return
        inputs, self.pools[proc] = pool[:want], []
        self.want[proc] = self.rng.randint(3, 10)
        out = self._lot("processor", proc)
        stage = self.stage[out] = 1 + max(self.stage.get(lot, 0) for lot, _ in inputs)
        total = sum(kg for _, kg in inputs) * 0.8
        yield (
            party_id("processor", proc),
            {
                "type": "TransformationEvent",
                "eventTime": self._time(),
                "eventTimeZoneOffset": "+00:00",
                "bizStep": "commissioning",
                "disposition": "active",
                "inputQuantityList": [_q(lot, kg) for lot, kg in inputs],
                "outputQuantityList": [_q(out, total)],
            },
        )
        if self.rng.random() < CHAIN_ON and stage < STAGES:
            takers = self.rng.sample(range(self.sizes.processors), self.rng.randint(1, 3))
            share = round(total / len(takers), 1)
            for other in takers:
                if other == proc:
                    continue
                yield from self._move(("processor", proc), ("processor", other), [_q(out, share)])
                yield from self._arrive(other, out, share)
            return
        yield from self._distribute(proc, out, total)

    def _distribute(
        self, proc: int, out: str, total: float
    ) -> Iterator[tuple[str, dict[str, Any]]]:
        self.units += 1
        sscc = f"{DL}/00/{_check(f'36901234{self.units:09d}')}"
        yield (
            party_id("processor", proc),
            {
                "type": "AggregationEvent",
                "eventTime": self._time(),
                "eventTimeZoneOffset": "+00:00",
                "action": "ADD",
                "bizStep": "packing",
                "parentID": sscc,
                "childEPCs": [],
                "childQuantityList": [_q(out, total)],
            },
        )
        dist = self.rng.randrange(self.sizes.distributors)
        yield from self._move(("processor", proc), ("distributor", dist), [], [sscc])
        shops = self.rng.sample(range(self.sizes.retailers), self.rng.randint(5, 50))
        share = round(total / len(shops), 1)
        self.retail_lots.append(out)
        for shop in shops:
            yield from self._move(("distributor", dist), ("retailer", shop), [_q(out, share)])


def _q(lot: str, kg: float) -> dict[str, Any]:
    return {"epcClass": lot, "quantity": kg, "uom": "KGM"}


def _ev(when: str, action: str, step: str, **fields: Any) -> dict[str, Any]:
    return {
        "type": "ObjectEvent",
        "eventTime": when,
        "eventTimeZoneOffset": "+00:00",
        "action": action,
        "bizStep": step,
        "epcList": [],
        **fields,
    }


@dataclass
class BulkProjection:
    """The provenance rows of a stream of events, projected in memory with the live
    projector's pure rules. Row dicts are keyed by the tables' column names."""

    glns: dict[str, str]
    nodes: dict[str, int] = field(default_factory=dict)
    node_rows: list[dict[str, Any]] = field(default_factory=list)
    edges: list[dict[str, Any]] = field(default_factory=list)
    activities: list[dict[str, Any]] = field(default_factory=list)
    holds: list[dict[str, Any]] = field(default_factory=list)
    transits: list[dict[str, Any]] = field(default_factory=list)
    containment: list[dict[str, Any]] = field(default_factory=list)
    state: dict[str, custody.Custody] = field(default_factory=dict)
    open_rows: dict[tuple[int, str], dict[str, Any]] = field(default_factory=dict)

    def node(self, canonical: str) -> int:
        found = self.nodes.get(canonical)
        if found is None:
            kind, gtin, lot = lineage.node_kind(canonical)
            found = self.nodes[canonical] = len(self.nodes) + 1
            self.node_rows.append(
                {"id": found, "canonical": canonical, "kind": kind, "gtin": gtin, "lot_code": lot}
            )
        return found

    def _party(self, uri: str) -> str | None:
        return self.glns.get(uri.rsplit("/", 1)[-1])

    def project(self, index: int, author: str, event: dict[str, Any]) -> None:
        facts = events.extract(event)
        refs = lineage.object_refs(event)
        consignees = frozenset(p for d in facts.destinations if (p := self._party(d.id)))
        ctx = custody.EventContext(
            author,
            False,
            False,
            facts,
            [r for r in refs if r.kind in ("lot", "serial", "sscc")],
            consignees=consignees,
        )
        verdict = custody.judge(ctx, self._state_of(r.canonical for r in ctx.refs))
        if verdict.refusals:
            raise AssertionError(f"generated event {index} breaks custody: {verdict.refusals}")
        at = facts.event_time
        moved = [
            e.canonical for e in verdict.effects if isinstance(e, custody.Ship | custody.Receive)
        ]
        for effect in verdict.effects:
            self._apply(index, at, effect)
        for edge in lineage.edges(facts, refs):
            self.edges.append(
                {
                    "id": len(self.edges) + 1,
                    "from_node": self.node(edge.source),
                    "to_node": self.node(edge.target),
                    "kind": edge.kind,
                    "entry_index": index,
                    "party": author,
                    "quantity": edge.quantity,
                    "uom": edge.uom,
                    "time": at,
                }
            )
        named = {r.canonical for r in refs}
        acts = [(r.canonical, lineage.activity(facts, r), r.quantity, r.uom) for r in refs]
        word = {"shipping": "shipped", "receiving": "received"}.get(
            facts.biz_step or "", "observed"
        )
        acts += [(c, word, None, None) for c in dict.fromkeys(moved) if c not in named]
        other = None
        if facts.biz_step == "shipping" and consignees:
            other = sorted(consignees)[0]
        elif facts.biz_step == "receiving" and facts.sources:
            other = self._party(facts.sources[0].id)
        for canonical, role, quantity, uom in acts:
            self.activities.append(
                {
                    "id": len(self.activities) + 1,
                    "node_id": self.node(canonical),
                    "party": author,
                    "role": role,
                    "entry_index": index,
                    "time": at,
                    "quantity": quantity,
                    "uom": uom,
                    "counterparty": other,
                }
            )

    def trace_node_rows(self) -> list[dict[str, Any]]:
        """The trace read model's rows: each node's summary, by the projector's pure
        ``trace_read.summarize`` of its activities and outgoing edges."""
        acts: dict[int, list[trace_read.Activity]] = {}
        for a in self.activities:
            acts.setdefault(a["node_id"], []).append(
                trace_read.Activity(
                    a["id"],
                    a["party"],
                    a["role"],
                    a["entry_index"],
                    a["time"],
                    a["quantity"],
                    a["uom"],
                    a["counterparty"],
                )
            )
        canon = {n["id"]: n["canonical"] for n in self.node_rows}
        out: dict[int, list[trace_read.OutEdge]] = {}
        for e in self.edges:
            out.setdefault(e["from_node"], []).append(
                trace_read.OutEdge(
                    e["id"],
                    canon[e["to_node"]],
                    e["kind"],
                    e["entry_index"],
                    e["party"],
                    e["quantity"],
                    e["uom"],
                    e["time"],
                )
            )
        return [
            {"node_id": n, "summary": trace_read.summarize(acts.get(n, []), out.get(n, []))}
            for n in canon
        ]

    def _state_of(self, canonicals: Any) -> dict[str, custody.Custody]:
        out: dict[str, custody.Custody] = {}
        stack = list(canonicals)
        while stack:
            c = stack.pop()
            if c not in out:
                out[c] = self.state.get(c, custody.Custody())
                stack.extend(out[c].children)
        return out

    def _apply(self, index: int, at: datetime, effect: custody.Effect) -> None:
        if isinstance(effect, custody.Claim):
            self._hold(
                effect.canonical, effect.holder, effect.how, at, index, effect.quantity, effect.uom
            )
        elif isinstance(effect, custody.Ship):
            row = {
                "id": len(self.transits) + 1,
                "node_id": self.node(effect.canonical),
                "shipper": effect.shipper,
                "consignees": " ".join(sorted(effect.consignees)),
                "carriers": " ".join(sorted(effect.carriers)),
                "shipped_at": at,
                "shipment_entry": index,
                "quantity": effect.quantity,
                "uom": effect.uom,
                "received_entry": None,
                "received_by": None,
            }
            self.transits.append(row)
            c = self.state.get(effect.canonical, custody.Custody())
            transit = custody.Transit(
                row["id"],
                effect.shipper,
                effect.consignees,
                effect.carriers,
                effect.quantity,
                effect.uom,
            )
            self.state[effect.canonical] = replace(c, transits=(*c.transits, transit))
        elif isinstance(effect, custody.Receive):
            row = self.transits[effect.transit_id - 1]
            row["received_entry"], row["received_by"] = index, effect.receiver
            c = self.state[effect.canonical]
            self.state[effect.canonical] = replace(
                c, transits=tuple(t for t in c.transits if t.id != effect.transit_id)
            )
            self._hold(
                effect.canonical,
                effect.receiver,
                "received",
                at,
                index,
                effect.quantity,
                effect.uom,
            )
            self._shipper(effect, at, index)
        elif isinstance(effect, custody.Pack):
            self.containment.append(
                {
                    "child": self.node(effect.child),
                    "parent": self.node(effect.parent),
                    "since_entry": index,
                    "until_entry": None,
                }
            )
            c = self.state.get(effect.parent, custody.Custody())
            self.state[effect.parent] = replace(c, children=(*c.children, effect.child))

    def _hold(
        self,
        canonical: str,
        holder: str,
        how: str,
        at: datetime,
        index: int,
        quantity: float | None,
        uom: str | None,
    ) -> None:
        c = self.state.get(canonical, custody.Custody())
        if c.open_hold(holder) is not None:
            return
        row = {
            "node_id": self.node(canonical),
            "holder": holder,
            "how": how,
            "since": at,
            "since_entry": index,
            "until": None,
            "until_entry": None,
            "quantity": quantity,
            "uom": uom,
        }
        self.holds.append(row)
        self.open_rows[(row["node_id"], holder)] = row
        hold = custody.Hold(holder, at, None, quantity, uom)
        self.state[canonical] = replace(c, holds=(*c.holds, hold))

    def _shipper(self, effect: custody.Receive, at: datetime, index: int) -> None:
        c = self.state[effect.canonical]
        node = self.node(effect.canonical)
        holds = list(c.holds)
        for i, h in enumerate(holds):
            if h.holder != effect.shipper or h.until is not None:
                continue
            row = self.open_rows[(node, h.holder)]
            if effect.shipper_done:
                holds[i] = replace(h, until=at)
                row["until"], row["until_entry"] = at, index
                del self.open_rows[(node, h.holder)]
            elif effect.shipper_keeps is not None:
                holds[i] = replace(h, quantity=effect.shipper_keeps)
                row["quantity"] = effect.shipper_keeps
        self.state[effect.canonical] = replace(c, holds=tuple(holds))


def bulk_load(engine: Engine, bulk: BulkProjection) -> None:
    """Insert the projected rows (tables empty before) and ``ANALYZE``."""
    with engine.begin() as conn:
        for model, rows in (
            (LineageNode, bulk.node_rows),
            (LineageEdge, bulk.edges),
            (NodeActivity, bulk.activities),
            (CustodyHold, bulk.holds),
            (CustodyTransit, bulk.transits),
            (Containment, bulk.containment),
            (TraceNode, bulk.trace_node_rows()),
        ):
            for i in range(0, len(rows), CHUNK):
                conn.execute(insert(model), rows[i : i + CHUNK])
        conn.execute(text("ANALYZE"))
