"""Custody rules: who may write about a lot, a serialised item or a logistic unit, and how
an event moves custody. Pure: the state of each object comes in, a verdict goes out.

The rules (the design card's "Custody"):

* A lot is held by its producer when created. An object nobody holds yet is taken into
  custody by the first party that writes about it, unless its GTIN is a registered product
  of another party (only that producer may introduce lots or items of it).
* A shipping event naming destination parties opens a shipment; the receiving event of a
  named consignee moves custody to it. Instance-level objects (SGTIN, SSCC) move whole; a
  class-level lot may be split, so the shipper keeps holding unless the shipment carried all
  it held (no quantity given, or at least its quantity in the same unit).
* A transformation by the holder of its inputs creates outputs it holds; aggregating
  children its holds puts them in a parent it then holds, and shipping the parent moves them.
* An event about an object is accepted from a party that holds it now or held it at the
  event's time, from a carrier named on a shipment of it in transit (observations such as
  sensor readings), or from an exempt author (inspector, regulator).
* Any other record about an object (a test report about a lot) declares its subjects
  (:class:`Subject`) and is accepted from a party that holds the object or held it at the
  time the record is about, from an exempt author, or, where the record is a lab's, from a
  lab named as the destination of a ``sampling`` event about the object: its holder (or an
  inspector) recorded sending it the sample, which is how the lab was commissioned
  (委托检验 by the holder, 监督抽检 by an inspector). See :func:`judge_record`.
* An ``errorDeclaration`` may come only from the event's author or a regulator. It voids
  the custody effects of the event it declares (:mod:`foodtrace.provenance.correction`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

from foodtrace.trace.epcis.events import EventFacts
from foodtrace.trace.lineage import CHILD_ROLES, INPUT_ROLES, OUTPUT_ROLES, ObjectRef, node_kind

INSTANCE_KINDS: Final = frozenset({"serial", "sscc"})
_NOT_MOVED: Final = INPUT_ROLES | OUTPUT_ROLES | CHILD_ROLES
UNIT_UOM: Final = {"kg": "KGM", "g": "GRM", "t": "TNE", "l": "LTR", "L": "LTR", "ml": "MLT"}
"""A lot's unit as ``lot.create`` spells it, as the UN/ECE Rec 20 code EPCIS uses."""


@dataclass(frozen=True)
class Hold:
    holder: str
    since: datetime
    until: datetime | None
    quantity: float | None = None
    uom: str | None = None


@dataclass(frozen=True)
class Transit:
    """An open shipment of an object (``id`` is its row, for the receipt to close)."""

    id: int
    shipper: str
    consignees: frozenset[str]
    carriers: frozenset[str]
    quantity: float | None = None
    uom: str | None = None


@dataclass(frozen=True)
class Custody:
    """What is known about one object: its holds (open and closed), its open shipments,
    the producer of its GTIN if registered, and what it contains now."""

    holds: tuple[Hold, ...] = ()
    transits: tuple[Transit, ...] = ()
    owner: str | None = None
    children: tuple[str, ...] = ()

    def holders(self) -> list[str]:
        return list(dict.fromkeys(h.holder for h in self.holds if h.until is None))

    def open_hold(self, party: str) -> Hold | None:
        return next((h for h in self.holds if h.holder == party and h.until is None), None)

    def held_by(self, party: str, at: datetime) -> bool:
        """Holds it now, or held it at ``at``."""
        return any(
            h.holder == party and (h.until is None or h.since <= at < h.until) for h in self.holds
        )


@dataclass(frozen=True)
class EventContext:
    """One event as the rules see it: its author and whether exempt, its facts, the objects
    it names, and the parties its destinations resolve to."""

    author: str
    exempt: bool
    regulator: bool
    facts: EventFacts
    refs: Sequence[ObjectRef]
    consignees: frozenset[str] = frozenset()
    carriers: frozenset[str] = frozenset()
    declares_error: bool = False
    declared_author: str | None = None


@dataclass(frozen=True)
class Refusal:
    field: str
    detail: str


@dataclass(frozen=True)
class Claim:
    canonical: str
    holder: str
    how: str
    quantity: float | None
    uom: str | None


