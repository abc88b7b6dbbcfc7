"""The CBV 2.0 "EPCIS Event Hash ID": ``ni:///sha-256;<hex>?ver=CBV2.0``.

The id is the SHA-256 of a *pre-hash string* built from the event's fields in a fixed
order, with every value in one canonical spelling (CBV 2.0 section 8.9; the rules are
numbered as in the GS1 reference implementation's description): timestamps in UTC with
milliseconds, CBV values as GS1 Web URIs, EPC URNs and Digital Links as constrained
canonical Digital Links, CURIEs expanded, numbers without trailing zeros, list items
sorted, and user extensions as ``{namespace}local=value``. Fields a repository adds or
that describe the event rather than state it (eventID, recordTime, errorDeclaration,
certificationInfo) are not hashed, so a stored event keeps the id of the captured one.

Two systems that never talked to each other compute the same id for the same event,
whatever the serialisation, key order, time zone or identifier spelling.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from foodtrace.trace.epcis import gs1keys, vocab
from foodtrace.trace.epcis.events import event_list

VERSION: Final = "CBV2.0"
_ORDER: Final = (
    "eventTime",
    "eventTimeZoneOffset",
    "epcList",
    "parentID",
    "inputEPCList",
    "childEPCs",
    "quantityList",
    "childQuantityList",
    "inputQuantityList",
    "outputEPCList",
    "outputQuantityList",
    "action",
    "transformationID",
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
)
_NOT_HASHED: Final = frozenset(
    {"@context", "type", "eventID", "recordTime", "errorDeclaration", "certificationInfo"}
)
_METADATA_ORDER: Final = (
    "time",
    "startTime",
    "endTime",
    "deviceID",
    "deviceMetadata",
    "rawData",
    "dataProcessingMethod",
    "bizRules",
)
_REPORT_ORDER: Final = (
    "type",
    "exception",
    "deviceID",
    "deviceMetadata",
    "rawData",
    "dataProcessingMethod",
    "time",
    "microorganism",
    "chemicalSubstance",
    "value",
    "component",
    "stringValue",
    "booleanValue",
    "hexBinaryValue",
    "uriValue",
    "minValue",
    "maxValue",
    "meanValue",
    "sDev",
    "percRank",
    "percValue",
    "uom",
    "coordinateReferenceSystem",
)
_COMMENTS: Final = frozenset({"rdfs:comment", "comment"})
"""Annotations for people, not part of what happened: never hashed (as in the reference)."""
_GS1_NAMESPACES: Final = ("https://ref.gs1.org/", "https://gs1.org/")
_TIME_FIELDS: Final = frozenset({"time", "startTime", "endTime", "eventTime"})
_WELL_KNOWN_PREFIXES: Final = {
    "gs1": vocab.GS1_VOC,
    "cbv": vocab.CBV_WEB,
    "epcis": "https://ref.gs1.org/epcis/",
    "cbvmda": "urn:epcglobal:cbv:mda",
}
"""Prefixes known without a document defining them, as the GS1 reference implementation
knows them (``cbvmda`` without a trailing colon, so ``cbvmda:lotNumber`` hashes as
``{urn:epcglobal:cbv:mda}lotNumber``); a document's own ``@context`` overrides all but
``gs1``, which is always the GS1 Web Vocabulary."""
Prefixes = Mapping[str, str]


def event_hash_id(event: Mapping[str, Any], prefixes: Prefixes | None = None) -> str:
    """The ``ni:///sha-256;…?ver=CBV2.0`` id of one event.

    ``prefixes`` maps CURIE prefixes to namespaces (from the enclosing document's
    ``@context``, see :func:`context_prefixes`); the EPCIS context's own are always known.
    """
    digest = hashlib.sha256(pre_hash_string(event, prefixes).encode("utf-8")).hexdigest()
    return f"ni:///sha-256;{digest}?ver={VERSION}"


def document_hash_ids(document: Mapping[str, Any]) -> list[str]:
    """The hash id of every event in an EPCISDocument or EPCISQueryDocument, in order."""
    prefixes = context_prefixes(document.get("@context"))
    return [event_hash_id(event, prefixes) for event in event_list(document)]


def context_prefixes(ctx: Any) -> dict[str, str]:
    """CURIE prefixes a JSON-LD ``@context`` defines (string URLs are the EPCIS context)."""
    found: dict[str, str] = {}
    for item in ctx if isinstance(ctx, list) else [ctx]:
        if isinstance(item, dict):
            found |= {k: v for k, v in item.items() if isinstance(v, str) and not k.startswith("@")}
    return found


def pre_hash_string(event: Mapping[str, Any], prefixes: Prefixes | None = None) -> str:
    """The canonical string that is hashed (exposed so implementations can be compared).

    User extensions go last: first those nested in a standard object (readPoint,
    bizLocation, sensorElement, sensorMetadata, sensorReport), which CBV 2.0 hashes apart
    from the standard fields, under the path of their parents (``readPoint{ns}name=value``)
    and in the order of those fields; then the event's own, sorted. This is what the GS1
    reference implementation does.
    """
    ns = _namespaces(prefixes)
    out = [f"eventType={_text(event.get('type'))}"]
    nested: list[str] = []
    for name in _ORDER:
        if name in event:
            out.append(_field(name, event[name], ns, nested))
    extensions = [
        s
        for key, value in event.items()
        if key not in _ORDER and key not in _NOT_HASHED
        for s in _extension(key, value, ns)
    ]
    out += nested + sorted(extensions)
    return "".join(out)


def _namespaces(prefixes: Prefixes | None) -> dict[str, str]:
    return {**_WELL_KNOWN_PREFIXES, **(prefixes or {}), "gs1": vocab.GS1_VOC}


def _field(name: str, value: Any, ns: dict[str, str], nested: list[str]) -> str:
    """The standard part of one top-level field; nested user extensions go to ``nested``."""
    match name:
        case "eventTime":
            return f"eventTime={timestamp(_text(value))}"
        case "epcList" | "inputEPCList" | "childEPCs" | "outputEPCList":
            return name + "".join(sorted(f"epc={_identifier(v, ns)}" for v in _list(value)))
        case "parentID" | "transformationID":
            return f"{name}={_identifier(value, ns)}"
        case "quantityList" | "childQuantityList" | "inputQuantityList" | "outputQuantityList":
            return name + "".join(sorted(_quantity(q, ns) for q in _list(value)))
        case "bizStep":
            return f"bizStep={_cbv(vocab.BIZ_STEP, value, ns)}"
        case "disposition":
            return f"disposition={_cbv(vocab.DISPOSITION, value, ns)}"
        case "persistentDisposition":
            parts = [
                "".join(sorted(f"{op}={_cbv(vocab.DISPOSITION, v, ns)}" for v in _list(vs)))
                for op in ("set", "unset")
                if (vs := value.get(op))
            ]
            return name + "".join(parts)
        case "readPoint" | "bizLocation":
            standard, extra = _split(value, ("id",), ns)
            if extra:
                nested.append(name + extra)
            return name + standard
        case "bizTransactionList":
            return name + "".join(
                sorted(_typed(t, "bizTransaction", vocab.BIZ_TRANSACTION_TYPE, ns) for t in value)
            )
        case "sourceList" | "destinationList":
            key = name.removesuffix("List")
            return name + "".join(sorted(_typed(t, key, vocab.SOURCE_DEST_TYPE, ns) for t in value))
        case "sensorElementList":
            elements = [_sensor_element(e, ns) for e in _list(value)]
            nested += [f"sensorElement{extra}" for _, extra in elements if extra]
            return "".join(sorted(f"sensorElement{std}" for std, _ in elements if std))
        case "ilmd":
            return "ilmd" + "".join(
                sorted(s for k, v in value.items() for s in _extension(k, v, ns))
            )
        case _:
            return f"{name}={_text(value)}"


def _quantity(element: Mapping[str, Any], ns: dict[str, str]) -> str:
    out = "quantityElement"
    if "epcClass" in element:
        out += f"epcClass={_identifier(element['epcClass'], ns)}"
    if "quantity" in element:
        out += f"quantity={number(element['quantity'])}"
    if "uom" in element:
        out += f"uom={_text(element['uom'])}"
    return out


def _typed(item: Mapping[str, Any], key: str, kind: vocab.Kind, ns: dict[str, str]) -> str:
    typed = f"type={_cbv(kind, item['type'], ns)}" if "type" in item else ""
    return f"{typed}{key}={_identifier(item.get(key), ns)}"


def _sensor_element(element: Mapping[str, Any], ns: dict[str, str]) -> tuple[str, str]:
    """The standard part of one sensor element and, apart, its user extensions (each under
    the name of the object holding it: ``sensorMetadata{ns}x=…``), both without the
    ``sensorElement`` name."""
    standard = ""
    extras = []
    metadata = element.get("sensorMetadata")
    if isinstance(metadata, dict):
        std, extra = _split(metadata, _METADATA_ORDER, ns)
        standard += f"sensorMetadata{std}" if std else ""
        extras += [f"sensorMetadata{extra}"] if extra else []
    reports = [_split(r, _REPORT_ORDER, ns) for r in _list(element.get("sensorReport"))]
    standard += "".join(sorted(f"sensorReport{std}" for std, _ in reports if std))
    extras += [f"sensorReport{extra}" for _, extra in reports if extra]
    rest = {k: v for k, v in element.items() if k not in ("sensorMetadata", "sensorReport")}
    extras += [s for k, v in rest.items() for s in _extension(k, v, ns)]
    return standard, "".join(sorted(extras))


def _split(obj: Mapping[str, Any], order: Iterable[str], ns: dict[str, str]) -> tuple[str, str]:
    """An object's standard fields in ``order`` and, apart, its user extensions, sorted."""
    order = tuple(order)
    standard = "".join(f"{k}={_standard_value(k, obj[k], ns)}" for k in order if k in obj)
    extra = sorted(s for k, v in obj.items() if k not in order for s in _extension(k, v, ns))
    return standard, "".join(extra)


