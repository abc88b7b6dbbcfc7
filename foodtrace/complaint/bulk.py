"""Reading many complaints at once for a list (the workbench's routed complaints): two
queries whatever their number, where :func:`foodtrace.complaint.service.get_complaint` per
item would read each complaint and its contact's personal-data row one by one."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from foodtrace.complaint.models import Complaint
from foodtrace.complaint.schemas import ComplaintOut
from foodtrace.complaint.service import complaint_out
from foodtrace.health.models import PersonalData


def complaints_by_number(
    session: Session, tracking_numbers: Collection[str], now: datetime
) -> dict[str, ComplaintOut]:
    """The complaints with these tracking numbers, as ``GET /complaints/{n}`` shows them."""
    rows = list(
        session.scalars(
            select(Complaint).where(Complaint.tracking_number.in_(list(tracking_numbers)))
        )
    )
    commitments = [r.contact_commitment for r in rows if r.contact_commitment]
    if commitments:  # into the session's identity map, where complaint_out looks them up
        list(session.scalars(select(PersonalData).where(PersonalData.commitment.in_(commitments))))
    return {r.tracking_number: complaint_out(session, r, now) for r in rows}