@dataclass(frozen=True)
class Ship:
    canonical: str
    shipper: str
    consignees: frozenset[str]
    carriers: frozenset[str]
    quantity: float | None
    uom: str | None


@dataclass(frozen=True)
class Receive:
    canonical: str
    transit_id: int
    receiver: str
    shipper: str
    quantity: float | None
    uom: str | None
    shipper_done: bool
    """Whether the shipper's hold ends (it shipped all it held)."""
    shipper_keeps: float | None
    """What the shipper still holds when it does not, where known."""


@dataclass(frozen=True)
class Pack:
    child: str
    parent: str


@dataclass(frozen=True)
class Unpack:
    child: str
    parent: str


Effect = Claim | Ship | Receive | Pack | Unpack


@dataclass(frozen=True)
class Verdict:
    refusals: list[Refusal] = field(default_factory=list)
    effects: list[Effect] = field(default_factory=list)


@dataclass(frozen=True)
class Subject:
    """An object a record other than an EPCIS event is about: where the body names it
    (``field``, dotted), its canonical id, the time the record speaks of, and whether a
    lab the object was sent to for sampling may write it."""

    field: str
    canonical: str
    at: datetime
    sampled: bool = False


def judge_record(
    author: str,
    exempt: bool,
    subjects: Sequence[Subject],
    state: Mapping[str, Custody],
    samplers: Mapping[str, frozenset[str]],
) -> list[Refusal]:
    """Every refusal of a record about ``subjects`` by ``author``. ``samplers`` are, per
    object, the labs its sampling events sent a sample to (by the event's time, at most
    the subject's ``at``). An object with no custody on record is left to the record's own
    rules (a report about an unknown lot is refused as unknown, not as someone else's)."""
    if exempt:
        return []
    refusals: list[Refusal] = []
    for subject in subjects:
        c = state.get(subject.canonical, Custody())
        if not c.holds or c.held_by(author, subject.at):
            continue
        if subject.sampled and author in samplers.get(subject.canonical, frozenset()):
            continue
        detail = (
            f"{author} does not hold {subject.canonical} and did not hold it at "
            f"{subject.at.isoformat()}; it is held by {_who(c)}"
        )
        if subject.sampled:
            detail += (
                f", and no sampling event by its holder or an inspector sent a sample of it "
                f"to {author} by then"
            )
        refusals.append(Refusal(subject.field, detail))
    return refusals


def _who(c: Custody) -> str:
    holders = c.holders()
    return ", ".join(holders) if holders else "nobody"


def _carrier_of(c: Custody, party: str) -> bool:
    return any(party in t.carriers for t in c.transits)


def _transit_to(c: Custody, party: str) -> Transit | None:
    return next((t for t in c.transits if party in t.consignees), None)


def _observation(facts: EventFacts) -> bool:
    return (
        facts.type == "ObjectEvent"
        and facts.action == "OBSERVE"
        and facts.biz_step not in ("shipping", "receiving")
    )


def _remaining(
    hold: Hold | None, kind: str, quantity: float | None, uom: str | None
) -> tuple[bool, float | None]:
    """``(done, left)`` for a shipper after a receipt of ``quantity``: an item or a unit
    moves whole, and so does a lot shipped without a quantity (or packed in a unit that
    was shipped); otherwise the shipper keeps what is left, or part of an unknown amount."""
    if kind in INSTANCE_KINDS or hold is None or quantity is None:
        return True, None
    if hold.quantity is None or hold.uom is None or hold.uom != uom:
        return False, None  # unknown how much of a split lot the shipper still holds
    left = hold.quantity - quantity
    return (left <= 0), (left if left > 0 else None)


def given_back(
    held: float | None, held_uom: str | None, shipped: float | None, shipped_uom: str | None
) -> float | None:
    """What a shipper holds once the receipt of a part of its lot is voided: a receipt that
    left it holding took the part shipped from a known quantity in the same unit (see
    :func:`_remaining`), so voiding it gives that part back; otherwise nothing was taken."""
    if held is None or shipped is None or held_uom is None or held_uom != shipped_uom:
        return held
    return held + shipped


