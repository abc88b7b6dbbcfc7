"""What the EPCIS 2.0 query language filters on beyond the core index (pure).

:mod:`foodtrace.trace.epcis.events` extracts what tracing needs; SimpleEventQuery (EPCIS 2.0
§8.2.7.1) also filters on persistent dispositions, business transactions, the error
declaration, every sensor report attribute, and any extension field an author added, at the
top of the event, nested inside one (``INNER_``), in ``ilmd``, in the error declaration and
in sensor elements. This module flattens an event into those facts so the store can index
them in plain rows and the query stays SQL.

Extension field names are expanded to full IRIs with the prefixes of the event's own
``@context`` (``example:myField`` → ``https://ns.example.com/epcis/myField``), so a query
naming the field by IRI (or by a prefix it declares in ``GS1-Extensions``) finds it whatever
prefix the author chose; the name as written is kept too.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from foodtrace.trace.epcis import vocab
from foodtrace.trace.epcis.events import parse_time

STANDARD_EVENT_FIELDS: Final = frozenset(
    {
        "@context",
        "type",
        "eventTime",
        "eventTimeZoneOffset",
        "recordTime",
        "eventID",
        "errorDeclaration",
        "certificationInfo",
        "epcList",
        "action",
        "bizStep",
        "disposition",
        "persistentDisposition",
        "readPoint",
        "bizLocation",
        "bizTransactionList",
        "sourceList",
        "destinationList",
        "sensorElementList",
        "ilmd",
        "quantityList",
        "parentID",
        "childEPCs",
        "childQuantityList",
        "inputEPCList",
        "inputQuantityList",
        "outputEPCList",
        "outputQuantityList",
        "transformationID",
    }
)
STANDARD_ERROR_FIELDS: Final = frozenset({"declarationTime", "reason", "correctiveEventIDs"})
SENSOR_TEXT_ATTRIBUTES: Final = (
    "deviceID",
    "deviceMetadata",
    "rawData",
    "dataProcessingMethod",
    "bizRules",
    "microorganism",
    "chemicalSubstance",
    "component",
    "stringValue",
    "hexBinaryValue",
    "uriValue",
    "coordinateReferenceSystem",
    "exception",
)
"""Sensor metadata/report attributes matched with ``EQ_{name}`` (report wins over metadata)."""
SENSOR_MEASURES: Final = ("value", "minValue", "maxValue", "meanValue", "sDev", "percValue")
"""Numeric report attributes compared with ``EQ_/GT_/GE_/LT_/LE_{name}[_{uom}]``."""
SENSOR_STANDARD: Final = frozenset(
    {*SENSOR_TEXT_ATTRIBUTES, *SENSOR_MEASURES, "type", "uom", "time", "startTime", "endTime"}
    | {"booleanValue", "percRank"}
)
# Where an extension field sits, as the query parameter families name it.
EVENT, ILMD, ERROR, SENSOR_ELEMENT, SENSOR_METADATA, SENSOR_REPORT = (
    "event",
    "ilmd",
    "error",
    "sensorElement",
    "sensorMetadata",
    "sensorReport",
)


@dataclass(frozen=True)
class FieldFact:
    """One extension field value (or a structure, with no scalar) at ``scope``."""

    scope: str
    inner: bool
    name: str  # the expanded IRI (or the key as written, if its prefix is not declared)
    key: str  # as written in the event
    text: str | None
    number: float | None
    time: datetime | None


@dataclass(frozen=True)
class SensorFact:
    """One sensor report with its element's metadata folded in (report values win)."""

    element: int
    type: str | None
    uom: str | None
    texts: Mapping[str, str]
    measures: Mapping[str, float]
    boolean_value: bool | None
    perc_rank: float | None
    time: datetime | None
    start_time: datetime | None
    end_time: datetime | None


@dataclass(frozen=True)
class QueryFacts:
    transformation_id: str | None
    error_declaration_time: datetime | None
    error_reason: str | None
    corrective_event_ids: tuple[str, ...]
    persistent: tuple[tuple[str, str], ...]  # (set|unset, disposition word)
    biz_transactions: tuple[tuple[str, str], ...]  # (type word or "", id)
    fields: tuple[FieldFact, ...]
    sensor_reports: tuple[SensorFact, ...]


def prefixes(event: Mapping[str, Any]) -> dict[str, str]:
    """The namespace prefixes the event's ``@context`` declares."""
    context = event.get("@context")
    out: dict[str, str] = {}
    for item in context if isinstance(context, list) else [context]:
        if isinstance(item, dict):
            out.update({k: v for k, v in item.items() if isinstance(v, str)})
    return out


def expand(key: str, declared: Mapping[str, str]) -> str:
    """``prefix:local`` as a full IRI when ``prefix`` is declared, else ``key`` unchanged."""
    prefix, sep, local = key.partition(":")
    if sep and not local.startswith("//") and prefix in declared:
        return declared[prefix] + local
    return key


