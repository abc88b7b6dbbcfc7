"""From EPCIS events to FSMA 204 Key Data Element rows (pure).

FDA may ask for a food's traceability records as an electronic sortable spreadsheet within
24 hours (21 CFR 1.1455(c)(3)(ii)): one row per set of Key Data Elements of each Critical
Tracking Event. Column names follow the KDE names of 21 CFR 1.1325-1.1350 and FDA's sortable
spreadsheet template as described at
https://trackvision.ai/blog/a-fsma-204-sortable-spreadsheet-example (one row per TLC of
an event; a transformation is one row per new lot, its input lots listed beside it). The
CBV 2.0 business steps come from the GS1 EPCIS 2.0 JSON Schema's vocabulary
(``foodtrace/trace/epcis/data/cbv.json``; https://ref.gs1.org/cbv/).

CBV 2.0 has no word for harvesting, cooling, initial packing or first land-based
receiving, so besides the mapping of standard steps below, a custom business step URI whose
last word is one of ``harvesting``, ``cooling``, ``initial_packing`` or
``first_land_based_receiving`` (``urn:foodtrace:bizstep:cooling``,
``https://example.com/voc/BizStep-harvesting``) names that event. Events of any other step
(transporting, holding, inspecting, sensor readings…) are not Critical Tracking Events and
are left out.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any, Final

from foodtrace.trace.epcis import events as epcis_events
from foodtrace.trace.epcis import gs1keys, vocab

HARVESTING: Final = "Harvesting"
COOLING: Final = "Cooling"
INITIAL_PACKING: Final = "Initial Packing"
FIRST_LAND_BASED_RECEIVING: Final = "First Land-Based Receiving"
SHIPPING: Final = "Shipping"
RECEIVING: Final = "Receiving"
TRANSFORMATION: Final = "Transformation"
CTES: Final = (
    HARVESTING,
    COOLING,
    INITIAL_PACKING,
    FIRST_LAND_BASED_RECEIVING,
    SHIPPING,
    RECEIVING,
    TRANSFORMATION,
)

CBV_TO_CTE: Final[Mapping[str, str]] = {
    "commissioning": INITIAL_PACKING,  # the lot code (TLC) is assigned: 21 CFR 1.1330
    "packing": INITIAL_PACKING,
    "shipping": SHIPPING,
    "departing": SHIPPING,
    "receiving": RECEIVING,
    "accepting": RECEIVING,
    "arriving": RECEIVING,
}
"""ObjectEvent business steps that are Critical Tracking Events. A TransformationEvent is a
Transformation whatever its step."""

CUSTOM_TO_CTE: Final[Mapping[str, str]] = {
    "harvesting": HARVESTING,
    "cooling": COOLING,
    "initial_packing": INITIAL_PACKING,
    "first_land_based_receiving": FIRST_LAND_BASED_RECEIVING,
}

COLUMNS: Final = (
    "Event ID",
    "Critical Tracking Event",
    "Traceability Lot Code",
    "Product Description",
    "Quantity",
    "Unit of Measure",
    "Event Date",
    "Event Time",
    "Location Description",
    "Location Identifier",
    "Immediate Previous Source Location",
    "Immediate Subsequent Recipient Location",
    "Traceability Lot Code Source",
    "Traceability Lot Code Source Reference",
    "Input Traceability Lot Codes",
    "Reference Document Type",
    "Reference Document Number",
    "GTIN",
    "CBV Business Step",
)

REFERENCE_TYPES: Final[Mapping[str, str]] = {
    "bol": "Bill of Lading",
    "desadv": "Advance Shipping Notice",
    "inv": "Invoice",
    "po": "Purchase Order",
    "poc": "Purchase Order Confirmation",
    "prodorder": "Production Order",
    "recadv": "Receiving Advice",
    "rma": "Return Merchandise Authorization",
}
LOG_REFERENCE: Final = "FoodTrace log entry"
"""When an event names no business transaction, its signed log entry is the reference
record (FDA lists database records among reference documents)."""

_WORD = re.compile(r"[A-Za-z_]+$")


def cte_of(event_type: str, biz_step: str | None) -> str | None:
    """The Critical Tracking Event an EPCIS event records, or None."""
    if event_type == "TransformationEvent":
        return TRANSFORMATION
    if biz_step is None:
        return None
    try:
        word = vocab.cbv_word(vocab.BIZ_STEP, biz_step)
    except vocab.VocabularyError:
        return None
    if word is not None:
        return CBV_TO_CTE.get(word)
    tail = _WORD.search(biz_step.rsplit("BizStep-", 1)[-1])
    return CUSTOM_TO_CTE.get(tail.group(0).lower()) if tail else None


@dataclass(frozen=True)
class Place:
    """A location or party as the sheet names it."""

    description: str
    identifier: str


@dataclass(frozen=True)
class Directory:
    """What the sheet needs besides the events: product descriptions by GTIN-14, places by
    GLN, and each lot's TLC source (where its code was assigned)."""

    products: Mapping[str, str]
    places: Mapping[str, Place]
    tlc_sources: Mapping[tuple[str, str], Place]


@dataclass(frozen=True)
class LoggedEvent:
    """A stored event and the log entry it came in."""

    event: Mapping[str, Any]
    entry_index: int


