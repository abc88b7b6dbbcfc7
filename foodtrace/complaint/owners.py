"""Complaints with owners (所社联动): routing to the shop's grid, the two confirmations, the
complainant's rating and escalation to the station head (their projections and writes; the
reads and the grid's dashboard are :mod:`foodtrace.complaint.owned`, the clocks
:mod:`foodtrace.complaint.clocks`).

A complaint is routed when it is projected: the shop's grid at that moment names the
officer, the grid worker and the station head, kept in ``complaint_routes`` (rebuilt the same
way from the log). It is closed only when both owners confirmed (``complaint.confirm``, each
signed by that owner) and the complainant rated it through the tracking number
(``complaint.rate``, signed by the platform, which received it). The response and feedback
clocks are configurable (``FOODTRACE_COMPLAINT_RESPONSE_MINUTES``/``_FEEDBACK_HOURS``);
:func:`escalate_overdue` logs one ``complaint.escalate`` per stage whose clock ran out.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from foodtrace.auth.models import Principal, Role
from foodtrace.complaint.clocks import Clocks, clock_state, due_escalations
from foodtrace.complaint.models import Complaint
from foodtrace.complaint.owner_schemas import (
    Capacity,
    ConfirmBody,
    EscalateBody,
    EscalationOut,
    RateBody,
)
from foodtrace.complaint.routes import ComplaintRoute
from foodtrace.complaint.schemas import Stage
from foodtrace.complaint.service import NotFound
from foodtrace.config import Settings
from foodtrace.grid.models import Grid, GridMember
from foodtrace.party.models import Party
from foodtrace.platformkey.signer import ensure_platform_author, platform_key
from foodtrace.record.registry import ProjectionError, conflict, missing, register_type
from foodtrace.record.service import RecordRef, submit
from foodtrace.store.log import MerkleLog
from foodtrace.trace import entry as entry_mod
from foodtrace.trace.entry import Entry

CONFIRM_TYPE = "complaint.confirm"
RATE_TYPE = "complaint.rate"
ESCALATE_TYPE = "complaint.escalate"

SessionFactory = Callable[[], Session]


class NotReady(Exception):
    """The complaint cannot be rated yet (not confirmed by both owners, or rated already)."""


def _platform_author() -> str:
    return Settings().platform_author


# --- routing and projections ----------------------------------------------------------------


def route(session: Session, tracking_number: str, merchant_id: str) -> None:
    """Give a just-projected complaint the owners of its shop's grid (none if the shop is in
    no grid: it then shows in the unrouted list of the regulator). Flushes only."""
    party = session.scalars(
        select(Party.party_id).where(
            (Party.party_id == merchant_id) | (Party.credit_code == merchant_id)
        )
    ).first()
    member = session.get(GridMember, party) if party is not None else None
    grid = session.get(Grid, member.grid_id) if member is not None else None
    if grid is None:
        return
    session.add(
        ComplaintRoute(
            tracking_number=tracking_number,
            grid_id=grid.grid_id,
            officer=grid.officer,
            grid_worker=grid.grid_worker,
            station_head=grid.station_head,
        )
    )
    session.flush()


def _route(session: Session, tracking_number: str) -> ComplaintRoute:
    row = session.get(ComplaintRoute, tracking_number)
    if row is None:
        raise missing("tracking_number", f"complaint {tracking_number} has no owners (no grid)")
    return row


def project_confirm(session: Session, index: int, entry: Entry) -> None:
    body = ConfirmBody.model_validate(entry.body)
    row = _route(session, body.tracking_number)
    owner = row.officer if body.capacity is Capacity.OFFICER else row.grid_worker
    if entry.author != owner:
        raise ProjectionError(
            403, [("capacity", f"expected {owner}, the grid's {body.capacity.value}")]
        )
    if body.capacity is Capacity.OFFICER:
        if row.officer_confirmed_at is not None:
            raise conflict("capacity", "the officer already confirmed")
        row.officer_confirmed_at, row.officer_entry_index = body.confirmed_at, index
    else:
        if row.worker_confirmed_at is not None:
            raise conflict("capacity", "the grid worker already confirmed")
        row.worker_confirmed_at, row.worker_entry_index = body.confirmed_at, index
    session.flush()


def project_rate(session: Session, index: int, entry: Entry) -> None:
    body = RateBody.model_validate(entry.body)
    if entry.author != _platform_author():
        raise ProjectionError(403, [("", "a rating is received and signed by the platform")])
    row = _route(session, body.tracking_number)
    if row.officer_confirmed_at is None or row.worker_confirmed_at is None:
        raise conflict(
            "tracking_number",
            "expected both the officer's and the grid worker's "
            "confirmation before the complainant rates",
        )
    if row.rating is not None:
        raise conflict("tracking_number", "the complaint is already rated")
    row.rating, row.rated_at, row.rating_entry_index = body.rating, body.rated_at, index
    session.flush()


def project_escalate(session: Session, index: int, entry: Entry) -> None:
    body = EscalateBody.model_validate(entry.body)
    if entry.author != _platform_author():
        raise ProjectionError(403, [("", "escalations are written by the platform")])
    row = _route(session, body.tracking_number)
    if body.to != row.station_head:
        raise missing("to", f"expected {row.station_head}, the grid's station head")
    if body.stage is Stage.RESPONSE:
        if row.response_escalated_entry_index is not None:
            raise conflict("stage", "the response was already escalated")
        row.response_escalated_entry_index = index
    else:
        if row.feedback_escalated_entry_index is not None:
            raise conflict("stage", "the feedback was already escalated")
        row.feedback_escalated_entry_index = index
    session.flush()


register_type(
    CONFIRM_TYPE, roles=frozenset({Role.INSPECTOR}), project=project_confirm, body=ConfirmBody
)
register_type(RATE_TYPE, roles=frozenset({Role.REGULATOR}), project=project_rate, body=RateBody)
register_type(
    ESCALATE_TYPE, roles=frozenset({Role.REGULATOR}), project=project_escalate, body=EscalateBody
)


# --- writes ---------------------------------------------------------------------------------


def _platform(settings: Settings, session_factory: SessionFactory) -> Principal:
    with session_factory() as session, session.begin():
        ensure_platform_author(session, settings.platform_author, platform_key(settings))
    return Principal(settings.platform_author, Role.REGULATOR, token_id=0)


def rate(
    log: MerkleLog,
    session_factory: SessionFactory,
    settings: Settings,
    tracking_number: str,
    rating: int,
    now: datetime | None = None,
) -> RecordRef:
    """Log the complainant's rating (the tracking number is their proof of standing)."""
    now = now or datetime.now(UTC)
    with session_factory() as session:
        row = session.get(ComplaintRoute, tracking_number)
        if row is None:
            raise NotFound(f"no routed complaint {tracking_number} is recorded")
        if row.officer_confirmed_at is None or row.worker_confirmed_at is None:
            raise NotReady("the officer and the grid worker have not both confirmed yet")
        if row.rating is not None:
            raise NotReady("the complaint is already rated")
    principal = _platform(settings, session_factory)
    body = RateBody(tracking_number=tracking_number, rating=rating, rated_at=now)
    entry = entry_mod.sign(
        platform_key(settings),
        type=RATE_TYPE,
        author=settings.platform_author,
        body=body.model_dump(mode="json"),
    )
    [ref] = submit(log, session_factory, principal, [entry])
    return ref


