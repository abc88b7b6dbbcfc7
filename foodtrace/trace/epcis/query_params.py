"""EPCIS 2.0 SimpleEventQuery parameters (§8.2.7.1) parsed into plain filters (pure).

Every parameter of the query language is recognised here and its value checked; anything
else is refused by name, so a misspelt or unsupported filter can never be silently ignored
(which would answer with every event). Values within one parameter are alternatives
(repeated parameters or ``a|b``, as the REST binding writes lists); parameters combine with
AND. CBV values take their bare-word spelling, identifiers their canonical Digital Link, so a
filter matches whatever spelling the author captured.

Extension fields are named ``prefix:localName`` (the prefix declared in the request's
``GS1-Extensions`` header, or else matched as the author wrote it) or by full IRI.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Final, Literal

from foodtrace.trace.epcis import gs1keys, query_facts, vocab
from foodtrace.trace.epcis.query_filters import (
    BizTransactionIn,
    ColumnIn,
    EpcMatch,
    EpcPattern,
    ErrorDeclared,
    FieldExists,
    FieldMatch,
    Filter,
    ParsedQuery,
    PartyIn,
    PersistentIn,
    QuantityBound,
    SensorBoolean,
    SensorBound,
    SensorIn,
    TimeBound,
)

SEPARATOR: Final = "|"
EVENT_TYPES: Final = (
    "ObjectEvent",
    "AggregationEvent",
    "TransactionEvent",
    "TransformationEvent",
    "AssociationEvent",
)
ACTIONS: Final = ("ADD", "OBSERVE", "DELETE")
ORDER_FIELDS: Final = {"eventTime": "event_time", "recordTime": "record_time"}
EPC_ROLES: Final = {
    "MATCH_epc": ("epcList", "childEPCs"),
    "MATCH_parentID": ("parentID",),
    "MATCH_inputEPC": ("inputEPCList",),
    "MATCH_outputEPC": ("outputEPCList",),
    "MATCH_anyEPC": ("epcList", "childEPCs", "parentID", "inputEPCList", "outputEPCList"),
}
CLASS_ROLES: Final = {
    "MATCH_epcClass": ("quantityList", "childQuantityList"),
    "MATCH_inputEPCClass": ("inputQuantityList",),
    "MATCH_outputEPCClass": ("outputQuantityList",),
    "MATCH_anyEPCClass": (
        "quantityList",
        "childQuantityList",
        "inputQuantityList",
        "outputQuantityList",
    ),
}
COLUMNS: Final = {
    "eventType": "type",
    "EQ_action": "action",
    "EQ_bizStep": "biz_step",
    "EQ_disposition": "disposition",
    "EQ_readPoint": "read_point",
    "WD_readPoint": "read_point",
    "EQ_bizLocation": "biz_location",
    "WD_bizLocation": "biz_location",
    "EQ_transformationID": "transformation_id",
    "EQ_eventID": "event_id",
    "EQ_errorReason": "error_reason",
    "EQ_correctiveEventID": "corrective_event_id",
}
"""Parameters matching one stored value against alternatives. ``WD_`` (with descendants)
matches the location itself: descendants come from master data, which is not indexed here."""
TIMES: Final = {
    "GE_eventTime": ("event_time", "GE"),
    "LT_eventTime": ("event_time", "LT"),
    "GE_recordTime": ("record_time", "GE"),
    "LT_recordTime": ("record_time", "LT"),
    "GE_errorDeclarationTime": ("error_declaration_time", "GE"),
    "LT_errorDeclarationTime": ("error_declaration_time", "LT"),
    "GE_time": ("time", "GE"),
    "LT_time": ("time", "LT"),
    "GE_startTime": ("start_time", "GE"),
    "LT_startTime": ("start_time", "LT"),
    "GE_endTime": ("end_time", "GE"),
    "LT_endTime": ("end_time", "LT"),
}
SENSOR_TIME_COLUMNS: Final = frozenset({"time", "start_time", "end_time"})
SCOPES: Final = {
    "": query_facts.EVENT,
    "ILMD_": query_facts.ILMD,
    "ERROR_DECLARATION_": query_facts.ERROR,
    "SENSORELEMENT_": query_facts.SENSOR_ELEMENT,
    "SENSORMETADATA_": query_facts.SENSOR_METADATA,
    "SENSORREPORT_": query_facts.SENSOR_REPORT,
}
_MEASURE_RE: Final = re.compile(
    r"^(EQ|GT|GE|LT|LE)_(value|minValue|maxValue|meanValue|sDev|percValue|percRank)"
    r"(?:_([A-Za-z0-9]{1,8}))?$"
)
_FIELD_RE: Final = re.compile(
    r"^(EQ|GT|GE|LT|LE|EXISTS)_(INNER_)?"
    r"(ILMD_|ERROR_DECLARATION_|SENSORELEMENT_|SENSORMETADATA_|SENSORREPORT_)?(.+)$"
)
_SINGLE: Final = frozenset(
    {*TIMES, "orderBy", "orderDirection", "eventCountLimit", "maxEventCount", "EQ_booleanValue"}
    | {f"{op}_quantity" for op in ("EQ", "GT", "GE", "LT", "LE")}
)


class QueryParamError(ValueError):
    """Parameters that are unknown or have bad values: ``problems`` is (name, detail)."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{n}: {d}" for n, d in problems))


