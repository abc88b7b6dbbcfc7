"""The 8 indicators, each a pure function of plain inputs about one party on one day.

The service gathers each input for every party with one query (see
:mod:`foodtrace.grading.inputs`) and calls these per party; nothing here touches a database or
a clock, so tests set ``as_of`` to any day and a reader can recompute a grade's values.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from foodtrace.grading.policy import Decision, Indicator, Policy, decide, indicator
from foodtrace.party.status import LicenceStatus, licence_status

SHIPPING_STEPS = frozenset({"shipping", "receiving"})


@dataclass(frozen=True)
class LicenceFact:
    valid_from: date
    valid_until: date
    revoked_on: date | None


@dataclass(frozen=True)
class CertificateFact:
    valid_from: date
    valid_until: date


@dataclass(frozen=True)
class TraceEventFact:
    """What the EPCIS index says about one event the party recorded."""

    event_time: datetime
    record_time: datetime
    biz_step: str | None
    has_where: bool  # readPoint or bizLocation
    has_what: bool  # EPCs or quantities
    has_source: bool
    has_destination: bool


@dataclass(frozen=True)
class PenaltyFact:
    decided_on: date
    serious: bool
    repaired: bool


@dataclass
class PartyInputs:
    """Everything known about one party that its grade depends on."""

    licences: list[LicenceFact] = field(default_factory=list)
    certificates: list[CertificateFact] = field(default_factory=list)
    inspections: list[tuple[date, str]] = field(default_factory=list)
    failed_reports: list[date] = field(default_factory=list)
    substantiated_complaints: list[date] = field(default_factory=list)
    recalled_lots: list[date] = field(default_factory=list)
    trace_events: list[TraceEventFact] = field(default_factory=list)
    penalties: list[PenaltyFact] = field(default_factory=list)


def window_start(as_of: date, months: int) -> date:
    """The first day of the ``months`` window ending on ``as_of`` (same day, months back;
    the 31st falls back to the month's last day)."""
    y, m = divmod(as_of.year * 12 + as_of.month - 1 - months, 12)
    m += 1
    for day in (as_of.day, 30, 29, 28):
        try:
            return date(y, m, day) + timedelta(days=1)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def _in_window(d: date, start: date, as_of: date) -> bool:
    return start <= d <= as_of


def licences(policy: Policy, facts: Sequence[LicenceFact], as_of: date) -> Indicator:
    statuses = [licence_status(f.valid_from, f.valid_until, f.revoked_on, as_of) for f in facts]
    valid = sum(s in (LicenceStatus.VALID, LicenceStatus.EXPIRING) for s in statuses)
    return indicator(
        policy,
        "licences",
        valid,
        {
            "valid": valid,
            "expired": sum(s is LicenceStatus.EXPIRED for s in statuses),
            "revoked": sum(s is LicenceStatus.REVOKED for s in statuses),
            "missing": 1 if valid == 0 else 0,
        },
    )


def health_certificates(policy: Policy, facts: Sequence[CertificateFact], as_of: date) -> Indicator:
    """Share of the staff's certificates valid on ``as_of``. The log knows certificates, not
    head counts: a party that registered none scores the rule's neutral score (0 here)."""
    if not facts:
        return indicator(policy, "health_certificates", None, {"certificates": 0, "valid": 0})
    valid = sum(f.valid_from <= as_of <= f.valid_until for f in facts)
    return indicator(
        policy,
        "health_certificates",
        valid / len(facts),
        {"certificates": len(facts), "valid": valid},
    )


def inspections(policy: Policy, facts: Sequence[tuple[date, str]], as_of: date) -> Indicator:
    start = window_start(as_of, policy.window_months)
    points = policy.rules["inspections"].extra.get("points", {})
    results = [r for d, r in facts if _in_window(d, start, as_of)]
    if not results:
        return indicator(policy, "inspections", None, {"count": 0, "failed": 0})
    value = sum(float(points.get(r, 0.0)) for r in results) / len(results)
    failed = sum(float(points.get(r, 0.0)) == 0.0 for r in results)
    return indicator(policy, "inspections", value, {"count": len(results), "failed": failed})


def _count(policy: Policy, name: str, dates: Sequence[date], as_of: date) -> Indicator:
    start = window_start(as_of, policy.window_months)
    n = sum(_in_window(d, start, as_of) for d in dates)
    return indicator(policy, name, n)  # the value is the count: no facts to add


def test_reports(policy: Policy, failed: Sequence[date], as_of: date) -> Indicator:
    return _count(policy, "test_reports", failed, as_of)


def complaints(policy: Policy, substantiated: Sequence[date], as_of: date) -> Indicator:
    return _count(policy, "complaints", substantiated, as_of)


def recalls(policy: Policy, recalled_lots: Sequence[date], as_of: date) -> Indicator:
    return _count(policy, "recalls", recalled_lots, as_of)


def step_name(biz_step: str | None) -> str | None:
    """``shipping`` from ``shipping``, a CBV URN or a CBV Web URI."""
    if not biz_step:
        return None
    return biz_step.rstrip("/").replace(":", "/").rsplit("/", 1)[-1]


def complete(e: TraceEventFact) -> bool:
    """The key data elements of the event's CBV bizStep are present: eventTime (always, the
    index requires it), bizStep, where (readPoint or bizLocation), what (EPCs or
    quantities), and for shipping/receiving both source and destination."""
    step = step_name(e.biz_step)
    if step is None or not e.has_where or not e.has_what:
        return False
    return step not in SHIPPING_STEPS or (e.has_source and e.has_destination)


def trace_records(policy: Policy, facts: Sequence[TraceEventFact], as_of: date) -> Indicator:
    """Share of the window's events that are both complete and recorded in time."""
    start = window_start(as_of, policy.window_months)
    hours = float(policy.rules["trace_records"].extra.get("timely_hours", 24))
    events = [e for e in facts if _in_window(e.event_time.date(), start, as_of)]
    if not events:
        return indicator(policy, "trace_records", None, {"events": 0, "complete": 0, "timely": 0})
    done = [complete(e) for e in events]
    timely = [e.record_time - e.event_time <= timedelta(hours=hours) for e in events]
    good = sum(c and t for c, t in zip(done, timely, strict=True))
    return indicator(
        policy,
        "trace_records",
        good / len(events),
        {"events": len(events), "complete": sum(done), "timely": sum(timely)},
    )


def penalties(policy: Policy, facts: Sequence[PenaltyFact], as_of: date) -> Indicator:
    """Penalties in the window not repaired (信用修复 approved); ``serious`` counts the
    serious ones, which the policy's override turns into D."""
    start = window_start(as_of, policy.window_months)
    live = [p for p in facts if _in_window(p.decided_on, start, as_of) and not p.repaired]
    serious = sum(p.serious for p in live)
    return indicator(policy, "penalties", len(live), {"count": len(live), "serious": serious})


def measure(policy: Policy, inputs: PartyInputs, as_of: date) -> list[Indicator]:
    """The 8 indicators, in the policy's order."""
    return [
        licences(policy, inputs.licences, as_of),
        health_certificates(policy, inputs.certificates, as_of),
        inspections(policy, inputs.inspections, as_of),
        test_reports(policy, inputs.failed_reports, as_of),
        complaints(policy, inputs.substantiated_complaints, as_of),
        recalls(policy, inputs.recalled_lots, as_of),
        trace_records(policy, inputs.trace_events, as_of),
        penalties(policy, inputs.penalties, as_of),
    ]


def grade(policy: Policy, inputs: PartyInputs, as_of: date) -> tuple[list[Indicator], Decision]:
    values = measure(policy, inputs, as_of)
    return values, decide(policy, values)