def extract(event: Mapping[str, Any]) -> QueryFacts:
    declared = prefixes(event)
    error = event.get("errorDeclaration")
    error = error if isinstance(error, dict) else {}
    fields = [
        *_fields(EVENT, _extensions(event, STANDARD_EVENT_FIELDS), declared),
        *_fields(ILMD, _dict(event.get("ilmd")), declared),
        *_fields(ERROR, _extensions(error, STANDARD_ERROR_FIELDS), declared),
    ]
    reports: list[SensorFact] = []
    for i, element in enumerate(_dicts(event.get("sensorElementList"))):
        meta = _dict(element.get("sensorMetadata"))
        others = {k: v for k, v in element.items() if k not in ("sensorMetadata", "sensorReport")}
        fields.extend(_fields(SENSOR_ELEMENT, others, declared))
        fields.extend(_fields(SENSOR_METADATA, _extensions(meta, SENSOR_STANDARD), declared))
        for report in _dicts(element.get("sensorReport")):
            fields.extend(_fields(SENSOR_REPORT, _extensions(report, SENSOR_STANDARD), declared))
            reports.append(_sensor(i, meta, report))
    persistent = _dict(event.get("persistentDisposition"))
    corrective = error.get("correctiveEventIDs")
    return QueryFacts(
        transformation_id=_str(event.get("transformationID")),
        error_declaration_time=_time(error.get("declarationTime")),
        error_reason=_word(vocab.ERROR_REASON, error.get("reason")),
        corrective_event_ids=tuple(c for c in corrective if isinstance(c, str))
        if isinstance(corrective, list)
        else (),
        persistent=tuple(
            (op, vocab_word)
            for op in ("set", "unset")
            for value in (persistent.get(op) or [])
            if isinstance(value, str) and (vocab_word := _word(vocab.DISPOSITION, value))
        ),
        biz_transactions=tuple(
            (_word(vocab.BIZ_TRANSACTION_TYPE, t.get("type")) or "", t["bizTransaction"])
            for t in _dicts(event.get("bizTransactionList"))
            if isinstance(t.get("bizTransaction"), str)
        ),
        fields=tuple(fields),
        sensor_reports=tuple(reports),
    )


def measurement_type(value: str) -> str:
    """The one spelling a sensor report type is indexed and queried by."""
    try:
        return vocab.measurement_word(value) or value
    except vocab.VocabularyError:
        return value


def _sensor(element: int, meta: Mapping[str, Any], report: Mapping[str, Any]) -> SensorFact:
    merged = {**meta, **report}
    kind = report.get("type")
    return SensorFact(
        element=element,
        type=measurement_type(kind) if isinstance(kind, str) else None,
        uom=_str(report.get("uom")),
        texts={k: str(merged[k]) for k in SENSOR_TEXT_ATTRIBUTES if _scalar(merged.get(k))},
        measures={k: float(report[k]) for k in SENSOR_MEASURES if _is_number(report.get(k))},
        boolean_value=report["booleanValue"]
        if isinstance(report.get("booleanValue"), bool)
        else None,
        perc_rank=float(report["percRank"]) if _is_number(report.get("percRank")) else None,
        time=_time(merged.get("time")),
        start_time=_time(meta.get("startTime")),
        end_time=_time(meta.get("endTime")),
    )


def _fields(
    scope: str, values: Mapping[str, Any], declared: Mapping[str, str]
) -> Iterator[FieldFact]:
    for key, value in values.items():
        yield from _walk(scope, False, key, value, declared)


def _walk(
    scope: str, inner: bool, key: str, value: Any, declared: Mapping[str, str]
) -> Iterator[FieldFact]:
    name = expand(key, declared)
    items = value if isinstance(value, list) else [value]
    for item in items:
        if isinstance(item, dict):
            yield FieldFact(scope, inner, name, key, None, None, None)
            for k, v in item.items():
                if not k.startswith("@"):
                    yield from _walk(scope, True, k, v, declared)
        elif _scalar(item):
            text = str(item).lower() if isinstance(item, bool) else str(item)
            number = float(item) if _is_number(item) else _number_text(item)
            yield FieldFact(scope, inner, name, key, text, number, _time(item))


def _extensions(values: Mapping[str, Any], standard: frozenset[str]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if k not in standard and not k.startswith("@")}


def _scalar(value: Any) -> bool:
    return isinstance(value, str | int | float | bool) and value is not None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _number_text(value: Any) -> float | None:
    if not isinstance(value, str):
        return None
    try:
        return float(value)
    except ValueError:
        return None


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str) or "T" not in value:
        return None
    try:
        parsed = parse_time(value)
    except ValueError:
        return None
    return parsed if datetime.fromisoformat(value.replace("Z", "+00:00")).tzinfo else None


def _word(kind: vocab.Kind, value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        return vocab.normalise(kind, value)
    except vocab.VocabularyError:
        return value


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []
