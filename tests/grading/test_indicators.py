"""Each indicator and each clock with the day under the test's control (no wall clock)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from foodtrace.grading import indicators as ind
from foodtrace.grading import policyfile
from foodtrace.grading.schedule import DueStatus, due

POLICY = policyfile.load("2026.1")
DAY = date(2026, 6, 15)


def test_window_is_twelve_months_back_inclusive() -> None:
    assert ind.window_start(DAY, 12) == date(2025, 6, 16)
    assert ind.window_start(date(2026, 3, 31), 1) == date(2026, 3, 1)  # Feb has no 31st
    assert ind.window_start(date(2024, 2, 29), 12) == date(2023, 3, 1)


def test_licence_valid_through_its_last_day_then_missing() -> None:
    lic = [ind.LicenceFact(date(2021, 7, 1), DAY, None)]
    assert ind.licences(POLICY, lic, DAY).facts["missing"] == 0
    after = ind.licences(POLICY, lic, DAY + timedelta(days=1))
    assert (after.value, after.score, after.facts["missing"], after.facts["expired"]) == (
        0,
        0,
        1,
        1,
    )


def test_revoked_licence_counts_from_the_revocation_day() -> None:
    lic = [ind.LicenceFact(date(2021, 7, 1), date(2031, 7, 1), DAY)]
    assert ind.licences(POLICY, lic, DAY - timedelta(days=1)).value == 1
    assert ind.licences(POLICY, lic, DAY).facts["revoked"] == 1


def test_health_certificates_share_and_expiry() -> None:
    certs = [
        ind.CertificateFact(date(2026, 1, 1), date(2026, 12, 31)),
        ind.CertificateFact(date(2025, 6, 1), DAY),
    ]
    assert ind.health_certificates(POLICY, certs, DAY).score == 100
    later = ind.health_certificates(POLICY, certs, DAY + timedelta(days=1))
    assert (later.value, later.score, later.facts["valid"]) == (0.5, 50, 1)
    none = ind.health_certificates(POLICY, [], DAY)
    assert none.facts["measured"] == 0 and none.score == 0


def test_inspections_average_results_inside_the_window() -> None:
    facts = [
        (date(2025, 6, 15), "不合格"),
        (date(2026, 1, 5), "合格"),
        (date(2026, 5, 1), "基本合格"),
    ]
    got = ind.inspections(POLICY, facts, DAY)  # the failed one is a year and a day old
    assert (got.value, got.score, got.facts["count"], got.facts["failed"]) == (0.75, 75, 2, 0)
    earlier = ind.inspections(POLICY, facts, DAY - timedelta(days=1))
    assert earlier.facts["failed"] == 1 and earlier.value == 0.5
    never = ind.inspections(POLICY, [], DAY)
    assert never.score == 80 and never.facts["measured"] == 0


@pytest.mark.parametrize("name", ["test_reports", "complaints", "recalls"])
def test_counted_indicators_forget_after_twelve_months(name: str) -> None:
    fn = getattr(ind, name)
    dates = [date(2025, 6, 16), date(2026, 6, 15), date(2026, 6, 16)]
    assert fn(POLICY, dates, DAY).value == 2  # the future one is not yet counted
    assert fn(POLICY, dates, date(2026, 6, 16)).value == 2  # the oldest dropped out
    assert fn(POLICY, dates, date(2027, 6, 16)).value == 0


def _event(step: str | None, late_hours: float = 1, **kw: bool) -> ind.TraceEventFact:
    t = datetime(2026, 6, 1, 8, tzinfo=UTC)
    flags = {"has_where": True, "has_what": True, "has_source": False, "has_destination": False}
    flags.update(kw)
    return ind.TraceEventFact(t, t + timedelta(hours=late_hours), step, **flags)


def test_trace_completeness_by_biz_step() -> None:
    assert ind.complete(_event("commissioning"))
    assert ind.complete(_event("urn:epcglobal:cbv:bizstep:commissioning"))
    assert not ind.complete(_event(None))
    assert not ind.complete(_event("commissioning", has_where=False))
    assert not ind.complete(_event("commissioning", has_what=False))
    assert not ind.complete(_event("shipping", has_source=True))
    assert ind.complete(
        _event("https://ref.gs1.org/cbv/BizStep-receiving", has_source=True, has_destination=True)
    )


def test_trace_records_need_complete_and_timely() -> None:
    events = [
        _event("commissioning"),
        _event("commissioning", late_hours=25),  # recorded too late
        _event("shipping"),  # no source/destination
        _event("receiving", has_source=True, has_destination=True),
    ]
    got = ind.trace_records(POLICY, events, DAY)
    assert (got.value, got.score) == (0.5, 50)
    assert got.facts == {"events": 4, "complete": 3, "timely": 3}
    assert ind.trace_records(POLICY, [], DAY).facts["measured"] == 0


def test_penalties_window_seriousness_and_repair() -> None:
    facts = [
        ind.PenaltyFact(date(2026, 3, 1), serious=True, repaired=False),
        ind.PenaltyFact(date(2026, 4, 1), serious=False, repaired=False),
        ind.PenaltyFact(date(2026, 5, 1), serious=True, repaired=True),
    ]
    got = ind.penalties(POLICY, facts, DAY)
    assert (got.value, got.facts["serious"]) == (2, 1)
    _, d = ind.grade(POLICY, ind.PartyInputs(penalties=facts), DAY)
    assert d.grade == "D"
    assert ind.penalties(POLICY, facts, date(2027, 3, 2)).facts["serious"] == 0


def test_a_grade_changes_with_the_clock_alone() -> None:
    inputs = ind.PartyInputs(
        licences=[ind.LicenceFact(date(2021, 1, 1), DAY, None)],
        certificates=[ind.CertificateFact(date(2026, 1, 1), date(2026, 12, 31))],
        inspections=[(date(2026, 1, 5), "合格")],
    )
    assert ind.grade(POLICY, inputs, DAY)[1].grade == "A"
    assert ind.grade(POLICY, inputs, DAY + timedelta(days=1))[1].grade == "C"  # licence expired


def test_schedule_due_then_overdue() -> None:
    last = date(2026, 1, 10)
    b = POLICY.frequency["B"].inspection_interval_days
    due_on = last + timedelta(days=b)
    assert due(POLICY, "B", last, last, due_on - timedelta(days=15)).status is DueStatus.SCHEDULED
    assert due(POLICY, "B", last, last, due_on - timedelta(days=14)).status is DueStatus.DUE
    assert due(POLICY, "B", last, last, due_on).status is DueStatus.DUE
    late = due(POLICY, "B", last, last, due_on + timedelta(days=3))
    assert (late.status, late.days_overdue, late.due_on) == (DueStatus.OVERDUE, 3, due_on)


def test_schedule_tightens_with_the_grade() -> None:
    last = date(2026, 1, 10)
    today = date(2026, 5, 1)
    assert due(POLICY, "A", last, last, today).status is DueStatus.SCHEDULED
    d = due(POLICY, "D", last, last, today)
    assert d.status is DueStatus.OVERDUE and d.due_on == date(2026, 4, 11)
    assert (d.patrol_interval_days, d.inspections_per_year) == (7, (3, 4))


def test_never_inspected_is_due_one_interval_after_its_first_grade() -> None:
    graded = date(2026, 5, 1)
    c = POLICY.frequency["C"].inspection_interval_days
    first = graded + timedelta(days=c)
    today = due(POLICY, "C", graded, None, graded)  # registered and graded today
    assert (today.status, today.due_on, today.days_overdue) == (DueStatus.SCHEDULED, first, 0)
    soon = POLICY.due_soon_days
    assert due(POLICY, "C", graded, None, first - timedelta(days=soon + 1)).status is (
        DueStatus.SCHEDULED
    )
    assert due(POLICY, "C", graded, None, first - timedelta(days=soon)).status is DueStatus.DUE
    late = due(POLICY, "C", graded, None, first + timedelta(days=2))
    assert (late.status, late.days_overdue) == (DueStatus.OVERDUE, 2)
    # a stricter grade since: the interval of the current grade, from the same first day
    d = due(POLICY, "D", graded, None, graded + timedelta(days=100))
    assert d.due_on == graded + timedelta(days=91) and d.status is DueStatus.OVERDUE
