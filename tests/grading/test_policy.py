"""The grade arithmetic, rule by rule, on the shipped policy 2026.1."""

from __future__ import annotations

import tomllib
from dataclasses import replace
from typing import Any

import pytest

from foodtrace.grading import policyfile
from foodtrace.grading.policy import (
    INDICATORS,
    Indicator,
    PolicyError,
    decide,
    grade_of,
    indicator,
    parse,
    rescore_problems,
    score,
)

POLICY = policyfile.load("2026.1")


def perfect(**changes: Indicator) -> list[Indicator]:
    """Every indicator at 100, with some replaced."""
    base = {
        "licences": indicator(POLICY, "licences", 1, {"valid": 1, "missing": 0}),
        "health_certificates": indicator(POLICY, "health_certificates", 1.0),
        "inspections": indicator(POLICY, "inspections", 1.0, {"count": 1, "failed": 0}),
        "test_reports": indicator(POLICY, "test_reports", 0),
        "complaints": indicator(POLICY, "complaints", 0),
        "recalls": indicator(POLICY, "recalls", 0),
        "trace_records": indicator(POLICY, "trace_records", 1.0),
        "penalties": indicator(POLICY, "penalties", 0, {"count": 0, "serious": 0}),
    }
    base.update(changes)
    return [base[n] for n in INDICATORS]


def test_score_kinds() -> None:
    rules = POLICY.rules
    assert score(rules["licences"], 0) == 0 and score(rules["licences"], 2) == 100
    assert score(rules["health_certificates"], 0.75) == 75
    assert score(rules["health_certificates"], None) == 0  # nothing registered: neutral 0
    assert score(rules["inspections"], None) == 80  # never inspected: neutral 80
    assert score(rules["test_reports"], 1) == 60 and score(rules["test_reports"], 3) == 0
    assert score(rules["complaints"], 2) == 50
    assert score(rules["recalls"], 1) == 50
    assert score(rules["penalties"], 1) == 50


def test_perfect_record_is_a() -> None:
    d = decide(POLICY, perfect())
    assert (d.total, d.grade) == (100.0, "A")
    assert len(d.reasons) == 1  # only the total: no indicator lost points


@pytest.mark.parametrize(
    ("total", "grade"),
    [
        (100, "A"),
        (90, "A"),
        (89.9999, "B"),
        (75, "B"),
        (74.9, "C"),
        (60, "C"),
        (59.99, "D"),
        (0, "D"),
    ],
)
def test_thresholds_are_inclusive_lower_bounds(total: float, grade: str) -> None:
    assert grade_of(POLICY, total) == grade


def test_total_is_the_weighted_mean_of_scores() -> None:
    # complaints weigh 10 of 100: two substantiated ones halve their score, 5 points off
    d = decide(POLICY, perfect(complaints=indicator(POLICY, "complaints", 2)))
    assert (d.total, d.grade) == (95.0, "A")
    assert "近12个月查实投诉：2，得分 50" in d.reasons


def test_points_lost_across_indicators_lower_the_grade() -> None:
    b = perfect(
        health_certificates=indicator(POLICY, "health_certificates", 0.0),
        test_reports=indicator(POLICY, "test_reports", 3),
    )
    assert (decide(POLICY, b).total, decide(POLICY, b).grade) == (75.0, "B")
    c = perfect(
        health_certificates=indicator(POLICY, "health_certificates", 0.0),
        test_reports=indicator(POLICY, "test_reports", 3),
        recalls=indicator(POLICY, "recalls", 1),
    )
    assert (decide(POLICY, c).total, decide(POLICY, c).grade) == (70.0, "C")
    d = perfect(
        health_certificates=indicator(POLICY, "health_certificates", 0.0),
        test_reports=indicator(POLICY, "test_reports", 3),
        recalls=indicator(POLICY, "recalls", 2),
        complaints=indicator(POLICY, "complaints", 4),
        trace_records=indicator(POLICY, "trace_records", 0.0),
    )
    assert (decide(POLICY, d).total, decide(POLICY, d).grade) == (50.0, "D")