def judge(ctx: EventContext, state: Mapping[str, Custody]) -> Verdict:
    """Every refusal of the event and, when there is none, its custody effects."""
    refusals: list[Refusal] = []
    if ctx.declares_error:
        if ctx.declared_author not in (None, ctx.author) and not ctx.regulator:
            refusals.append(
                Refusal(
                    "event.errorDeclaration",
                    f"only the event's author ({ctx.declared_author}) or a regulator may "
                    f"declare it in error, not {ctx.author}",
                )
            )
        if ctx.declared_author is not None or refusals:
            return Verdict(refusals)  # corrections move nothing
    if ctx.exempt:
        return Verdict()
    facts, author, at = ctx.facts, ctx.author, ctx.facts.event_time
    effects: list[Effect] = []
    claimed: set[str] = set()
    for ref in ctx.refs:
        c = state.get(ref.canonical, Custody())
        if c.held_by(author, at):
            continue
        if not c.holders():
            if c.owner not in (None, author) and ref.canonical not in claimed:
                refusals.append(
                    Refusal(
                        ref.field,
                        f"{ref.canonical} is not in anyone's custody and its GTIN is "
                        f"{c.owner}'s product: only {c.owner} may introduce it",
                    )
                )
            elif ref.canonical not in claimed:
                claimed.add(ref.canonical)
                how = "produced" if ref.role in OUTPUT_ROLES else "claimed"
                effects.append(Claim(ref.canonical, author, how, ref.quantity, ref.uom))
            continue
        if facts.biz_step == "receiving" and _transit_to(c, author) is not None:
            continue
        if _observation(facts) and _carrier_of(c, author):
            continue
        refusals.append(
            Refusal(
                ref.field,
                f"{author} does not hold {ref.canonical} and did not hold it at {at.isoformat()}"
                f"; it is held by {_who(c)}",
            )
        )
    if refusals:
        return Verdict(refusals)
    return Verdict([], effects + _moves(ctx, state))


def _moves(ctx: EventContext, state: Mapping[str, Custody]) -> list[Effect]:
    facts, author = ctx.facts, ctx.author
    out: list[Effect] = []
    if facts.type == "AggregationEvent":
        parents = [r.canonical for r in ctx.refs if r.role == "parentID"]
        children = [r.canonical for r in ctx.refs if r.role in CHILD_ROLES]
        for parent in parents:
            if facts.action == "DELETE":
                gone = children or list(state.get(parent, Custody()).children)
                out += [Unpack(child, parent) for child in gone]
            else:
                out += [Pack(child, parent) for child in children]
        return out
    if facts.type == "TransformationEvent":
        return out  # outputs not yet held were claimed by their producer above
    moved = [r for r in ctx.refs if r.role not in _NOT_MOVED]
    if facts.biz_step == "shipping" and (ctx.consignees or ctx.carriers):
        consignees = ctx.consignees or ctx.carriers
        carriers = ctx.carriers - consignees
        for ref, canonical in _with_contents(moved, state):
            qty, uom = (ref.quantity, ref.uom) if canonical == ref.canonical else (None, None)
            out.append(Ship(canonical, author, consignees, carriers, qty, uom))
    elif facts.biz_step == "receiving":
        for ref, canonical in _with_contents(moved, state):
            c = state.get(canonical, Custody())
            transit = _transit_to(c, author)
            if transit is None:
                continue
            packed = canonical != ref.canonical
            own = ref.quantity is not None and not packed
            quantity = ref.quantity if own else transit.quantity
            uom = ref.uom if own else transit.uom
            kind = node_kind(canonical)[0]
            hold = c.open_hold(transit.shipper)
            done, keeps = _remaining(hold, kind, transit.quantity, transit.uom)
            out.append(
                Receive(canonical, transit.id, author, transit.shipper, quantity, uom, done, keeps)
            )
    return out


def _with_contents(
    refs: Sequence[ObjectRef], state: Mapping[str, Custody]
) -> list[tuple[ObjectRef, str]]:
    """Each object with everything packed in it, however deep (a pallet of cases)."""
    out: list[tuple[ObjectRef, str]] = []
    seen: set[str] = set()
    for ref in refs:
        stack = [ref.canonical]
        while stack:
            canonical = stack.pop()
            if canonical in seen:
                continue
            seen.add(canonical)
            out.append((ref, canonical))
            stack.extend(state.get(canonical, Custody()).children)
    return out
