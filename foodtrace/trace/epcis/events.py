"""Events out of an EPCIS 2.0 document, and the facts a traceability index needs.

A document holds events in ``epcisBody.eventList`` (EPCISDocument) or
``epcisBody.queryResults.resultsBody.eventList`` (EPCISQueryDocument). For each event we
keep what tracing forward and backward needs: what happened (type, action, bizStep,
disposition), when, where (readPoint, bizLocation), to which objects (instance EPCs and
class-level quantities, by role), between whom (source/destination parties, business
transactions) and what the sensors said. CBV values are reduced to one spelling (the bare
word, e.g. ``shipping``) so that ``urn:epcglobal:cbv:bizstep:shipping`` indexes the same.

This module trusts its input to be valid (run :func:`validate.validate` first); it does
not re-check types beyond what it needs to not crash.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

from foodtrace.trace.epcis import vocab

EPC_ROLES: Final = ("epcList", "parentID", "childEPCs", "inputEPCList", "outputEPCList")
QUANTITY_ROLES: Final = (
    "quantityList",
    "childQuantityList",
    "inputQuantityList",
    "outputQuantityList",
)
CAPTURE_ADDED: Final = ("recordTime",)
"""Fields a repository adds on capture; never part of what the author said."""


@dataclass(frozen=True)
class Quantity:
    """A class-level quantity: so much of a product class (GTIN + lot) in a given role."""

    role: str
    epc_class: str
    quantity: float | None
    uom: str | None


@dataclass(frozen=True)
class Party:
    """A source or destination: ``type`` is the bare CBV word (owning_party, possessing_party,
    location) or a custom URI; ``id`` the party or location identifier."""

    type: str
    id: str


@dataclass(frozen=True)
class BizTransaction:
    type: str | None
    id: str


@dataclass(frozen=True)
class SensorReading:
    """One sensor report; ``time`` and ``device_id`` fall back to the element's metadata."""

    type: str
    value: float | None
    uom: str | None
    time: str | None
    device_id: str | None
    component: str | None = None
    string_value: str | None = None
    boolean_value: bool | None = None


@dataclass(frozen=True)
class EventFacts:
    index: int
    type: str
    event_time: datetime
    event_time_zone_offset: str | None
    event_id: str | None
    action: str | None
    biz_step: str | None
    disposition: str | None
    read_point: str | None
    biz_location: str | None
    transformation_id: str | None
    epcs: Mapping[str, tuple[str, ...]]
    quantities: tuple[Quantity, ...]
    sources: tuple[Party, ...]
    destinations: tuple[Party, ...]
    biz_transactions: tuple[BizTransaction, ...]
    sensor_readings: tuple[SensorReading, ...]
    ilmd: Mapping[str, Any] = field(default_factory=dict)

    @property
    def all_epcs(self) -> tuple[str, ...]:
        """Every instance identifier the event touches, in any role, without repeats."""
        return tuple(dict.fromkeys(e for role in EPC_ROLES for e in self.epcs.get(role, ())))

    @property
    def all_classes(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(q.epc_class for q in self.quantities))