def gln_of(identifier: str) -> str | None:
    """The GLN (AI 414 or 417) a location or party identifier names, if any."""
    canonical = gs1keys.canonical(identifier)
    parts = canonical.removeprefix(gs1keys.CANONICAL_HOST + "/").split("/")
    if len(parts) >= 2 and parts[0] in ("414", "417"):
        return parts[1]
    return None


def _place(identifier: str | None, directory: Directory) -> Place | None:
    if not identifier:
        return None
    gln = gln_of(identifier)
    if gln is not None and gln in directory.places:
        return directory.places[gln]
    return Place(identifier, gln or identifier)


def _local(event: Mapping[str, Any]) -> datetime:
    at = epcis_events.parse_time(str(event["eventTime"]))
    offset = event.get("eventTimeZoneOffset")
    if isinstance(offset, str) and re.fullmatch(r"[+-]\d{2}:\d{2}", offset):
        sign = 1 if offset[0] == "+" else -1
        hours, minutes = int(offset[1:3]), int(offset[4:6])
        return at.astimezone(timezone(sign * timedelta(hours=hours, minutes=minutes)))
    return at


def _lots(quantities: Iterable[epcis_events.Quantity], roles: Sequence[str]) -> list[Any]:
    out = []
    for q in quantities:
        if q.role not in roles:
            continue
        gtin, lot = gtin_lot(q.epc_class)
        if gtin is not None and lot is not None:
            out.append((gtin, lot, q.quantity, q.uom))
    return out


def gtin_lot(identifier: str) -> tuple[str | None, str | None]:
    canonical = gs1keys.canonical(identifier)
    if not canonical.startswith(gs1keys.CANONICAL_HOST + "/"):
        return None, None
    parts = canonical[len(gs1keys.CANONICAL_HOST) + 1 :].split("/")
    pairs = dict(zip(parts[::2], parts[1::2], strict=False))
    return pairs.get("01"), pairs.get("10")


def _fmt_qty(value: float | None) -> float | int | None:
    if value is None:
        return None
    return int(value) if float(value).is_integer() else value


def _reference(facts: epcis_events.EventFacts, entry_index: int) -> tuple[str, str]:
    for t in facts.biz_transactions:
        try:
            word = vocab.cbv_word(vocab.BIZ_TRANSACTION_TYPE, t.type) if t.type else None
        except vocab.VocabularyError:
            word = None
        label = REFERENCE_TYPES.get(word or "", word or t.type or "Business transaction")
        return label, t.id
    return LOG_REFERENCE, str(entry_index)


def rows(
    logged: Iterable[LoggedEvent],
    directory: Directory,
    *,
    about: Callable[[str, str], bool] = lambda gtin, lot: True,
) -> list[dict[str, Any]]:
    """One row per KDE set of every Critical Tracking Event among ``logged``, for the lots
    ``about`` accepts (a transformation row is kept when its new lot or any input is)."""
    out: list[dict[str, Any]] = []
    for item in logged:
        event = item.event
        facts = epcis_events.extract(event)
        cte = cte_of(facts.type, facts.biz_step)
        if cte is None or "errorDeclaration" in event:
            continue
        local = _local(event)
        where = _place(facts.biz_location or facts.read_point, directory)
        source = _place(facts.sources[0].id if facts.sources else None, directory)
        recipient = _place(facts.destinations[0].id if facts.destinations else None, directory)
        ref_type, ref_number = _reference(facts, item.entry_index)
        inputs: list[Any] = []
        if cte == TRANSFORMATION:
            inputs = _lots(facts.quantities, ("inputQuantityList",))
            lots = _lots(facts.quantities, ("outputQuantityList",))
            if not any(about(g, lot) for g, lot, _, _ in [*inputs, *lots]):
                continue
        else:
            lots = [x for x in _lots(facts.quantities, ("quantityList",)) if about(x[0], x[1])]
        listed = "; ".join(
            f"{lot} ({_fmt_qty(q)} {u or ''})".replace(" )", ")") for _, lot, q, u in inputs
        )
        for gtin, lot, quantity, uom in lots:
            tlc = directory.tlc_sources.get((gtin, lot))
            out.append(
                {
                    "Event ID": facts.event_id or "",
                    "Critical Tracking Event": cte,
                    "Traceability Lot Code": lot,
                    "Product Description": directory.products.get(gtin, ""),
                    "Quantity": _fmt_qty(quantity),
                    "Unit of Measure": uom or "",
                    "Event Date": local.date().isoformat(),
                    "Event Time": local.isoformat(timespec="seconds"),
                    "Location Description": where.description if where else "",
                    "Location Identifier": where.identifier if where else "",
                    "Immediate Previous Source Location": source.description if source else "",
                    "Immediate Subsequent Recipient Location": (
                        recipient.description if recipient else ""
                    ),
                    "Traceability Lot Code Source": tlc.description if tlc else "",
                    "Traceability Lot Code Source Reference": tlc.identifier if tlc else "",
                    "Input Traceability Lot Codes": listed,
                    "Reference Document Type": ref_type,
                    "Reference Document Number": ref_number,
                    "GTIN": gtin,
                    "CBV Business Step": facts.biz_step or "",
                }
            )
    return out


def in_range(row: Mapping[str, Any], start: date | None, end: date | None) -> bool:
    """Whether the row's event date lies within ``[start, end]`` (either may be open)."""
    day = date.fromisoformat(str(row["Event Date"]))
    return (start is None or day >= start) and (end is None or day <= end)
