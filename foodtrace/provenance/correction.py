"""Voiding an event declared in error (EPCIS 2.0 ``errorDeclaration``).

A declaration says the event did not happen as recorded. Its custody effects are undone as
they were applied, by the log index of the event: the holds it opened are removed, the holds
it ended are reopened (with the quantity a partial receipt took from the shipper given
back), the shipments it opened are removed and the receipts it made are open again, and
packing or unpacking it did is reversed. What later events did stands: each is its own
author's statement until that author declares it in error too (a receipt of a shipment
declared in error keeps the goods with the receiver). Corrective events
(``correctiveEventIDs``) are ordinary events and apply as any other.

The undo depends only on the projection's rows and the declared index, so the live
projector and :func:`foodtrace.provenance.rebuild.rebuild`, replaying the same entries in
the same order, leave the same rows.
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from foodtrace.provenance.models import (
    Containment,
    CustodyHold,
    CustodyTransit,
    LineageEdge,
    NodeActivity,
    NodeTransaction,
)
from foodtrace.trace import custody


def void_custody(session: Session, index: int) -> None:
    """Undo the custody effects (holds, shipments, containment) of the event at ``index``."""
    for transit in session.scalars(
        select(CustodyTransit).where(CustodyTransit.received_entry == index)
    ).all():
        shipper = session.scalar(
            select(CustodyHold).where(
                CustodyHold.node_id == transit.node_id,
                CustodyHold.holder == transit.shipper,
                CustodyHold.until.is_(None),
            )
        )
        if shipper is not None:
            shipper.quantity = custody.given_back(
                shipper.quantity, shipper.uom, transit.quantity, transit.uom
            )
        transit.received_entry, transit.received_by = None, None
    session.execute(delete(CustodyHold).where(CustodyHold.since_entry == index))
    for hold in session.scalars(select(CustodyHold).where(CustodyHold.until_entry == index)):
        hold.until, hold.until_entry = None, None
    session.execute(delete(CustodyTransit).where(CustodyTransit.shipment_entry == index))
    session.execute(delete(Containment).where(Containment.since_entry == index))
    for row in session.scalars(select(Containment).where(Containment.until_entry == index)):
        row.until_entry = None
    session.flush()


def void_lineage(session: Session, index: int) -> None:
    """Remove the lineage edges, activities and business transactions the event at
    ``index`` recorded, so traces and recall scopes no longer pass through it. Nodes stay:
    other events may name them, and a node with no edge is reached by nothing."""
    for model in (LineageEdge, NodeActivity, NodeTransaction):
        session.execute(delete(model).where(model.entry_index == index))
    session.flush()
