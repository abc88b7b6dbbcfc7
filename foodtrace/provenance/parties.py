"""Who an EPCIS source or destination is, and what role an entry's author writes with.

EPCIS names parties by URI: a PGLN (``https://id.gs1.org/417/{GLN}``,
``urn:epc:id:pgln:…``) or a location's SGLN (``/414/{GLN}``, ``urn:epc:id:sgln:…``),
both matched against the GLN a party registered with; a URI that is itself a party id is
taken as that party. This is the one place that mapping is defined.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from foodtrace.auth.models import ApiToken, Role, role_for_party_kind
from foodtrace.config import Settings
from foodtrace.party.models import Party
from foodtrace.store.models import AuthorKey
from foodtrace.trace.epcis import events, gs1keys

GLN_KEYS: Final = ("417", "414")
EXEMPT_ROLES: Final = frozenset({Role.INSPECTOR, Role.REGULATOR})
"""Inspectors (sampling, holds) and regulators (recalls) write about any object."""
CARRIER_TYPE: Final = "possessing_party"


def gln_of(identifier: str) -> str | None:
    """The GLN in a PGLN or SGLN, as a URN or a Digital Link; None for anything else."""
    canonical = gs1keys.canonical(identifier)
    if not canonical.startswith(gs1keys.CANONICAL_HOST + "/"):
        return None
    parts = canonical[len(gs1keys.CANONICAL_HOST) + 1 :].split("/")
    if len(parts) >= 2 and parts[0] in GLN_KEYS:
        return parts[1][-13:]
    return None


def party_for(session: Session, identifier: str) -> str | None:
    """The FoodTrace party id an EPCIS party or location identifier names, if any."""
    gln = gln_of(identifier)
    if gln is not None:
        return session.scalar(select(Party.party_id).where(Party.gln == gln).limit(1))
    if session.get(Party, identifier) is not None:
        return identifier
    known = session.scalar(select(AuthorKey.author).where(AuthorKey.author == identifier).limit(1))
    return known


def destinations(
    session: Session, parties: Iterable[events.Party]
) -> tuple[frozenset[str], frozenset[str]]:
    """``(consignees, carriers)`` of a shipment: possessing parties are carriers, every
    other destination a consignee (and when only possessing parties are named, they are
    the consignees)."""
    consignees: set[str] = set()
    carriers: set[str] = set()
    for p in parties:
        party = party_for(session, p.id)
        if party is not None:
            (carriers if p.type == CARRIER_TYPE else consignees).add(party)
    if not consignees:
        return frozenset(carriers), frozenset()
    return frozenset(consignees), frozenset(carriers - consignees)


def author_roles(session: Session, author: str) -> frozenset[Role]:
    """The roles ``author`` writes with: its party kind's role if registered, the
    regulator role for the platform's own author, else the roles its tokens carry."""
    kind = session.scalar(select(Party.kind).where(Party.party_id == author))
    if kind is not None:
        return frozenset({role_for_party_kind(kind)})
    if author == _platform_author():
        return frozenset({Role.REGULATOR})
    roles = session.scalars(
        select(ApiToken.role).where(
            ApiToken.party_id == author,
            ApiToken.activated_at.is_not(None),
            ApiToken.revoked_at.is_(None),
        )
    ).all()
    return frozenset(Role(r) for r in roles)


@functools.cache
def _platform_author() -> str:
    return Settings().platform_author
