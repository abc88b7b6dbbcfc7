"""Projecting ``product.register`` and ``lot.create`` entries, and reading them back."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from foodtrace.auth import Role
from foodtrace.party.models import Party
from foodtrace.prefix.service import require_gtin_of
from foodtrace.product.models import Lot, Product
from foodtrace.product.schemas import LotBody, LotOut, ProductBody, ProductOut
from foodtrace.provenance import projection as provenance
from foodtrace.record.registry import conflict, missing, register_type
from foodtrace.store.keyset import ascending
from foodtrace.trace.entry import Entry

PRODUCERS = frozenset({Role.PRODUCER})


def project_product(session: Session, index: int, entry: Entry) -> None:
    body = ProductBody.model_validate(entry.body)
    if session.get(Party, entry.author) is None:
        raise missing("", f"the author {entry.author} is not a registered party")
    existing = session.get(Product, body.gtin)
    if existing is not None:
        raise conflict("gtin", f"GTIN {body.gtin} is already registered by {existing.producer}")
    require_gtin_of(session, entry.author, body.gtin)
    session.add(
        Product(
            gtin=body.gtin,
            name=body.name,
            producer=entry.author,
            specification=body.specification,
            category=body.category,
            entry_index=index,
        )
    )
    session.flush()


def project_lot(session: Session, index: int, entry: Entry) -> None:
    body = LotBody.model_validate(entry.body)
    product = session.get(Product, body.gtin)
    if product is None:
        raise missing("gtin", f"GTIN {body.gtin} is not a registered product")
    if product.producer != entry.author:
        raise missing(
            "gtin", f"expected a product of {entry.author}; {body.gtin} is {product.producer}'s"
        )
    if session.get(Lot, (body.gtin, body.lot_code)) is not None:
        raise conflict("lot_code", f"lot {body.lot_code} of {body.gtin} already exists")
    session.add(
        Lot(
            gtin=body.gtin,
            lot_code=body.lot_code,
            producer=entry.author,
            production_date=body.production_date,
            quantity=body.quantity,
            unit=body.unit,
            entry_index=index,
        )
    )
    session.flush()
    provenance.on_lot_created(session, index, entry)


register_type("product.register", roles=PRODUCERS, project=project_product, body=ProductBody)
register_type("lot.create", roles=PRODUCERS, project=project_lot, body=LotBody)


def product_out(row: Product) -> ProductOut:
    return ProductOut.model_validate(row, from_attributes=True)


def lot_out(row: Lot) -> LotOut:
    return LotOut.model_validate(row, from_attributes=True)


def get_product(session: Session, gtin: str) -> ProductOut | None:
    row = session.get(Product, gtin.zfill(14))
    return product_out(row) if row else None


def get_lot(session: Session, gtin: str, lot_code: str) -> LotOut | None:
    row = session.get(Lot, (gtin.zfill(14), lot_code))
    return lot_out(row) if row else None


def product_lots(
    session: Session, gtin: str, *, after: int | None = None, limit: int | None = None
) -> list[LotOut]:
    """In entry order; ``after``/``limit``: one keyset page (the API's)."""
    stmt = select(Lot).where(Lot.gtin == gtin.zfill(14))
    rows = session.scalars(ascending(stmt, Lot.entry_index, after, limit)).all()
    return [lot_out(r) for r in rows]


def product_row(session: Session, gtin: str) -> Product | None:
    return session.get(Product, gtin)


def lot_row(session: Session, gtin: str, lot_code: str) -> Lot | None:
    return session.get(Lot, (gtin, lot_code))


def product_rows(session: Session, gtins: Iterable[str]) -> list[Product]:
    """The products with these GTINs (one query)."""
    return list(session.scalars(select(Product).where(Product.gtin.in_(set(gtins)))))
