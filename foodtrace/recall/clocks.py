"""The legal clocks of a recall and its progress (pure: times in, facts out).

《食品召回管理办法》 (2015, amended 2020): a level 1 recall (consumption has caused or may cause
serious harm) starts within 24 hours and is completed within 10 working days; level 2
within 48 hours and 20 working days; level 3 (labelling, no harm) within 72 hours and 30
working days. Here the start clock runs from the case's opening to each affected party's
acknowledgement (it has stopped selling and started the recall), the completion clock to
each party's final report of quantities recovered or destroyed.

Working days skip Saturdays and Sundays, then a configurable calendar adjusts: public
holidays that fall on weekdays are not working days, and the make-up working days China
schedules on weekends (调休) are. A deadline of N working days is the end (24:00, China
Standard Time) of the N-th working day after the day the case opened. Nothing here stores
a flag that could go stale: overdue is computed from ``now`` on every read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from enum import IntEnum

CST = timezone(timedelta(hours=8), "CST")  # 中国标准时间: working days are counted here
SATURDAY = 5


class Level(IntEnum):
    """召回级别: 1 serious harm, 2 possible harm, 3 labelling without harm."""

    ONE = 1
    TWO = 2
    THREE = 3


@dataclass(frozen=True)
class Clock:
    start_within: timedelta
    working_days: int


CLOCKS: Mapping[Level, Clock] = {
    Level.ONE: Clock(timedelta(hours=24), 10),
    Level.TWO: Clock(timedelta(hours=48), 20),
    Level.THREE: Clock(timedelta(hours=72), 30),
}


@dataclass(frozen=True)
class WorkCalendar:
    """Weekdays are working days except ``holidays``; weekend days in ``workdays`` are."""

    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()

    @classmethod
    def of(cls, holidays: Iterable[date] = (), workdays: Iterable[date] = ()) -> WorkCalendar:
        return cls(frozenset(holidays), frozenset(workdays))

    def is_working_day(self, day: date) -> bool:
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        return day.weekday() < SATURDAY

    def nth_working_day_after(self, day: date, n: int) -> date:
        """The ``n``-th working day strictly after ``day`` (``n`` ≥ 1)."""
        if n < 1:
            raise ValueError(f"expected at least 1 working day, got {n}")
        found = 0
        while found < n:
            day += timedelta(days=1)
            found += self.is_working_day(day)
        return day


@dataclass(frozen=True)
class Deadlines:
    start_due: datetime
    done_due: datetime


def deadlines(level: Level, opened_at: datetime, calendar: WorkCalendar) -> Deadlines:
    clock = CLOCKS[level]
    opened_day = opened_at.astimezone(CST).date()
    last = calendar.nth_working_day_after(opened_day, clock.working_days)
    done_due = datetime.combine(last + timedelta(days=1), time(0), CST)
    return Deadlines(opened_at + clock.start_within, done_due)


@dataclass(frozen=True)
class PartyState:
    """What an affected party was sent (per unit) and has done so far."""

    party_id: str
    shipped: Mapping[str, float]
    acknowledged_at: datetime | None = None
    recovered: Mapping[str, float] = field(default_factory=dict)
    destroyed: Mapping[str, float] = field(default_factory=dict)
    finished_at: datetime | None = None  # its final report


@dataclass(frozen=True)
class PartyProgress:
    party_id: str
    start_overdue: bool
    done_overdue: bool

    @property
    def overdue(self) -> bool:
        return self.start_overdue or self.done_overdue


@dataclass(frozen=True)
class Progress:
    """``acknowledged_pct`` of affected parties; per unit, quantities recovered or destroyed
    against quantities shipped; the parties late on either clock."""

    deadlines: Deadlines
    acknowledged: int
    parties: int
    acknowledged_pct: float
    recovered: dict[str, float] = field(default_factory=dict)
    shipped: dict[str, float] = field(default_factory=dict)
    overdue_parties: list[str] = field(default_factory=list)
    per_party: list[PartyProgress] = field(default_factory=list)
    closed: bool = False
    overdue: bool = False


def _late(done: datetime | None, due: datetime, now: datetime) -> bool:
    """Late when not done by ``due``: still open after it, or done after it."""
    return (done if done is not None else now) > due


def progress(
    level: Level,
    opened_at: datetime,
    parties: Iterable[PartyState],
    now: datetime,
    calendar: WorkCalendar,
    closed_at: datetime | None = None,
) -> Progress:
    """The case's progress at ``now``. A closed case stops its clocks at the close."""
    due = deadlines(level, opened_at, calendar)
    at = min(now, closed_at) if closed_at is not None else now
    states = list(parties)
    per = [
        PartyProgress(
            p.party_id,
            _late(p.acknowledged_at, due.start_due, at),
            _late(p.finished_at, due.done_due, at),
        )
        for p in states
    ]
    recovered: dict[str, float] = {}
    shipped: dict[str, float] = {}
    for p in states:
        for unit, q in p.shipped.items():
            shipped[unit] = shipped.get(unit, 0.0) + q
        for done in (p.recovered, p.destroyed):
            for unit, q in done.items():
                recovered[unit] = recovered.get(unit, 0.0) + q
    acked = sum(p.acknowledged_at is not None for p in states)
    overdue = [p.party_id for p in per if p.overdue]
    return Progress(
        deadlines=due,
        acknowledged=acked,
        parties=len(states),
        acknowledged_pct=round(100.0 * acked / len(states), 1) if states else 100.0,
        recovered=recovered,
        shipped=shipped,
        overdue_parties=overdue,
        per_party=per,
        closed=closed_at is not None,
        overdue=bool(overdue) or (closed_at is None and at > due.done_due),
    )