def split_values(values: Iterable[str]) -> tuple[str, ...]:
    """Repeated parameters and ``a|b`` alternatives, in order, without blanks or repeats."""
    out = [v.strip() for value in values for v in value.split(SEPARATOR)]
    return tuple(dict.fromkeys(v for v in out if v))


def parse_extensions(header: str | None) -> dict[str, str]:
    """``GS1-Extensions: example=https://ns.example.com/epcis/, ex2=…`` as a prefix map."""
    out: dict[str, str] = {}
    for item in (header or "").split(","):
        prefix, sep, iri = item.strip().partition("=")
        if sep and prefix.strip() and iri.strip():
            out[prefix.strip()] = iri.strip().strip('"')
    return out


def parse(
    pairs: Iterable[tuple[str, str]], extensions: Mapping[str, str] | None = None
) -> ParsedQuery:
    """The filters ``pairs`` (query-string order) ask for; raises :class:`QueryParamError`
    naming every unknown parameter and bad value."""
    grouped: dict[str, list[str]] = {}
    for name, value in pairs:
        grouped.setdefault(name, []).append(value)
    parser = _Parser(extensions or {})
    for name, raw in grouped.items():
        parser.add(name, raw)
    if parser.problems:
        raise QueryParamError(parser.problems)
    text = json.dumps(sorted((n, split_values(v)) for n, v in grouped.items()))
    return ParsedQuery(
        filters=tuple(parser.filters),
        order_by=parser.order_by,
        descending=parser.descending,
        event_count_limit=parser.event_count_limit,
        max_event_count=parser.max_event_count,
        fingerprint=hashlib.sha256(text.encode()).hexdigest()[:16],
    )


COMPANY_PREFIX_AI: Final = {
    "sgtin": "01/_",  # indicator digit, then the company prefix
    "lgtin": "01/_",
    "sscc": "00/_",  # extension digit
    "sgln": "414/",
    "grai": "8003/0",
    "giai": "8004/",
}


def epc_pattern(value: str) -> EpcPattern:
    """How an identifier or GS1 ``idpat`` pattern (EPC Tag Data Standard §8) matches
    canonical ids: ``urn:epc:idpat:sgtin:4012345.012345.*`` every serial and lot of one
    GTIN, ``urn:epc:idpat:sgtin:4012345.*.*`` everything of one company prefix."""
    if value.startswith("urn:epc:idpat:"):
        scheme, _, rest = value[len("urn:epc:idpat:") :].partition(":")
        parts = rest.split(".")
        fixed = [p for p in parts if p != "*"]
        if parts[: len(fixed)] != fixed or not fixed:
            raise ValueError(f"expected a pattern whose wildcards come last, got {value!r}")
        if len(fixed) == 1 and scheme in COMPANY_PREFIX_AI and fixed[0].isdigit():
            ai = COMPANY_PREFIX_AI[scheme]
            return EpcPattern("like", f"{gs1keys.CANONICAL_HOST}/{ai}{fixed[0]}%")
        if scheme in ("sgtin", "lgtin") and len(parts) == 3:
            return EpcPattern("prefix", gs1keys.canonical(f"urn:epc:idpat:sgtin:{rest}"))
        if len(fixed) == len(parts) - 1:
            example = gs1keys.canonical(f"urn:epc:id:{scheme}:{'.'.join(fixed)}.0")
            if scheme == "sgln":
                return EpcPattern("prefix", example)
            if example.startswith(gs1keys.CANONICAL_HOST) and example.endswith("0"):
                return EpcPattern("like", example[:-1] + "%")
        raise ValueError(f"expected an EPC pattern of a GS1 key indexed here, got {value!r}")
    if value.endswith("*"):
        return EpcPattern("prefix", gs1keys.canonical(value.rstrip("*").rstrip("./")))
    return EpcPattern("exact", gs1keys.canonical(value))


