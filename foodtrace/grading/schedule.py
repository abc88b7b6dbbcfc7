"""When each business is next due for inspection under its grade: a pure function of the
grade, the last inspection, the policy and ``today`` (nothing stored that could go stale)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from enum import StrEnum

from foodtrace.grading.policy import Policy


class DueStatus(StrEnum):
    OVERDUE = "overdue"  # the due day has passed with no inspection
    DUE = "due"  # due within the policy's due_soon_days (or today)
    SCHEDULED = "scheduled"


@dataclass(frozen=True)
class Due:
    grade: str
    last_inspected_on: date | None
    due_on: date
    status: DueStatus
    days_overdue: int
    inspection_interval_days: int
    patrol_interval_days: int
    review_interval_days: int | None
    inspections_per_year: tuple[int, int]
    reinspection: bool = False  # due_on is a failed visit's re-inspection


def _status(policy: Policy, due_on: date, today: date) -> DueStatus:
    if today > due_on:
        return DueStatus.OVERDUE
    if (due_on - today).days <= policy.due_soon_days:
        return DueStatus.DUE
    return DueStatus.SCHEDULED


def with_reinspection(policy: Policy, d: Due, reinspect_on: date | None, today: date) -> Due:
    """A failed last visit brings the next inspection forward to its re-inspection day."""
    if reinspect_on is None or reinspect_on >= d.due_on:
        return d
    return replace(
        d,
        due_on=reinspect_on,
        status=_status(policy, reinspect_on, today),
        days_overdue=max(0, (today - reinspect_on).days),
        reinspection=True,
    )


def due(
    policy: Policy, grade: str, graded_since: date, last_inspected_on: date | None, today: date
) -> Due:
    """The next inspection is due ``inspection_interval_days`` after the last one. A business
    never inspected came under graded supervision on ``graded_since`` (the day of its first
    grade), so its first inspection is due one interval later: a business registered and
    graded today is not overdue, one never visited for a whole interval of its grade is. The
    day is the first grade's, not the current one's: a regrade (every write that moves an
    input) must not push an unvisited business's due day forward for ever. A grade that
    shortened the interval (say B → D) moves the due day forward at once."""
    f = policy.frequency[grade]
    since = last_inspected_on if last_inspected_on is not None else graded_since
    due_on = since + timedelta(days=f.inspection_interval_days)
    status = _status(policy, due_on, today)
    return Due(
        grade,
        last_inspected_on,
        due_on,
        status,
        max(0, (today - due_on).days),
        f.inspection_interval_days,
        f.patrol_interval_days,
        f.review_interval_days,
        f.inspections_per_year,
    )
