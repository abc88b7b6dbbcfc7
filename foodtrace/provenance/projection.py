"""The provenance projection: custody checked and moved, lineage edges and activities
recorded, for every ``lot.create`` and ``epcis.event`` entry, inside the append's
transaction (so an event sees the earlier events of its own document).

:func:`check_custody` runs the pure rules of :mod:`foodtrace.trace.custody` over the state
loaded here and refuses with 403; :func:`project_lineage` applies what they decided.
:mod:`foodtrace.provenance.rebuild` replays the log into empty tables: the projection is
never the record.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from foodtrace.auth.models import Role
from foodtrace.epcis.models import EpcisEvent
from foodtrace.product.models import Product
from foodtrace.provenance import correction, parties
from foodtrace.provenance.models import (
    Containment,
    CustodyHold,
    CustodyTransit,
    LineageEdge,
    LineageNode,
    NodeActivity,
    NodeTransaction,
)
from foodtrace.record import registry
from foodtrace.trace import custody, lineage
from foodtrace.trace.entry import Entry
from foodtrace.trace.epcis.events import EventFacts
from foodtrace.trace.lineage import ObjectRef

CUSTODY_KINDS: Final = frozenset({"lot", "serial", "sscc"})
"""What custody covers: lots, serialised items and logistic units."""


@dataclass(frozen=True)
class Plan:
    """An event that passed the custody check, with what the check decided."""

    facts: EventFacts
    refs: list[ObjectRef]
    verdict: custody.Verdict
    exempt: bool
    declares_error: bool
    consignees: frozenset[str]
    sources: tuple[str, ...]
    declared_index: int | None = None
    """The log index of the event an error declaration voids."""


def check_custody(session: Session, index: int, entry: Entry, facts: EventFacts) -> Plan:
    """Refuse (403, naming the offending EPC or quantity element) an event its author may
    not write; otherwise the plan :func:`project_lineage` applies."""
    event = entry.body["event"]
    refs = lineage.object_refs(event)
    roles = parties.author_roles(session, entry.author)
    exempt = bool(roles & parties.EXEMPT_ROLES)
    declares_error = "errorDeclaration" in event
    declared_author, declared_index = None, None
    if declares_error:
        declared = session.execute(
            select(EpcisEvent.author, EpcisEvent.entry_index).where(
                EpcisEvent.hash_id == str(entry.body["hash_id"]),
                EpcisEvent.declares_error.is_(False),
            )
        ).first()
        if declared is not None:
            declared_author, declared_index = declared
    consignees, carriers = parties.destinations(session, facts.destinations)
    guarded = [r for r in refs if r.kind in CUSTODY_KINDS]
    ctx = custody.EventContext(
        author=entry.author,
        exempt=exempt,
        regulator=Role.REGULATOR in roles,
        facts=facts,
        refs=guarded,
        consignees=consignees,
        carriers=carriers,
        declares_error=declares_error,
        declared_author=declared_author,
    )
    verdict = custody.judge(ctx, load_state(session, [r.canonical for r in guarded]))
    if verdict.refusals:
        raise registry.ProjectionError(403, [(r.field, r.detail) for r in verdict.refusals])
    sources = [parties.party_for(session, p.id) for p in facts.sources]
    return Plan(
        facts,
        refs,
        verdict,
        exempt,
        declares_error,
        consignees,
        tuple(s for s in sources if s is not None),
        declared_index,
    )


def load_state(session: Session, canonicals: Sequence[str]) -> dict[str, custody.Custody]:
    """The custody of each object, and of everything packed in them, however deep."""
    state: dict[str, custody.Custody] = {}
    wanted = list(dict.fromkeys(canonicals))
    while wanted:
        nodes = {
            n.canonical: n
            for n in session.scalars(
                select(LineageNode).where(LineageNode.canonical.in_(wanted))
            ).all()
        }
        ids = [n.id for n in nodes.values()]
        holds: dict[int, list[custody.Hold]] = {}
        for h in session.scalars(select(CustodyHold).where(CustodyHold.node_id.in_(ids))).all():
            holds.setdefault(h.node_id, []).append(
                custody.Hold(h.holder, _utc(h.since), _utc_or_none(h.until), h.quantity, h.uom)
            )
        transits: dict[int, list[custody.Transit]] = {}
        for t in session.scalars(
            select(CustodyTransit).where(
                CustodyTransit.node_id.in_(ids), CustodyTransit.received_entry.is_(None)
            )
        ).all():
            transits.setdefault(t.node_id, []).append(
                custody.Transit(
                    t.id, t.shipper, _split(t.consignees), _split(t.carriers), t.quantity, t.uom
                )
            )
        children: dict[int, list[str]] = {}
        for parent, child in session.execute(
            select(Containment.parent, LineageNode.canonical)
            .join(LineageNode, LineageNode.id == Containment.child)
            .where(Containment.parent.in_(ids), Containment.until_entry.is_(None))
        ).all():
            children.setdefault(parent, []).append(child)
        gtins = {lineage.node_kind(c)[1] for c in wanted} - {None}
        owners = dict(
            session.execute(
                select(Product.gtin, Product.producer).where(Product.gtin.in_(gtins))
            ).all()
        )
        for canonical in wanted:
            node = nodes.get(canonical)
            gtin = lineage.node_kind(canonical)[1]
            state[canonical] = custody.Custody(
                holds=tuple(holds.get(node.id, ())) if node else (),
                transits=tuple(transits.get(node.id, ())) if node else (),
                owner=owners.get(gtin) if gtin else None,
                children=tuple(children.get(node.id, ())) if node else (),
            )
        wanted = [c for s in state.values() for c in s.children if c not in state]
    return state


def project_lineage(session: Session, index: int, entry: Entry, plan: Plan) -> None:
    """Store the event's lineage edges, activities and transactions and apply its custody
    effects. An error declaration adds nothing: it voids what the event it declares did."""
    if plan.declares_error:
        if plan.declared_index is not None:
            correction.void_custody(session, plan.declared_index)
            correction.void_lineage(session, plan.declared_index)
        return
    facts, at = plan.facts, plan.facts.event_time
    moved = [
        e.canonical for e in plan.verdict.effects if isinstance(e, custody.Ship | custody.Receive)
    ]
    ids = ensure_nodes(session, [r.canonical for r in plan.refs] + moved)
    for effect in plan.verdict.effects:
        _apply(session, index, at, effect, ids)
    for edge in lineage.edges(facts, plan.refs):
        session.add(
            LineageEdge(
                from_node=ids[edge.source],
                to_node=ids[edge.target],
                kind=edge.kind,
                entry_index=index,
                party=entry.author,
                quantity=edge.quantity,
                uom=edge.uom,
                time=at,
            )
        )
    named = {r.canonical for r in plan.refs}
    activities = [(r.canonical, lineage.activity(facts, r), r.quantity, r.uom) for r in plan.refs]
    word = {"shipping": "shipped", "receiving": "received"}.get(facts.biz_step or "", "observed")
    activities += [(c, word, None, None) for c in dict.fromkeys(moved) if c not in named]
    other = _counterparty(facts, plan)
    for canonical, role, quantity, uom in activities:
        if plan.exempt and role == "observed":
            role = "inspected"
        session.add(
            NodeActivity(
                node_id=ids[canonical],
                party=entry.author,
                role=role,
                entry_index=index,
                time=at,
                quantity=quantity,
                uom=uom,
                counterparty=other,
            )
        )
    for bt in facts.biz_transactions:
        for canonical in dict.fromkeys(r.canonical for r in plan.refs):
            session.add(
                NodeTransaction(
                    biz_transaction=bt.id, type=bt.type, node_id=ids[canonical], entry_index=index
                )
            )
    session.flush()


def _counterparty(facts: EventFacts, plan: Plan) -> str | None:
    if facts.biz_step == "shipping" and plan.consignees:
        return sorted(plan.consignees)[0]
    if facts.biz_step == "receiving" and plan.sources:
        return plan.sources[0]
    return None


def _apply(
    session: Session, index: int, at: datetime, effect: custody.Effect, ids: dict[str, int]
) -> None:
    if isinstance(effect, custody.Claim):
        _hold(
            session,
            ids[effect.canonical],
            effect.holder,
            effect.how,
            at,
            index,
            effect.quantity,
            effect.uom,
        )
    elif isinstance(effect, custody.Ship):
        session.add(
            CustodyTransit(
                node_id=ids[effect.canonical],
                shipper=effect.shipper,
                consignees=" ".join(sorted(effect.consignees)),
                carriers=" ".join(sorted(effect.carriers)),
                shipped_at=at,
                shipment_entry=index,
                quantity=effect.quantity,
                uom=effect.uom,
            )
        )
    elif isinstance(effect, custody.Receive):
        transit = session.get(CustodyTransit, effect.transit_id)
        assert transit is not None
        transit.received_entry = index
        transit.received_by = effect.receiver
        node = ids[effect.canonical]
        _hold(session, node, effect.receiver, "received", at, index, effect.quantity, effect.uom)
        shipper = _open_hold(session, node, effect.shipper)
        if shipper is not None and effect.shipper_done:
            shipper.until, shipper.until_entry = at, index
        elif shipper is not None and effect.shipper_keeps is not None:
            shipper.quantity = effect.shipper_keeps
    elif isinstance(effect, custody.Pack):
        child, parent = ids[effect.child], ids[effect.parent]
        for row in session.scalars(
            select(Containment).where(Containment.child == child, Containment.until_entry.is_(None))
        ):
            row.until_entry = index
        session.add(Containment(child=child, parent=parent, since_entry=index))
    else:
        for row in session.scalars(
            select(Containment).where(
                Containment.child == ids[effect.child],
                Containment.parent == ids[effect.parent],
                Containment.until_entry.is_(None),
            )
        ):
            row.until_entry = index
    session.flush()


def _open_hold(session: Session, node: int, holder: str) -> CustodyHold | None:
    return session.scalar(
        select(CustodyHold).where(
            CustodyHold.node_id == node, CustodyHold.holder == holder, CustodyHold.until.is_(None)
        )
    )


def _hold(
    session: Session,
    node: int,
    holder: str,
    how: str,
    at: datetime,
    index: int,
    quantity: float | None,
    uom: str | None,
) -> None:
    """Open a hold unless ``holder`` already holds the node."""
    if _open_hold(session, node, holder) is None:
        session.add(
            CustodyHold(
                node_id=node,
                holder=holder,
                how=how,
                since=at,
                since_entry=index,
                quantity=quantity,
                uom=uom,
            )
        )
        session.flush()


def ensure_nodes(session: Session, canonicals: Iterable[str]) -> dict[str, int]:
    """Node ids of ``canonicals``, creating the missing nodes."""
    wanted = list(dict.fromkeys(canonicals))
    ids = dict(
        session.execute(
            select(LineageNode.canonical, LineageNode.id).where(LineageNode.canonical.in_(wanted))
        ).all()
    )
    for canonical in wanted:
        if canonical not in ids:
            kind, gtin, lot = lineage.node_kind(canonical)
            node = LineageNode(canonical=canonical, kind=kind, gtin=gtin, lot_code=lot)
            session.add(node)
            session.flush()
            ids[canonical] = node.id
    return ids


def on_lot_created(session: Session, index: int, entry: Entry) -> None:
    """A new lot is held by its producer from its production date."""
    body = entry.body
    canonical = lineage.lot_canonical(str(body["gtin"]), str(body["lot_code"]))
    node = ensure_nodes(session, [canonical])[canonical]
    since = datetime.combine(
        datetime.fromisoformat(str(body["production_date"])).date(), time(), UTC
    )
    quantity = float(body["quantity"]) if body.get("quantity") is not None else None
    uom = custody.UNIT_UOM.get(str(body.get("unit")))
    _hold(session, node, entry.author, "created", since, index, quantity if uom else None, uom)
    session.add(
        NodeActivity(
            node_id=node,
            party=entry.author,
            role="created",
            entry_index=index,
            time=since,
            quantity=quantity,
            uom=uom,
        )
    )
    session.flush()


def _split(text: str) -> frozenset[str]:
    return frozenset(text.split())


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _utc_or_none(value: datetime | None) -> datetime | None:
    return _utc(value) if value is not None else None
