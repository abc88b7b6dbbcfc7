"""Recording master data and reading it back: sites, products and parties by their GS1 keys.

Who may describe what: a regulator anything; any other party only what is registered to it:
sites and party records of its own GLN (``parties.gln``), products whose GTIN it registered
(``products.producer``). The projector enforces it, so a client-signed entry cannot get
around it, and a document's header is checked the same way before anything is signed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from foodtrace.api.problems import FieldProblem, Problem, problem_type
from foodtrace.auth.models import Role
from foodtrace.masterdata.models import MasterDataElement
from foodtrace.masterdata.schemas import BODIES, ElementOut
from foodtrace.party.models import Party
from foodtrace.product.models import Product
from foodtrace.record import registry
from foodtrace.record.service import body_problems
from foodtrace.resolver.display import Fact, fact
from foodtrace.store.keyset import pair_after
from foodtrace.trace.entry import Entry
from foodtrace.trace.epcis import gs1keys, masterdata

ENTRY_TYPES: Final = {kind: f"masterdata.{kind}" for kind in masterdata.KINDS}
WRITER_ROLES: Final = frozenset({Role.PRODUCER, Role.REGULATOR})


def refusal(session: Session, author: str, kind: str, element_id: str) -> str | None:
    """Why ``author`` may not describe this element, or ``None`` if it may."""
    party = session.get(Party, author)
    if party is None:
        return f"the author {author} is not a registered party"
    if party.kind == "regulator":
        return None
    key = masterdata.key_digits(element_id)
    if kind == masterdata.PRODUCT:
        product = session.get(Product, key)
        if product is not None and product.producer == author:
            return None
        owner = f"registered by {product.producer}" if product else "not a registered product"
        return f"a party may describe only the products it registered; GTIN {key} is {owner}"
    if party.gln == key:
        return None
    return (
        f"a party may describe only its own sites and itself; GLN {key} is not {author}'s"
        f" (its GLN is {party.gln or 'not registered'})"
    )


def project_element(session: Session, index: int, entry: Entry) -> None:
    """Keep the latest description of an element; refuse one its author may not give."""
    kind = entry.type.removeprefix("masterdata.")
    body = BODIES[kind].model_validate(entry.body).model_dump(mode="json", exclude_none=True)
    reason = refusal(session, entry.author, kind, body["id"])
    if reason is not None:
        raise registry.ProjectionError(403, [("id", reason)])
    attributes = body["attributes"]
    street = " ".join(
        attributes[k]
        for k in ("streetAddressOne", "streetAddressTwo", "streetAddressThree")
        if k in attributes
    )
    row = session.get(MasterDataElement, (kind, body["id"])) or MasterDataElement(
        kind=kind, element_id=body["id"]
    )
    row.key = masterdata.key_digits(body["id"])
    row.name = attributes.get("name")
    row.category = attributes.get("category")
    row.specification = attributes.get("specification")
    row.street = street or None
    row.city = attributes.get("city")
    row.country_code = attributes.get("countryCode")
    row.latitude = attributes.get("latitude")
    row.longitude = attributes.get("longitude")
    row.body = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    row.author = entry.author
    row.entry_index = index
    session.add(row)
    session.flush()


for _kind, _type in ENTRY_TYPES.items():
    registry.register_type(_type, roles=WRITER_ROLES, project=project_element, body=BODIES[_kind])


# --- a document's header -------------------------------------------------------------------


def header_problems(document: Mapping[str, Any]) -> list[FieldProblem]:
    """Every reason the master data in a document's header cannot be recorded (pure)."""
    elements, issues = masterdata.header_elements(document)
    found = [FieldProblem(i.pointer, i.message) for i in issues]
    for e in elements:
        found += [
            FieldProblem(e.pointer + p.pointer.removeprefix("/body"), p.detail)
            for p in body_problems(BODIES[e.kind], e.body(), "/body")
        ]
    return found