def escalate_overdue(
    log: MerkleLog,
    session_factory: SessionFactory,
    settings: Settings,
    now: datetime | None = None,
) -> list[EscalationOut]:
    """Log, as one group, an escalation to the station head for every routed complaint
    whose response or feedback clock ran out unanswered and was not escalated yet."""
    now = now or datetime.now(UTC)
    clocks = Clocks.of(settings)
    pending: list[tuple[str, Stage, str, datetime]] = []
    with session_factory() as session:
        rows = session.execute(
            select(ComplaintRoute, Complaint)
            .join(Complaint, Complaint.tracking_number == ComplaintRoute.tracking_number)
            .where(Complaint.feedback_at.is_(None) | Complaint.responded_at.is_(None))
        ).all()
        for route_row, complaint in rows:
            d = clock_state(complaint, clocks, now)
            answered = (
                complaint.responded_at is not None or complaint.feedback_at is not None,
                complaint.feedback_at is not None,
            )
            for stage, due in due_escalations(route_row, d, now, answered):
                pending.append((route_row.tracking_number, stage, route_row.station_head, due))
    if not pending:
        return []
    principal = _platform(settings, session_factory)
    key = platform_key(settings)
    entries = [
        entry_mod.sign(
            key,
            type=ESCALATE_TYPE,
            author=settings.platform_author,
            body=EscalateBody(tracking_number=t, stage=stage, to=head, due=due, at=now).model_dump(
                mode="json"
            ),
        )
        for t, stage, head, due in pending
    ]
    refs = submit(log, session_factory, principal, entries)
    return [
        EscalationOut(tracking_number=t, stage=stage, to=head, entry_index=ref.index)
        for (t, stage, head, _), ref in zip(pending, refs, strict=True)
    ]