def test_serious_penalty_overrides_to_d() -> None:
    d = decide(
        POLICY, perfect(penalties=indicator(POLICY, "penalties", 1, {"count": 1, "serious": 1}))
    )
    assert d.total == 95.0 and d.grade == "D"
    assert any("严重违法" in r for r in d.reasons)


def test_general_penalty_only_costs_points() -> None:
    d = decide(
        POLICY, perfect(penalties=indicator(POLICY, "penalties", 1, {"count": 1, "serious": 0}))
    )
    assert (d.total, d.grade) == (95.0, "A")


def test_no_valid_licence_is_at_best_c() -> None:
    d = decide(
        POLICY, perfect(licences=indicator(POLICY, "licences", 0, {"valid": 0, "missing": 1}))
    )
    assert d.total == 80.0 and d.grade == "C"
    assert any("无有效许可证" in r for r in d.reasons)


def test_failed_inspection_is_at_best_c() -> None:
    d = decide(
        POLICY,
        perfect(inspections=indicator(POLICY, "inspections", 0.75, {"count": 4, "failed": 1})),
    )
    assert d.total == 95.0 and d.grade == "C"


def test_overrides_never_raise_a_grade() -> None:
    bad = perfect(
        licences=indicator(POLICY, "licences", 0, {"valid": 0, "missing": 1}),
        health_certificates=indicator(POLICY, "health_certificates", 0.0),
        inspections=indicator(POLICY, "inspections", 0.0, {"count": 1, "failed": 1}),
    )
    d = decide(POLICY, bad)
    assert d.total == 45.0 and d.grade == "D"
    # both overrides that hold are reasons, neither lifts the D the total gives
    assert sum("最高评为 C" in r for r in d.reasons) == 2


def test_every_indicator_exactly_once() -> None:
    with pytest.raises(PolicyError, match="each once"):
        decide(POLICY, perfect()[:-1])
    with pytest.raises(PolicyError, match="each once"):
        decide(POLICY, [*perfect()[:-1], perfect()[0]])


def test_rescore_catches_a_tampered_score() -> None:
    values = perfect(complaints=indicator(POLICY, "complaints", 2))
    assert rescore_problems(POLICY, values) == []
    values[4] = replace(values[4], score=100.0)
    assert rescore_problems(POLICY, values) == ["indicator complaints: expected score 50, got 100"]


def _raw() -> dict[str, Any]:
    return tomllib.loads((policyfile.POLICY_DIR / "2026.1.toml").read_text(encoding="utf-8"))


def test_policy_file_errors_name_what_is_wrong() -> None:
    raw = _raw()
    del raw["weights"]["recalls"]
    with pytest.raises(PolicyError, match="recalls"):
        parse(raw)
    raw = _raw()
    raw["indicators"]["recalls"]["kind"] = "magic"
    with pytest.raises(PolicyError, match=r"indicators\.recalls\.kind"):
        parse(raw)
    raw = _raw()
    raw["thresholds"]["B"] = 95
    with pytest.raises(PolicyError, match="A >= B >= C"):
        parse(raw)
    with pytest.raises(PolicyError, match="unknown policy version"):
        policyfile.load("1999.1")


def test_frequency_follows_the_practice() -> None:
    f = POLICY.frequency
    assert [f[g].inspections_per_year for g in "ABCD"] == [(1, 1), (1, 2), (2, 3), (3, 4)]
    assert [f[g].patrol_interval_days for g in "ABCD"] == [30, 30, 7, 7]
    assert f["A"].review_interval_days == f["B"].review_interval_days == 91


def test_scores_follow_from_the_rounded_values_the_entry_carries() -> None:
    third = indicator(POLICY, "trace_records", 1 / 3)
    assert (third.value, third.score) == (0.3333, 33.33)
    assert rescore_problems(POLICY, [third]) == []