def _standard_value(key: str, value: Any, ns: dict[str, str]) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return number(value)
    text = _text(value)
    if key in _TIME_FIELDS:
        return timestamp(text)
    if key in ("type", "exception"):
        return _measurement(text, ns)
    if key == "component":
        return _component(text, ns)
    if key in ("uom", "stringValue", "hexBinaryValue"):
        return text
    return _identifier(text, ns)


def _extension(key: str, value: Any, ns: dict[str, str]) -> list[str]:
    """``{namespace}local=value`` strings of one user extension (rules 19-21); nested
    objects are the parent name followed by their children, sorted."""
    if key in _COMMENTS:
        return []
    name = _expanded_name(key, ns)
    if isinstance(value, list):
        return [s for item in value for s in _extension(key, item, ns)]
    if isinstance(value, dict):
        if "#text" in value:
            return [f"{name}={_extension_value(key, value['#text'], ns)}"]
        children = sorted(
            s for k, v in value.items() if not k.startswith("@") for s in _extension(k, v, ns)
        )
        return [name + "".join(children)]
    return [f"{name}={_extension_value(key, value, ns)}"]


def _expanded_name(key: str, ns: dict[str, str]) -> str:
    if "://" in key:
        cut = max(key.rfind("/"), key.rfind("#")) + 1
        return "{" + key[:cut] + "}" + key[cut:]
    prefix, sep, local = key.partition(":")
    if sep and prefix in ns:
        return "{" + ns[prefix] + "}" + local
    return key


