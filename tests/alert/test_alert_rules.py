"""The pure alert rules and the ladder, with time passed in."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from foodtrace.alert import rules
from foodtrace.alert.rules import Kind, Step

TODAY = date(2026, 3, 5)
NOW = datetime(2026, 3, 5, 9, tzinfo=UTC)
PAIR = (Kind.LICENCE_EXPIRING, Kind.LICENCE_EXPIRED)


def test_expiry_within_30_days_or_past() -> None:
    def kind(until: date) -> Kind | None:
        a = rules.expiry(PAIR, "p", "JY1", until, TODAY)
        return a.kind if a else None

    assert kind(TODAY + timedelta(days=31)) is None
    assert kind(TODAY + timedelta(days=30)) is Kind.LICENCE_EXPIRING
    assert kind(TODAY) is Kind.LICENCE_EXPIRING  # valid through its last day
    assert kind(TODAY - timedelta(days=1)) is Kind.LICENCE_EXPIRED


def test_temperature_out_of_range() -> None:
    assert rules.excursion(3.0, 0.0, 8.0) is None
    assert rules.excursion(8.0, 0.0, 8.0) is None
    assert rules.excursion(9.6, 0.0, 8.0) == "9.6 °C above 8 °C"
    assert rules.excursion(-1.5, 0.0, 8.0) == "-1.5 °C below 0 °C"


def test_ladder_climbs_one_step_per_interval_while_alerts_stay_open() -> None:
    assert rules.next_step(None, 0, NOW) is None
    assert rules.next_step(None, 1, NOW) is Step.REMIND
    last = (Step.REMIND, NOW)
    assert rules.next_step(last, 1, NOW + rules.STEP_INTERVAL - timedelta(seconds=1)) is None
    steps = []
    at = NOW
    step = Step.REMIND
    while True:
        at += rules.STEP_INTERVAL
        nxt = rules.next_step((step, at - rules.STEP_INTERVAL), 2, at)
        if nxt is None:
            break
        steps.append(nxt)
        step = nxt
    assert steps == [Step.WARN, Step.INTERVIEW, Step.INSPECT]
    # answered: nothing; quiet for 90 days: back to the first step
    assert rules.next_step((Step.INTERVIEW, NOW), 0, NOW + timedelta(days=10)) is None
    assert rules.next_step((Step.INSPECT, NOW), 1, NOW + rules.LADDER_RESET) is Step.REMIND
