"""Recall clocks with controlled time: working days skip weekends and configured holidays,
make-up working days count, each level has its own clocks, and overdue parties are named."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from foodtrace.recall.clocks import (
    CST,
    Level,
    PartyState,
    WorkCalendar,
    deadlines,
    progress,
)

PLAIN = WorkCalendar()
# 2026-12-04 is a Friday.
FRIDAY_NOON = datetime(2026, 12, 4, 12, 0, tzinfo=CST)


def test_working_days_skip_weekends() -> None:
    assert PLAIN.nth_working_day_after(date(2026, 12, 4), 1) == date(2026, 12, 7)  # Mon
    assert PLAIN.nth_working_day_after(date(2026, 12, 4), 10) == date(2026, 12, 18)
    assert PLAIN.nth_working_day_after(date(2026, 12, 5), 1) == date(2026, 12, 7)  # from Sat
    with pytest.raises(ValueError):
        PLAIN.nth_working_day_after(date(2026, 12, 4), 0)


def test_holidays_and_make_up_workdays_are_configurable() -> None:
    # A week of holidays from Monday 2026-12-07, and Saturday 2026-12-12 a make-up workday.
    week = [date(2026, 12, 7) + timedelta(days=i) for i in range(5)]
    cal = WorkCalendar.of(holidays=week, workdays=[date(2026, 12, 12)])
    assert not cal.is_working_day(date(2026, 12, 8))
    assert cal.is_working_day(date(2026, 12, 12))
    assert cal.nth_working_day_after(date(2026, 12, 4), 1) == date(2026, 12, 12)
    assert cal.nth_working_day_after(date(2026, 12, 4), 2) == date(2026, 12, 14)


@pytest.mark.parametrize(
    ("level", "start_hours", "last_day"),
    [
        (Level.ONE, 24, date(2026, 12, 18)),  # 10 working days after Fri 12-04
        (Level.TWO, 48, date(2027, 1, 1)),  # 20
        (Level.THREE, 72, date(2027, 1, 15)),  # 30
    ],
)
def test_each_level_has_its_clocks(level: Level, start_hours: int, last_day: date) -> None:
    due = deadlines(level, FRIDAY_NOON, PLAIN)
    assert due.start_due == FRIDAY_NOON + timedelta(hours=start_hours)
    assert due.done_due == datetime.combine(last_day + timedelta(days=1), datetime.min.time(), CST)


def test_days_are_counted_in_china_standard_time() -> None:
    # 17:00 UTC on Sunday is 01:00 Monday in Beijing: the count starts from Monday.
    late_sunday_utc = datetime(2026, 12, 6, 17, 0, tzinfo=UTC)
    due = deadlines(Level.ONE, late_sunday_utc, PLAIN)
    assert due.done_due == datetime(2026, 12, 22, 0, 0, tzinfo=CST)  # end of Mon 12-21
    sunday_noon = deadlines(Level.ONE, datetime(2026, 12, 6, 4, 0, tzinfo=UTC), PLAIN)
    assert sunday_noon.done_due == datetime(2026, 12, 19, 0, 0, tzinfo=CST)


def _parties(acked: datetime | None = None) -> list[PartyState]:
    return [
        PartyState(
            "shop-a",
            {"kg": 100},
            acknowledged_at=acked,
            recovered={"kg": 60},
            destroyed={"kg": 10},
        ),
        PartyState("shop-b", {"kg": 50}),
        PartyState(
            "cafe", {"盒": 20}, acknowledged_at=acked, recovered={"盒": 20}, finished_at=acked
        ),
    ]


def test_progress_names_overdue_parties_as_time_passes() -> None:
    ack = FRIDAY_NOON + timedelta(hours=3)
    early = progress(Level.ONE, FRIDAY_NOON, _parties(ack), FRIDAY_NOON + timedelta(hours=5), PLAIN)
    assert early.acknowledged == 2 and early.parties == 3
    assert early.acknowledged_pct == pytest.approx(66.7)
    assert early.shipped == {"kg": 150, "盒": 20}
    assert early.recovered == {"kg": 70, "盒": 20}
    assert early.overdue_parties == [] and not early.overdue

    next_day = progress(
        Level.ONE, FRIDAY_NOON, _parties(ack), FRIDAY_NOON + timedelta(hours=25), PLAIN
    )
    assert next_day.overdue_parties == ["shop-b"]
    assert [p.start_overdue for p in next_day.per_party] == [False, True, False]

    after = progress(
        Level.ONE, FRIDAY_NOON, _parties(ack), datetime(2026, 12, 19, 0, 1, tzinfo=CST), PLAIN
    )
    assert after.overdue_parties == ["shop-a", "shop-b"]  # the cafe finished in time
    assert after.overdue


def test_a_late_acknowledgement_stays_late_and_closing_stops_the_clock() -> None:
    late = FRIDAY_NOON + timedelta(hours=30)
    p = progress(Level.ONE, FRIDAY_NOON, _parties(late), late + timedelta(hours=1), PLAIN)
    assert p.overdue_parties == ["shop-a", "shop-b", "cafe"]
    closed_at = FRIDAY_NOON + timedelta(hours=2)
    stopped = progress(
        Level.THREE,
        FRIDAY_NOON,
        _parties(),
        datetime(2027, 6, 1, tzinfo=CST),
        PLAIN,
        closed_at=closed_at,
    )
    assert stopped.closed and stopped.overdue_parties == [] and not stopped.overdue