class _Parser:
    def __init__(self, extensions: Mapping[str, str]) -> None:
        self.extensions = extensions
        self.filters: list[Filter] = []
        self.problems: list[tuple[str, str]] = []
        self.order_by = "event_time"
        self.descending = False
        self.direction: bool | None = None
        self.ordered = False
        self.event_count_limit: int | None = None
        self.max_event_count: int | None = None

    def fail(self, name: str, detail: str) -> None:
        self.problems.append((name, detail))

    def add(self, name: str, raw: list[str]) -> None:
        values = split_values(raw)
        if name in _SINGLE and len(values) > 1:
            return self.fail(name, f"expected one value, got {len(values)}")
        if not values and not name.startswith("EXISTS_"):
            return self.fail(name, "expected a value")
        try:
            self._dispatch(name, values)
        except ValueError as exc:
            self.fail(name, str(exc))
        return None

    def _dispatch(self, name: str, values: tuple[str, ...]) -> None:
        if name in COLUMNS:
            self.filters.append(ColumnIn(COLUMNS[name], self._column_values(name, values)))
        elif name in TIMES:
            column, op = TIMES[name]
            bound = TimeBound(column, op, parse_time(values[0]))  # type: ignore[arg-type]
            if column in SENSOR_TIME_COLUMNS:
                self.filters.append(SensorBound(column, bound.op, bound.at))
            else:
                self.filters.append(bound)
        elif name in EPC_ROLES or name in CLASS_ROLES:
            roles = EPC_ROLES.get(name) or CLASS_ROLES[name]
            patterns = tuple(epc_pattern(v) for v in values)
            self.filters.append(EpcMatch(roles, name in CLASS_ROLES, patterns))
        elif name.endswith("_quantity") and name[:2] in ("EQ", "GT", "GE", "LT", "LE"):
            self.filters.append(QuantityBound(name[:2], parse_number(values[0])))  # type: ignore[arg-type]
        elif name in ("EQ_persistentDisposition_set", "EQ_persistentDisposition_unset"):
            which: Literal["set", "unset"] = "set" if name.endswith("_set") else "unset"
            self.filters.append(PersistentIn(which, _cbv(vocab.DISPOSITION, values)))
        elif name == "EXISTS_errorDeclaration":
            self.filters.append(ErrorDeclared(parse_flag(values)))
        elif name.startswith("EQ_bizTransaction_"):
            kind = _cbv(vocab.BIZ_TRANSACTION_TYPE, (name[len("EQ_bizTransaction_") :],))[0]
            self.filters.append(BizTransactionIn(kind, values))
        elif name.startswith(("EQ_source_", "EQ_destination_")):
            direction, _, kind = name[3:].partition("_")
            word = _cbv(vocab.SOURCE_DEST_TYPE, (kind,))[0]
            self.filters.append(PartyIn(direction, word, values))  # type: ignore[arg-type]
        elif name == "EQ_type":
            types = tuple(query_facts.measurement_type(v) for v in values)
            self.filters.append(SensorIn("type", types))
        elif name.startswith("EQ_") and name[3:] in query_facts.SENSOR_TEXT_ATTRIBUTES:
            self.filters.append(SensorIn(name[3:], values))
        elif name == "EQ_booleanValue":
            self.filters.append(SensorBoolean(parse_bool(values[0])))
        elif match := _MEASURE_RE.match(name):
            op, measure, uom = match.groups()
            if len(values) > 1:
                raise ValueError(f"expected one value, got {len(values)}")
            number = parse_number(values[0])
            self.filters.append(SensorBound(measure, op, number, uom))  # type: ignore[arg-type]
        elif name in ("orderBy", "orderDirection", "eventCountLimit", "maxEventCount"):
            self._control(name, values[0])
        elif name.startswith(("HASATTR_", "EQATTR_")):
            raise ValueError(
                "master data (vocabulary attribute) queries are not supported by this "
                "repository's event query"
            )
        elif (match := _FIELD_RE.match(name)) and _is_field_name(match.group(4)):
            self._field(
                match.group(1), bool(match.group(2)), match.group(3) or "", match.group(4), values
            )
        else:
            raise ValueError(
                "not an EPCIS 2.0 SimpleEventQuery parameter (extension fields are named "
                "prefix:localName or by full IRI, e.g. EQ_example:myField)"
            )

    def _column_values(self, name: str, values: tuple[str, ...]) -> tuple[str, ...]:
        if name == "eventType":
            bad = [v for v in values if v not in EVENT_TYPES]
            if bad:
                raise ValueError(f"expected one of {', '.join(EVENT_TYPES)}, got {bad[0]!r}")
        if name == "EQ_action":
            bad = [v for v in values if v not in ACTIONS]
            if bad:
                raise ValueError(f"expected one of {', '.join(ACTIONS)}, got {bad[0]!r}")
        kind = {
            "EQ_bizStep": vocab.BIZ_STEP,
            "EQ_disposition": vocab.DISPOSITION,
            "EQ_errorReason": vocab.ERROR_REASON,
        }.get(name)
        return _cbv(kind, values) if kind is not None else values

    def _control(self, name: str, value: str) -> None:
        if name == "orderBy":
            if value not in ORDER_FIELDS:
                raise ValueError(f"expected one of {', '.join(ORDER_FIELDS)}, got {value!r}")
            self.order_by = ORDER_FIELDS[value]
            self.ordered = True
            self.descending = True if self.direction is None else self.direction
        elif name == "orderDirection":
            if value not in ("ASC", "DESC"):
                raise ValueError(f"expected ASC or DESC, got {value!r}")
            self.direction = value == "DESC"
            self.descending = self.direction
        else:
            count = parse_count(value)
            if name == "eventCountLimit":
                self.event_count_limit = count
            else:
                self.max_event_count = count

    def _field(self, op: str, inner: bool, scope: str, name: str, values: tuple[str, ...]) -> None:
        iri, by_key = self._field_name(name)
        where = SCOPES[scope]
        if op == "EXISTS":
            self.filters.append(FieldExists(where, inner, iri, by_key))
        elif op == "EQ":
            self.filters.append(FieldMatch(where, inner, iri, by_key, "EQ", values))
        else:
            if len(values) > 1:
                raise ValueError(f"expected one value, got {len(values)}")
            bound = parse_bound(values[0])
            self.filters.append(FieldMatch(where, inner, iri, by_key, op, values, bound))  # type: ignore[arg-type]

    def _field_name(self, name: str) -> tuple[str, bool]:
        if "://" in name or name.startswith("urn:"):
            return name, False
        prefix, _, local = name.partition(":")
        if prefix in self.extensions:
            return self.extensions[prefix] + local, False
        return name, True