def header_entries(document: Mapping[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """``(pointer, entry type, body)`` of every element in a document's header, to be
    signed and appended with the document's events (call after :func:`header_problems`)."""
    elements, _ = masterdata.header_elements(document)
    return [(e.pointer, ENTRY_TYPES[e.kind], e.body()) for e in elements]


def header_refusals(
    session: Session, author: str, document: Mapping[str, Any]
) -> list[FieldProblem]:
    """Elements of the header ``author`` may not describe, each at its ``id`` pointer."""
    elements, _ = masterdata.header_elements(document)
    return [
        FieldProblem(e.pointer + "/id", reason)
        for e in elements
        if (reason := refusal(session, author, e.kind, e.id)) is not None
    ]


def forbidden(found: Sequence[FieldProblem]) -> Problem:
    """The 403 answer for a document whose header describes what its sender may not."""
    n = len(found)
    return Problem(
        403,
        "Not allowed to write these entries",
        f"Nothing was captured: {n} master data element{'s' if n != 1 else ''} the party "
        "may not describe",
        problem_type("forbidden-entry"),
        [FieldProblem("/body" + p.pointer, p.detail) for p in found],
    )


# --- reads ---------------------------------------------------------------------------------


def element_out(row: MasterDataElement) -> ElementOut:
    body = json.loads(row.body)
    return ElementOut(
        kind=row.kind,
        id=row.element_id,
        attributes=body.get("attributes", {}),
        other=body.get("other", {}),
        children=body.get("children", []),
        author=row.author,
        entry_index=row.entry_index,
    )


def get_element(session: Session, kind: str, element_id: str) -> ElementOut | None:
    row = session.get(MasterDataElement, (kind, element_id))
    return element_out(row) if row else None


def find(
    session: Session,
    *,
    kinds: Sequence[str] = masterdata.KINDS,
    ids: Sequence[str] = (),
    author: str | None = None,
    after: tuple[str, str] | None = None,
    limit: int = 1000,
) -> list[ElementOut]:
    """Elements of ``kinds``, optionally only those ``ids`` (canonical) or by ``author``, in
    (kind, id) order; ``after``/``limit``: one keyset page (the API's) on that pair."""
    e = MasterDataElement
    q = select(e).where(e.kind.in_(kinds))
    if ids:
        q = q.where(e.element_id.in_(ids))
    if author is not None:
        q = q.where(e.author == author)
    if after is not None:
        q = q.where(pair_after(e.kind, e.element_id, after, desc=False))
    q = q.order_by(e.kind, e.element_id).limit(limit)
    return [element_out(r) for r in session.scalars(q)]


def vocabulary_list(elements: Iterable[ElementOut]) -> list[dict[str, Any]]:
    """EPCIS ``epcisMasterData.vocabularyList`` of stored elements."""
    return masterdata.vocabulary_list(
        [(e.kind, {"id": e.id, "attributes": e.attributes, "other": e.other,
                   "children": e.children}) for e in elements]
    )  # fmt: skip


# --- what pages show -----------------------------------------------------------------------


@dataclass(frozen=True)
class SiteView:
    """A site as a page shows it: its recorded name and address, each fact checkable
    against the entry (the page's script compares each shown text with its recorded value)."""

    id: str
    name: Fact
    city: Fact | None
    street: Fact | None


def _site_view(row: MasterDataElement) -> SiteView:
    i = row.entry_index
    attributes = json.loads(row.body)["attributes"]

    def shown(key: str) -> Fact | None:
        value = attributes.get(key)
        return fact(i, f"/body/attributes/{key}", value) if isinstance(value, str) else None

    return SiteView(
        row.element_id,
        fact(i, "/body/attributes/name", row.name),
        shown("city"),
        shown("streetAddressOne"),
    )


def sites(session: Session, places: Iterable[str | None]) -> dict[str, SiteView]:
    """The recorded site behind each place URI (GLN, SGLN, EPC URN or Digital Link) that
    has one: the place itself, else the site (GLN) it is part of."""
    wanted: dict[str, list[str]] = {}
    for place in {p for p in places if p}:
        found = masterdata.canonical_id(masterdata.LOCATION, place)
        if found is not None:
            site = f"{gs1keys.CANONICAL_HOST}/414/{masterdata.key_digits(found)}"
            wanted[place] = [found, site]
    if not wanted:
        return {}
    rows = {
        r.element_id: r
        for r in session.scalars(
            select(MasterDataElement).where(
                MasterDataElement.kind == masterdata.LOCATION,
                MasterDataElement.element_id.in_({i for ids in wanted.values() for i in ids}),
            )
        )
        if r.name
    }
    out = {}
    for place, ids in wanted.items():
        row = next((rows[i] for i in ids if i in rows), None)
        if row is not None:
            out[place] = _site_view(row)
    return out


def party_sites(session: Session, gln: str | None) -> list[SiteView]:
    """The recorded sites of a party's GLN (the site and its sub-locations), by id."""
    if not gln:
        return []
    rows = session.scalars(
        select(MasterDataElement)
        .where(MasterDataElement.kind == masterdata.LOCATION, MasterDataElement.key == gln)
        .order_by(MasterDataElement.element_id)
    )
    return [_site_view(r) for r in rows if r.name]
