"""Projecting ``prefix.assign`` and checking that a producer may name a GTIN.

A product is registered only under a company prefix its producer was assigned: the check
runs in the ``product.register`` projector, so it holds for every write path, and the
refusal says which prefix (if any) the GTIN falls under and which ones the producer holds.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from foodtrace.auth import Role
from foodtrace.party.models import Party
from foodtrace.prefix import rules
from foodtrace.prefix.models import CompanyPrefix
from foodtrace.prefix.schemas import PrefixBody, PrefixOut
from foodtrace.record.registry import ProjectionError, conflict, missing, register_type
from foodtrace.store.keyset import ascending
from foodtrace.trace.entry import Entry

ENTRY_TYPE = "prefix.assign"


def project_prefix(session: Session, index: int, entry: Entry) -> None:
    body = PrefixBody.model_validate(entry.body)
    if session.get(Party, body.party_id) is None:
        raise missing("party_id", f"{body.party_id} is not a registered party")
    assigned = session.scalars(select(CompanyPrefix.prefix)).all()
    clash = rules.overlapping(body.prefix, assigned)
    if clash:
        holders = {
            p.prefix: p.party_id
            for p in session.scalars(select(CompanyPrefix).where(CompanyPrefix.prefix.in_(clash)))
        }
        named = ", ".join(f"{p} ({holders[p]})" for p in clash)
        raise conflict("prefix", f"{body.prefix} overlaps the assigned prefix(es) {named}")
    session.add(
        CompanyPrefix(
            prefix=body.prefix,
            party_id=body.party_id,
            assigned_by=entry.author,
            entry_index=index,
        )
    )
    session.flush()


register_type(
    ENTRY_TYPE, roles=frozenset({Role.REGULATOR}), project=project_prefix, body=PrefixBody
)


def party_prefixes(session: Session, party_id: str) -> list[str]:
    return list(
        session.scalars(
            select(CompanyPrefix.prefix)
            .where(CompanyPrefix.party_id == party_id)
            .order_by(CompanyPrefix.prefix)
        )
    )


def require_gtin_of(session: Session, producer: str, gtin14: str, field: str = "gtin") -> None:
    """Raise :class:`ProjectionError` unless ``gtin14`` lies under a prefix of ``producer``:
    403 when it lies under another party's prefix, 422 when under none."""
    everyone = session.scalars(select(CompanyPrefix)).all()
    prefix = rules.covering(gtin14, (p.prefix for p in everyone))
    own = sorted(p.prefix for p in everyone if p.party_id == producer)
    held = f"{producer} holds {', '.join(own)}" if own else f"{producer} holds no prefix"
    if prefix is None:
        raise missing(
            field,
            f"GTIN {gtin14} lies under no GS1 company prefix assigned to anyone; {held} "
            "(a regulator assigns prefixes with prefix.assign)",
        )
    holder = next(p.party_id for p in everyone if p.prefix == prefix)
    if holder != producer:
        raise ProjectionError(
            403,
            [(field, f"GTIN {gtin14} lies under GS1 company prefix {prefix} of {holder}; {held}")],
        )


def prefix_out(row: CompanyPrefix) -> PrefixOut:
    return PrefixOut.model_validate(row, from_attributes=True)


def get_prefix(session: Session, prefix: str) -> PrefixOut | None:
    row = session.get(CompanyPrefix, prefix)
    return prefix_out(row) if row else None


def list_prefixes(
    session: Session,
    party_id: str | None = None,
    *,
    after: str | None = None,
    limit: int | None = None,
) -> list[PrefixOut]:
    """In prefix order; ``after``/``limit``: one keyset page on the prefix (the API's)."""
    query = select(CompanyPrefix)
    if party_id is not None:
        query = query.where(CompanyPrefix.party_id == party_id)
    return [
        prefix_out(r) for r in session.scalars(ascending(query, CompanyPrefix.prefix, after, limit))
    ]