def _extension_value(key: str, value: Any, ns: dict[str, str]) -> str:
    """A user extension's value: numbers without trailing zeros, GS1 code-list terms and
    ``gs1:``/``cbv:`` CURIEs as Web URIs (user CURIEs stay), EPCIS 1.x CBV URNs as Web URIs,
    and GS1 keys (EPC URNs, Digital Links on any domain) in canonical form."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return number(value)
    text = _text(value)
    try:
        if text and text[0] in "+-0123456789.":
            return number(Decimal(text))
    except InvalidOperation:
        pass
    if (code_list := vocab.code_list_prefix(key.removeprefix("gs1:"))) and ":" not in text:
        return vocab.GS1_VOC + code_list + text
    prefix, sep, local = text.partition(":")
    if sep and ns.get(prefix, "").startswith(_GS1_NAMESPACES) and not local.startswith("//"):
        return ns[prefix] + local
    return gs1keys.canonical(vocab.urn_to_web_uri(text))


def _text(value: Any) -> str:
    return str(value).strip()


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _expand_curie(text: str, ns: dict[str, str]) -> str:
    """A value's CURIE expanded when its namespace is GS1's (``gs1:``, ``cbv:``); a user
    namespace's CURIE in a value stays as written, as the reference leaves it."""
    prefix, sep, local = text.partition(":")
    if (
        sep
        and not local.startswith("//")
        and prefix in ns
        and prefix not in ("urn", "http", "https")
        and ns[prefix].startswith(_GS1_NAMESPACES)
    ):
        return ns[prefix] + local
    return text


def _identifier(value: Any, ns: dict[str, str]) -> str:
    return gs1keys.canonical(_expand_curie(_text(value), ns))


def _cbv(kind: vocab.Kind, value: Any, ns: dict[str, str]) -> str:
    return vocab.web_uri(kind, _expand_curie(_text(value), ns))


def _measurement(text: str, ns: dict[str, str]) -> str:
    try:
        word = vocab.measurement_word(text)
    except vocab.VocabularyError:
        word = None
    if word is None and text in vocab.SENSOR_ALERT_TYPES:
        word = text
    return vocab.GS1_VOC + word if word else _expand_curie(text, ns)


def _component(text: str, ns: dict[str, str]) -> str:
    if ":" not in text:
        return f"{vocab.CBV_WEB}Comp-{text}"
    return _expand_curie(text, ns)


def number(value: int | float | Decimal) -> str:
    """A number without trailing zeros or exponent: 1.0 → ``1``, 0.3430 → ``0.343``."""
    if isinstance(value, Decimal):
        d = value
    elif isinstance(value, float):
        d = Decimal(repr(value))
    else:
        return str(int(value))
    text = format(d.normalize(), "f")
    return "0" if text in ("-0", "0") else text


def timestamp(text: str) -> str:
    """An xsd:dateTimeStamp in UTC with milliseconds (``…T10:00:30.000Z``); a 4th
    fractional digit of 5-9 rounds the milliseconds up."""
    base, frac, zone = _split_time(text)
    when = datetime.fromisoformat(base + zone).astimezone(UTC)
    digits = (frac + "0000")[:4]
    millis = int(digits[:3]) + (1 if int(digits[3]) >= 5 else 0)
    when = when + timedelta(milliseconds=millis)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def _split_time(text: str) -> tuple[str, str, str]:
    text = text.strip().replace("z", "Z")
    zone = "+00:00"
    if text.endswith("Z"):
        text = text[:-1]
    elif len(text) > 6 and text[-6] in "+-" and text[-3] == ":":
        text, zone = text[:-6], text[-6:]
    base, _, frac = text.partition(".")
    return base, frac, zone
