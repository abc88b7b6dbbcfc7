"""What a trace returns, as plain data, and its JSON and CSV shapes (pure)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Literal, NamedTuple

from foodtrace.trace.epcis import gs1keys

Direction = Literal["upstream", "downstream"]
OriginKind = Literal["lot", "party", "transaction", "sscc"]
ROLE_ORDER: Final = (
    "created",
    "produced",
    "claimed",
    "received",
    "transformed",
    "aggregated",
    "disaggregated",
    "observed",
    "shipped",
    "inspected",
)
CSV_COLUMNS: Final = (
    "depth",
    "kind",
    "gtin",
    "lot_code",
    "id",
    "holder",
    "quantity",
    "unit",
    "first_event_time",
    "last_event_time",
    "entry_indices",
)


def party_role_order(role: str) -> tuple[int, str]:
    return (ROLE_ORDER.index(role) if role in ROLE_ORDER else len(ROLE_ORDER), role)


@dataclass(frozen=True)
class Origin:
    """Where a trace starts: a lot, a party (everything it handled), a business transaction
    (everything its events named) or a logistic unit (the SSCC and what was packed in it)."""

    kind: OriginKind
    gtin: str | None = None
    lot_code: str | None = None
    party_id: str | None = None
    transaction: str | None = None
    sscc: str | None = None

    @classmethod
    def lot(cls, gtin: str, lot_code: str) -> Origin:
        return cls("lot", gtin=gtin.zfill(14), lot_code=lot_code)

    @classmethod
    def party(cls, party_id: str) -> Origin:
        return cls("party", party_id=party_id)

    @classmethod
    def business_transaction(cls, transaction: str) -> Origin:
        return cls("transaction", transaction=transaction)

    @classmethod
    def logistic_unit(cls, sscc: str) -> Origin:
        return cls("sscc", sscc=sscc)

    def sscc_canonical(self) -> str:
        assert self.sscc is not None
        if self.sscc.isdigit():
            return f"{gs1keys.CANONICAL_HOST}/00/{self.sscc}"
        return gs1keys.canonical(self.sscc)

    def describe(self) -> str:
        return {
            "lot": f"lot {self.lot_code} of {self.gtin}",
            "party": f"party {self.party_id}",
            "transaction": f"business transaction {self.transaction}",
            "sscc": f"logistic unit {self.sscc}",
        }[self.kind]

    def to_json(self) -> dict[str, Any]:
        fields = {
            "lot": {"gtin": self.gtin, "lot_code": self.lot_code},
            "party": {"party_id": self.party_id},
            "transaction": {"biz_transaction": self.transaction},
            "sscc": {"sscc": self.sscc},
        }[self.kind]
        return {"kind": self.kind, **fields}


def lot_origin(gtin: str, lot_code: str) -> Origin:
    return Origin.lot(gtin, lot_code)


class TraceLot(NamedTuple):
    """A node reached: ``id`` its canonical Digital Link, ``kind`` lot/serial/sscc/…,
    ``holder`` who holds it now (``holders`` when a lot is split), ``entry_indices`` the
    log entries that prove it (its creation, its events, the edges that reached it).

    Named tuples, not dataclasses, for the three row types of a trace: a recall scope has
    thousands of them, and a frozen dataclass costs ten times a tuple to build."""

    id: str
    kind: str
    gtin: str | None
    lot_code: str | None
    depth: int
    holder: str | None
    holders: tuple[str, ...]
    quantity: float | None
    unit: str | None
    first_event_time: datetime | None
    last_event_time: datetime | None
    entry_indices: tuple[int, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "gtin": self.gtin,
            "lot_code": self.lot_code,
            "depth": self.depth,
            "id": self.id,
            "kind": self.kind,
            "holder": self.holder,
            "holders": list(self.holders),
            "quantity": self.quantity,
            "unit": self.unit,
            "first_event_time": _iso(self.first_event_time),
            "last_event_time": _iso(self.last_event_time),
            "entry_indices": list(self.entry_indices),
        }


class TraceParty(NamedTuple):
    """A party the traced objects passed: what it did with them (``roles``), how much of
    them it received per unit, and the entries that say so."""

    party_id: str
    name: str | None
    roles: tuple[str, ...]
    received: tuple[tuple[str, float], ...]
    entry_indices: tuple[int, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "party_id": self.party_id,
            "name": self.name,
            "roles": list(self.roles),
            "received": [{"quantity": q, "uom": u or None} for u, q in self.received],
            "entry_indices": list(self.entry_indices),
        }


class TraceEdge(NamedTuple):
    """``source`` went into ``target`` (transformation, aggregation) or, for a
    ``shipment``, the same object went from ``from_party`` to ``to_party``."""

    source: str
    target: str
    kind: str
    entry_index: int
    party: str
    quantity: float | None
    uom: str | None
    time: datetime
    from_party: str | None = None
    to_party: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "from": self.source,
            "to": self.target,
            "kind": self.kind,
            "entry_index": self.entry_index,
            "party": self.party,
            "quantity": self.quantity,
            "uom": self.uom,
            "time": _iso(self.time),
        }
        if self.kind == "shipment":
            out |= {"from_party": self.from_party, "to_party": self.to_party}
        return out


@dataclass(frozen=True)
class TraceResult:
    origin: Origin
    direction: Direction
    depth: int
    lots: tuple[TraceLot, ...]
    parties: tuple[TraceParty, ...]
    edges: tuple[TraceEdge, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "origin": self.origin.to_json(),
            "direction": self.direction,
            "depth": self.depth,
            "lots": [lot.to_json() for lot in self.lots],
            "parties": [p.to_json() for p in self.parties],
            "edges": [e.to_json() for e in self.edges],
        }

    def to_csv(self) -> str:
        """One row per node reached, sortable in a spreadsheet."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(CSV_COLUMNS)
        for lot in self.lots:
            row = lot.to_json()
            row["entry_indices"] = " ".join(map(str, lot.entry_indices))
            writer.writerow(["" if row[c] is None else row[c] for c in CSV_COLUMNS])
        return out.getvalue()


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.isoformat(timespec="milliseconds").replace("+00:00", "Z")
