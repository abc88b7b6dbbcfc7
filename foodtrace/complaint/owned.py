"""Reading complaints with owners (所社联动): a routed complaint's owners, confirmations,
rating and clocks, the complaints a grid or an owner holds (a keyset page in SQL), and the
grid's dashboard. Reads only; the writes are :mod:`foodtrace.complaint.owners`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from foodtrace.complaint.clocks import Clocks, clock_state, is_closed
from foodtrace.complaint.models import Complaint
from foodtrace.complaint.owner_schemas import RouteOut
from foodtrace.complaint.routes import ComplaintRoute
from foodtrace.complaint.schemas import Stage
from foodtrace.complaint.service import NotFound
from foodtrace.grid.models import Grid
from foodtrace.grid.schemas import DashboardOut
from foodtrace.store.authors import utc
from foodtrace.store.keyset import pair_after

SATISFIED_FROM = 4  # a rating of 4 or 5 of 5 counts as satisfied


def route_out(session: Session, tracking_number: str, clocks: Clocks, now: datetime) -> RouteOut:
    row = session.get(ComplaintRoute, tracking_number)
    complaint = session.get(Complaint, tracking_number)
    if row is None or complaint is None:
        raise NotFound(f"no routed complaint {tracking_number} is recorded")
    return _out(row, complaint, clocks, now)


def _out(row: ComplaintRoute, complaint: Complaint, clocks: Clocks, now: datetime) -> RouteOut:
    d = clock_state(complaint, clocks, now)
    escalated = [
        s
        for s, i in (
            (Stage.RESPONSE, row.response_escalated_entry_index),
            (Stage.FEEDBACK, row.feedback_escalated_entry_index),
        )
        if i is not None
    ]
    return RouteOut(
        tracking_number=row.tracking_number,
        grid_id=row.grid_id,
        officer=row.officer,
        grid_worker=row.grid_worker,
        station_head=row.station_head,
        officer_confirmed_at=utc(row.officer_confirmed_at),
        worker_confirmed_at=utc(row.worker_confirmed_at),
        rating=row.rating,
        closed=is_closed(row),
        response_due=d.response_due,
        feedback_due=d.feedback_due,
        response_overdue=d.response_overdue,
        feedback_overdue=d.feedback_overdue,
        escalated=escalated,
    )


def owned(
    session: Session,
    clocks: Clocks,
    now: datetime,
    *,
    grid_ids: list[str] | None = None,
    person: str | None = None,
    open_only: bool = False,
) -> list[RouteOut]:
    """Routed complaints of these grids, or owned by ``person`` (officer, grid worker or
    station head), newest first."""
    found = owned_with_complaints(session, clocks, now, grid_ids, person, open_only=open_only)
    return [route for route, _ in found]


def owned_with_complaints(
    session: Session,
    clocks: Clocks,
    now: datetime,
    grid_ids: list[str] | None = None,
    person: str | None = None,
    *,
    open_only: bool = False,
    before: tuple[datetime, str] | None = None,
    limit: int | None = None,
) -> list[tuple[RouteOut, Complaint]]:
    """:func:`owned`'s routes, each with the complaint row it was read with (one query),
    newest first (ties: tracking number descending); ``before``/``limit``: one keyset page
    (the API's) on (received_at, tracking_number)."""
    r, c = ComplaintRoute, Complaint
    query = select(r, c).join(c, c.tracking_number == r.tracking_number)
    if grid_ids is not None:
        query = query.where(r.grid_id.in_(grid_ids))
    if person is not None:
        query = query.where(
            (r.officer == person) | (r.grid_worker == person) | (r.station_head == person)
        )
    if open_only:  # not closed (is_closed): a confirmation or the rating is still missing
        query = query.where(
            r.officer_confirmed_at.is_(None) | r.worker_confirmed_at.is_(None) | r.rating.is_(None)
        )
    if before is not None:
        query = query.where(pair_after(c.received_at, c.tracking_number, before, desc=True))
    query = query.order_by(c.received_at.desc(), c.tracking_number.desc())
    rows = session.execute(query if limit is None else query.limit(limit))
    return [(_out(row, complaint, clocks, now), complaint) for row, complaint in rows]


def dashboard(session: Session, grid: Grid, clocks: Clocks, now: datetime) -> DashboardOut:
    """Handled, on time and satisfied, over every complaint routed to ``grid``."""
    items = owned(session, clocks, now, grid_ids=[grid.grid_id])
    settled = [i for i in items if i.feedback_overdue or now > i.feedback_due or i.closed]
    on_time = [i for i in settled if not i.response_overdue and not i.feedback_overdue]
    rated = [i for i in items if i.rating is not None]
    satisfied = [i for i in rated if (i.rating or 0) >= SATISFIED_FROM]

    def pct(part: int, whole: int) -> float | None:
        return round(100 * part / whole, 1) if whole else None

    return DashboardOut(
        grid_id=grid.grid_id,
        name=grid.name,
        complaints=len(items),
        handled=sum(i.closed for i in items),
        on_time=len(on_time),
        on_time_pct=pct(len(on_time), len(settled)),
        rated=len(rated),
        satisfied=len(satisfied),
        satisfaction_pct=pct(len(satisfied), len(rated)),
        escalated=sum(bool(i.escalated) for i in items),
    )
