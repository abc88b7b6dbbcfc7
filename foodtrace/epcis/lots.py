"""Which lots the EPCIS index says events name, and what a lot was made from: the reads a
lot page needs (over the ``epcis_event_epcs`` index, never the events' JSON)."""

from __future__ import annotations

from typing import Final

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from foodtrace.epcis.models import EpcisEventEpc

INPUT_ROLES: Final = ("inputQuantityList", "inputEPCList")
OUTPUT_ROLES: Final = ("outputQuantityList", "outputEPCList")

_OUT_EPC = EpcisEventEpc.__table__.alias("o")  # built once: an alias costs a copy of every column
_IN_EPC = EpcisEventEpc.__table__.alias("i")


def input_lots(session: Session, gtin: str, lot_code: str, depth: int) -> list[tuple[str, str]]:
    """Lots this lot was made from, transitively (transformation inputs) up to ``depth``
    steps back, nearest first."""
    seen = {(gtin, lot_code)}
    frontier = [(gtin, lot_code)]
    found: list[tuple[str, str]] = []
    out_epc, in_epc = _OUT_EPC, _IN_EPC
    for _ in range(depth):
        if not frontier:
            break
        conds = [(out_epc.c.gtin == g) & (out_epc.c.lot == lot) for g, lot in frontier]
        rows = session.execute(
            select(in_epc.c.gtin, in_epc.c.lot)
            .select_from(out_epc.join(in_epc, in_epc.c.event_pk == out_epc.c.event_pk))
            .where(
                out_epc.c.role.in_(OUTPUT_ROLES),
                in_epc.c.role.in_(INPUT_ROLES),
                in_epc.c.lot.is_not(None),
                or_(*conds),
            )
            .distinct()
        ).all()
        frontier = []
        for g, lot in rows:
            if g and (g, lot) not in seen:
                seen.add((g, lot))
                found.append((g, lot))
                frontier.append((g, lot))
    return found


def event_lots(session: Session, pks: list[int]) -> dict[int, set[tuple[str, str]]]:
    """The (GTIN, lot) pairs each of these events names, by event primary key."""
    out: dict[int, set[tuple[str, str]]] = {}
    if not pks:
        return out
    rows = session.execute(
        select(EpcisEventEpc.event_pk, EpcisEventEpc.gtin, EpcisEventEpc.lot).where(
            EpcisEventEpc.event_pk.in_(pks), EpcisEventEpc.lot.is_not(None)
        )
    )
    for pk, g, lot in rows:
        if g and lot:
            out.setdefault(pk, set()).add((g, lot))
    return out
