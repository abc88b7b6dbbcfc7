"""EPCIS master data: vocabulary elements read from, and written as, ``epcisMasterData``.

An EPCIS 2.0 document may carry master data in ``epcisHeader.epcisMasterData.vocabularyList``:
vocabularies (``urn:epcglobal:epcis:vtype:BusinessLocation``, ``ReadPoint``, ``EPCClass``,
``Party``) of elements, each an ``id`` with ``attributes`` (``{"id": attribute URI,
"attribute": value}``). Attribute URIs come in several spellings: the CBV master data
attributes (``urn:epcglobal:cbv:mda#name``, ``urn:epcglobal:cbv:mda:city``, the ``cbvmda:``
CURIE) and the GS1 Web Vocabulary terms CBV 2.0 points to (``gs1:physicalLocationName``,
``gs1:addressLocality``…). They are reduced here to one set of names per kind, so an element
means the same whichever spelling its author used; attributes we have no name for are kept
apart under their URI. Pure: no database, no HTTP.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from foodtrace.trace.epcis import gs1keys

LOCATION: Final = "location"
PRODUCT: Final = "product"
PARTY: Final = "party"
KINDS: Final = (LOCATION, PRODUCT, PARTY)

VTYPE_PREFIX: Final = "urn:epcglobal:epcis:vtype:"
VTYPES: Final = {
    "BusinessLocation": LOCATION,
    "ReadPoint": LOCATION,
    "EPCClass": PRODUCT,
    "Party": PARTY,
}
"""Vocabulary types we keep, by their name after ``urn:epcglobal:epcis:vtype:``."""
KIND_VTYPE: Final = {LOCATION: "BusinessLocation", PRODUCT: "EPCClass", PARTY: "Party"}
KEY_PATH: Final = {LOCATION: "/414/", PRODUCT: "/01/", PARTY: "/417/"}
"""The GS1 key an element of each kind is named by (GLN or SGLN, GTIN, party GLN)."""

MDA: Final = "urn:epcglobal:cbv:mda#"
_MDA_SPELLINGS: Final = ("urn:epcglobal:cbv:mda#", "urn:epcglobal:cbv:mda:", "cbvmda:")
_GS1_VOC_SPELLINGS: Final = (
    "gs1:",
    "https://ref.gs1.org/voc/",
    "https://gs1.org/voc/",
    "http://gs1.org/voc/",
    "https://www.gs1.org/voc/",
)
_ADDRESS: Final = {
    "name": "name",
    "streetAddressOne": "streetAddressOne",
    "streetAddressTwo": "streetAddressTwo",
    "streetAddressThree": "streetAddressThree",
    "city": "city",
    "state": "state",
    "postalCode": "postalCode",
    "countryCode": "countryCode",
    "latitude": "latitude",
    "longitude": "longitude",
}
MDA_NAMES: Final[dict[str, dict[str, str]]] = {
    LOCATION: _ADDRESS,
    PARTY: _ADDRESS,
    PRODUCT: {
        "name": "name",
        "regulatedProductName": "name",
        "descriptionShort": "name",
        "functionalName": "category",
        "netContentDescription": "specification",
    },
}
"""Per kind, CBV master data attribute (local name) → our attribute name."""
WEB_VOC_NAMES: Final[dict[str, dict[str, str]]] = {
    LOCATION: {
        "physicalLocationName": "name",
        "streetAddress": "streetAddressOne",
        "addressLocality": "city",
        "addressRegion": "state",
        "postalCode": "postalCode",
        "addressCountry": "countryCode",
        "latitude": "latitude",
        "longitude": "longitude",
    },
    PARTY: {
        "organizationName": "name",
        "streetAddress": "streetAddressOne",
        "addressLocality": "city",
        "addressRegion": "state",
        "postalCode": "postalCode",
        "addressCountry": "countryCode",
    },
    PRODUCT: {
        "productName": "name",
        "productDescription": "name",
        "gpcCategoryDescription": "category",
        "netContent": "specification",
    },
}
"""Per kind, GS1 Web Vocabulary term → our attribute name."""
NUMERIC: Final = frozenset({"latitude", "longitude"})


@dataclass(frozen=True)
class Issue:
    """Why part of the master data cannot be kept, at a JSON pointer into the document."""

    pointer: str
    message: str


@dataclass(frozen=True)
class Element:
    """One vocabulary element, normalised: where it was, its kind, canonical id, attributes."""

    pointer: str
    kind: str
    id: str
    attributes: dict[str, Any]
    other: dict[str, Any] = field(default_factory=dict)
    children: list[str] = field(default_factory=list)

    def body(self) -> dict[str, Any]:
        """The body of the ``masterdata.<kind>`` entry that records this element."""
        out: dict[str, Any] = {"id": self.id, "attributes": self.attributes}
        if self.other:
            out["other"] = self.other
        if self.children:
            out["children"] = self.children
        return out


def canonical_id(kind: str, identifier: str) -> str | None:
    """The constrained canonical Digital Link naming an element of ``kind`` (a GLN or SGLN
    for a location, a GTIN for a product, a party GLN for a party), or ``None``."""
    text = identifier.strip()
    if text.isdigit():
        digits = text.zfill(14) if kind == PRODUCT else text
        text = f"{gs1keys.CANONICAL_HOST}{KEY_PATH[kind]}{digits}"
    found = gs1keys.epc_to_digital_link(text) or gs1keys.constrain_digital_link(text)
    if found is None or not found.startswith(gs1keys.CANONICAL_HOST + KEY_PATH[kind]):
        return None
    if kind == PRODUCT:
        found = found.split("/21/")[0].split("/10/")[0].split("/235/")[0]
    key = key_digits(found)
    return found if gs1keys.check_digit(key[:-1]) == key[-1] else None


def key_digits(element_id: str) -> str:
    """The bare GS1 key of a canonical element id: the GLN of ``…/414/GLN/254/x``, the
    GTIN of ``…/01/GTIN``."""
    return element_id[len(gs1keys.CANONICAL_HOST) :].split("/")[2]


def attribute_name(kind: str, attribute_id: str) -> str | None:
    """Our name for an attribute URI of an element of ``kind``, or ``None`` if unknown."""
    for prefix in _MDA_SPELLINGS:
        if attribute_id.startswith(prefix):
            return MDA_NAMES[kind].get(attribute_id[len(prefix) :])
    for prefix in _GS1_VOC_SPELLINGS:
        if attribute_id.startswith(prefix):
            return WEB_VOC_NAMES[kind].get(attribute_id[len(prefix) :])
    return None


def kind_of(vocabulary_type: str) -> str | None:
    """The kind of element a vocabulary type holds, or ``None`` for one we do not keep."""
    name = vocabulary_type.removeprefix(VTYPE_PREFIX)
    return VTYPES.get(name) if vocabulary_type.startswith(VTYPE_PREFIX) else None


def header_elements(document: Mapping[str, Any]) -> tuple[list[Element], list[Issue]]:
    """Every element of the document's ``epcisHeader.epcisMasterData``, normalised, and
    every reason one cannot be kept (an unknown vocabulary type, an id that is not the
    right GS1 key, an attribute value that is no text or number)."""
    header = document.get("epcisHeader")
    master = header.get("epcisMasterData") if isinstance(header, dict) else None
    vocabularies = master.get("vocabularyList") if isinstance(master, dict) else None
    if not isinstance(vocabularies, list):
        return [], []
    base = "/epcisHeader/epcisMasterData/vocabularyList"
    elements: list[Element] = []
    issues: list[Issue] = []
    for i, vocabulary in _dicts(vocabularies):
        kind = kind_of(str(vocabulary.get("type", "")))
        if kind is None:
            known = ", ".join(VTYPE_PREFIX + v for v in VTYPES)
            issues.append(
                Issue(
                    f"{base}/{i}/type",
                    f"vocabulary type {vocabulary.get('type')!r} is not kept here; "
                    f"expected one of {known}",
                )
            )
            continue
        for j, item in _dicts(vocabulary.get("vocabularyElementList") or []):
            found, problems = _element(f"{base}/{i}/vocabularyElementList/{j}", kind, item)
            issues += problems
            if found is not None:
                elements.append(found)
    return elements, issues


def _element(at: str, kind: str, item: Mapping[str, Any]) -> tuple[Element | None, list[Issue]]:
    element_id = canonical_id(kind, str(item.get("id", "")))
    issues = []
    if element_id is None:
        what = {LOCATION: "a GLN or SGLN", PRODUCT: "a GTIN", PARTY: "a party GLN"}[kind]
        got = item.get("id")
        issues.append(Issue(f"{at}/id", f"expected {what} (EPC URN or Digital Link), got {got!r}"))
    attributes: dict[str, Any] = {}
    other: dict[str, Any] = {}
    for k, attribute in _dicts(item.get("attributes") or []):
        uri = str(attribute.get("id", ""))
        value = _value(attribute.get("attribute"))
        name = attribute_name(kind, uri)
        if value is None:
            issues.append(Issue(f"{at}/attributes/{k}/attribute", "expected text or a number"))
        elif name in NUMERIC and not isinstance(value, int | float):
            try:
                attributes[name] = float(value)
            except ValueError:
                issues.append(Issue(f"{at}/attributes/{k}/attribute", "expected a number"))
        elif name is not None:
            attributes[name] = value
        else:
            other[uri] = value
    children = [str(c) for c in item.get("children") or []]
    if issues or element_id is None:
        return None, issues
    return Element(at, kind, element_id, attributes, other, children), []


def _value(value: Any) -> str | int | float | bool | None:
    if isinstance(value, dict) and "@value" in value:
        value = value["@value"]
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool | int | float):
        return value
    return None


def _dicts(items: Any) -> Iterator[tuple[int, dict[str, Any]]]:
    for i, item in enumerate(items if isinstance(items, list) else []):
        if isinstance(item, dict):
            yield i, item


def vocabulary_list(elements: list[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    """``epcisMasterData.vocabularyList`` for ``(kind, entry body)`` pairs: the inverse of
    :func:`header_elements`, with attributes spelled as CBV master data URIs
    (``urn:epcglobal:cbv:mda#name``) and unknown ones under their own URI."""
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for kind, body in elements:
        names = _inverse(kind)
        attributes = [
            {"id": MDA + names[k], "attribute": v} for k, v in body.get("attributes", {}).items()
        ] + [{"id": k, "attribute": v} for k, v in body.get("other", {}).items()]
        element: dict[str, Any] = {"id": body["id"], "attributes": attributes}
        if body.get("children"):
            element["children"] = body["children"]
        by_kind.setdefault(kind, []).append(element)
    return [
        {"type": VTYPE_PREFIX + KIND_VTYPE[kind], "vocabularyElementList": by_kind[kind]}
        for kind in KINDS
        if kind in by_kind
    ]


def _inverse(kind: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for mda, ours in MDA_NAMES[kind].items():
        out.setdefault(ours, mda)
    return out