def _is_field_name(name: str) -> bool:
    prefix, sep, local = name.partition(":")
    return bool(sep and prefix and local)


def _cbv(kind: vocab.Kind | None, values: Iterable[str]) -> tuple[str, ...]:
    out = []
    for value in values:
        try:
            out.append(vocab.normalise(kind, value) if kind else value)
        except vocab.VocabularyError:
            out.append(value)
    return tuple(out)


def parse_time(text: str) -> datetime:
    """A query timestamp; it must carry a zone so it names one instant."""
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        value = None
    if value is None or value.tzinfo is None:
        raise ValueError(
            f"expected an RFC 3339 date-time with a zone, e.g. 2025-03-01T08:00:00Z, got {text!r}"
        )
    return value.astimezone(UTC)


def parse_number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"expected a number, got {text!r}") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(f"expected a finite number, got {text!r}")
    return value


def parse_bound(text: str) -> float | datetime:
    """A GT_/GE_/LT_/LE_ bound on an extension field: a number or a date-time."""
    try:
        return parse_number(text)
    except ValueError:
        pass
    try:
        return parse_time(text)
    except ValueError:
        raise ValueError(f"expected a number or an RFC 3339 date-time, got {text!r}") from None


def parse_count(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"expected a positive integer, got {text!r}")
    return int(text)


def parse_bool(text: str) -> bool:
    if text not in ("true", "false"):
        raise ValueError(f"expected true or false, got {text!r}")
    return text == "true"


def parse_flag(values: tuple[str, ...]) -> bool:
    """An EXISTS_ parameter: given without a value (or ``true``) it asks for presence."""
    if not values:
        return True
    if len(values) > 1:
        raise ValueError(f"expected at most one value, got {len(values)}")
    return parse_bool(values[0])