def event_list(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The raw events of an EPCISDocument or EPCISQueryDocument, in document order."""
    body = document.get("epcisBody") or {}
    if document.get("type") == "EPCISQueryDocument":
        body = (body.get("queryResults") or {}).get("resultsBody") or {}
    events = body.get("eventList") or []
    return [e for e in events if isinstance(e, dict)]


def facts(document: Mapping[str, Any]) -> list[EventFacts]:
    return [extract(event, i) for i, event in enumerate(event_list(document))]


def parse_time(text: str) -> datetime:
    """An EPCIS timestamp as an aware datetime in UTC."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def extract(event: Mapping[str, Any], index: int = 0) -> EventFacts:
    """The index facts of one event (any of the five types)."""
    epcs: dict[str, tuple[str, ...]] = {}
    for role in EPC_ROLES:
        value = event.get(role)
        if isinstance(value, str):
            epcs[role] = (value,)
        elif isinstance(value, list):
            epcs[role] = tuple(v for v in value if isinstance(v, str))
    return EventFacts(
        index=index,
        type=str(event.get("type")),
        event_time=parse_time(str(event["eventTime"])),
        event_time_zone_offset=event.get("eventTimeZoneOffset"),
        event_id=event.get("eventID"),
        action=event.get("action"),
        biz_step=_short(vocab.BIZ_STEP, event.get("bizStep")),
        disposition=_short(vocab.DISPOSITION, event.get("disposition")),
        read_point=_id_of(event.get("readPoint")),
        biz_location=_id_of(event.get("bizLocation")),
        transformation_id=event.get("transformationID"),
        epcs=epcs,
        quantities=tuple(
            Quantity(role, q["epcClass"], _number(q.get("quantity")), q.get("uom"))
            for role in QUANTITY_ROLES
            for q in _dicts(event.get(role))
            if isinstance(q.get("epcClass"), str)
        ),
        sources=_parties(event.get("sourceList"), "source"),
        destinations=_parties(event.get("destinationList"), "destination"),
        biz_transactions=tuple(
            BizTransaction(_short(vocab.BIZ_TRANSACTION_TYPE, t.get("type")), t["bizTransaction"])
            for t in _dicts(event.get("bizTransactionList"))
            if isinstance(t.get("bizTransaction"), str)
        ),
        sensor_readings=_readings(event.get("sensorElementList")),
        ilmd=dict(event.get("ilmd") or {}),
    )


def comparable(event: Mapping[str, Any], *, keep_event_id: bool = True) -> dict[str, Any]:
    """An event reduced to what its author said, for comparing a stored copy to the
    captured one: capture-added fields (``recordTime``, a document-level ``@context`` the
    store copied in, and ``eventID`` unless the author gave one) are dropped, CBV values
    take their bare-word spelling and timestamps are expressed in UTC."""
    out: dict[str, Any] = {}
    for key, value in event.items():
        if key in CAPTURE_ADDED or key == "@context" or (key == "eventID" and not keep_event_id):
            continue
        out[key] = value
    for key in ("eventTime",):
        if isinstance(out.get(key), str):
            out[key] = _utc_text(out[key])
    for key, kind in (("bizStep", vocab.BIZ_STEP), ("disposition", vocab.DISPOSITION)):
        if isinstance(out.get(key), str):
            out[key] = vocab.normalise(kind, out[key])
    for key, kind in (
        ("bizTransactionList", vocab.BIZ_TRANSACTION_TYPE),
        ("sourceList", vocab.SOURCE_DEST_TYPE),
        ("destinationList", vocab.SOURCE_DEST_TYPE),
    ):
        if isinstance(out.get(key), list):
            out[key] = [_typed(kind, item) for item in out[key]]
    persistent = out.get("persistentDisposition")
    if isinstance(persistent, dict):
        out["persistentDisposition"] = {
            op: [vocab.normalise(vocab.DISPOSITION, v) for v in values]
            for op, values in persistent.items()
        }
    return out


def same_event(stored: Mapping[str, Any], captured: Mapping[str, Any]) -> bool:
    """Whether a stored event is the captured one, allowing only capture-added fields."""
    keep = "eventID" in captured
    return comparable(stored, keep_event_id=keep) == comparable(captured, keep_event_id=keep)


def _utc_text(text: str) -> str:
    try:
        return parse_time(text).isoformat(timespec="microseconds").replace("+00:00", "Z")
    except ValueError:
        return text


def _typed(kind: vocab.Kind, item: Any) -> Any:
    if isinstance(item, dict) and isinstance(item.get("type"), str):
        return {**item, "type": vocab.normalise(kind, item["type"])}
    return item


def _short(kind: vocab.Kind, value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        return vocab.normalise(kind, value)
    except vocab.VocabularyError:
        return value


def _id_of(value: Any) -> str | None:
    if isinstance(value, dict) and isinstance(value.get("id"), str):
        return str(value["id"])
    return None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _parties(value: Any, key: str) -> tuple[Party, ...]:
    return tuple(
        Party(_short(vocab.SOURCE_DEST_TYPE, p.get("type")) or "", p[key])
        for p in _dicts(value)
        if isinstance(p.get(key), str)
    )


def _measurement(value: str) -> str:
    try:
        return vocab.measurement_word(value) or value
    except vocab.VocabularyError:
        return value


def _readings(value: Any) -> tuple[SensorReading, ...]:
    out: list[SensorReading] = []
    for element in _dicts(value):
        meta = element.get("sensorMetadata")
        meta = meta if isinstance(meta, dict) else {}
        for report in _dicts(element.get("sensorReport")):
            out.append(
                SensorReading(
                    type=_measurement(str(report.get("type", ""))),
                    value=_number(report.get("value")),
                    uom=report.get("uom"),
                    time=report.get("time", meta.get("time")),
                    device_id=report.get("deviceID", meta.get("deviceID")),
                    component=report.get("component"),
                    string_value=report.get("stringValue"),
                    boolean_value=report.get("booleanValue"),
                )
            )
    return tuple(out)
