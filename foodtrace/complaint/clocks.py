"""A complaint's clocks: when it must be answered, whether it was answered in time, which
stages are due for escalation, and when its owners closed it. Pure functions of the stored
times and ``now`` (nothing stores a flag that could go stale).

The defaults are the local practice (所社联动): a response within 30 minutes and feedback
within 24 hours; :class:`Clocks` reads the configured ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from foodtrace.complaint.models import Complaint
from foodtrace.complaint.routes import ComplaintRoute
from foodtrace.complaint.schemas import Stage, Status
from foodtrace.config import Settings
from foodtrace.store.authors import utc

RESPONSE_DEADLINE = timedelta(minutes=30)
FEEDBACK_DEADLINE = timedelta(hours=24)


@dataclass(frozen=True)
class Deadlines:
    """When a complaint must be answered, and whether it was not answered in time.

    A stage is overdue when it was not done by its deadline: still open after it, or done
    late (a late answer stays on the record as late)."""

    status: Status
    response_due: datetime
    feedback_due: datetime
    response_overdue: bool
    feedback_overdue: bool


def deadlines(
    received_at: datetime,
    responded_at: datetime | None,
    feedback_at: datetime | None,
    now: datetime,
    *,
    response: timedelta = RESPONSE_DEADLINE,
    feedback: timedelta = FEEDBACK_DEADLINE,
) -> Deadlines:
    response_due, feedback_due = received_at + response, received_at + feedback

    def late(done: datetime | None, due: datetime) -> bool:
        return (done if done is not None else now) > due

    status = (
        Status.CLOSED
        if feedback_at is not None
        else Status.RESPONDED
        if responded_at is not None
        else Status.RECEIVED
    )
    # Feedback also answers the complaint: a complaint closed in time was responded to.
    first_answer = responded_at if responded_at is not None else feedback_at
    return Deadlines(
        status,
        response_due,
        feedback_due,
        late(first_answer, response_due),
        late(feedback_at, feedback_due),
    )


@dataclass(frozen=True)
class Clocks:
    response: timedelta = RESPONSE_DEADLINE
    feedback: timedelta = FEEDBACK_DEADLINE

    @classmethod
    def of(cls, settings: Settings) -> Clocks:
        return cls(
            timedelta(minutes=settings.complaint_response_minutes),
            timedelta(hours=settings.complaint_feedback_hours),
        )


def clock_state(complaint: Complaint, clocks: Clocks, now: datetime) -> Deadlines:
    received = utc(complaint.received_at)
    assert received is not None
    return deadlines(
        received,
        utc(complaint.responded_at),
        utc(complaint.feedback_at),
        now,
        response=clocks.response,
        feedback=clocks.feedback,
    )


def due_escalations(
    route_row: ComplaintRoute, d: Deadlines, now: datetime, answered: tuple[bool, bool]
) -> list[tuple[Stage, datetime]]:
    """The stages whose clock ran out unanswered and that were not escalated yet."""
    responded, fed_back = answered
    out = []
    if not responded and now > d.response_due and route_row.response_escalated_entry_index is None:
        out.append((Stage.RESPONSE, d.response_due))
    if not fed_back and now > d.feedback_due and route_row.feedback_escalated_entry_index is None:
        out.append((Stage.FEEDBACK, d.feedback_due))
    return out


def is_closed(row: ComplaintRoute) -> bool:
    return (
        row.officer_confirmed_at is not None
        and row.worker_confirmed_at is not None
        and row.rating is not None
    )
