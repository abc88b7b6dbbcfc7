"""The grade arithmetic: indicator values → scores → total → grade, and the overrides.

Pure functions over plain data (no database, no clock): the service gathers the inputs, the
projector of ``grade.compute`` re-runs :func:`decide` to refuse an entry whose grade does not
follow from its own indicator values, and anyone holding the policy file can do the same.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

GRADES = ("A", "B", "C", "D")
INDICATORS = (
    "licences",
    "health_certificates",
    "inspections",
    "test_reports",
    "complaints",
    "recalls",
    "trace_records",
    "penalties",
)
SCORE_KINDS = ("present", "share", "per_count")
DIGITS = 4  # values and scores are rounded so that the entry's JSON is stable


class PolicyError(ValueError):
    """A policy file that does not say what a grade is (missing weight, unknown kind, …)."""


@dataclass(frozen=True)
class Rule:
    """How an indicator's value becomes a score 0..100."""

    kind: str
    label: str
    per: float = 0.0
    neutral: float = 100.0
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Override:
    """When ``facts[fact]`` of ``indicator`` is at least ``at_least``, the grade is at best
    ``grade``."""

    indicator: str
    fact: str
    at_least: float
    grade: str
    reason: str


@dataclass(frozen=True)
class Frequency:
    inspections_per_year: tuple[int, int]
    inspection_interval_days: int
    patrol_interval_days: int
    review_interval_days: int | None


@dataclass(frozen=True)
class Policy:
    version: str
    window_months: int
    thresholds: Mapping[str, float]
    weights: Mapping[str, float]
    rules: Mapping[str, Rule]
    overrides: tuple[Override, ...]
    frequency: Mapping[str, Frequency]
    due_soon_days: int
    draw_weights: Mapping[str, int]
    black_serious_months: int


@dataclass(frozen=True)
class Indicator:
    """One of the 8 indicators as the grade entry carries it. ``value`` is the measured
    figure (a count or a share), ``score`` what the policy makes of it, ``facts`` the counts
    behind the value that overrides and readers use (``{"serious": 1, "count": 2}``)."""

    name: str
    value: float
    score: float
    facts: Mapping[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "value": self.value,
            "score": self.score,
            "facts": dict(self.facts),
        }


@dataclass(frozen=True)
class Decision:
    total: float
    grade: str
    reasons: tuple[str, ...]


def parse(data: Mapping[str, Any]) -> Policy:
    """A :class:`Policy` from the parsed policy file; :class:`PolicyError` names what is
    wrong."""
    try:
        weights = {n: float(data["weights"][n]) for n in INDICATORS}
        rules = {}
        for n in INDICATORS:
            raw = dict(data["indicators"][n])
            kind = str(raw.pop("kind"))
            if kind not in SCORE_KINDS:
                raise PolicyError(f"indicators.{n}.kind: expected one of {SCORE_KINDS}, got {kind}")
            rules[n] = Rule(
                kind,
                str(raw.pop("label")),
                float(raw.pop("per", 0.0)),
                float(raw.pop("neutral", 100.0)),
                raw,
            )
        thresholds = {g: float(data["thresholds"][g]) for g in GRADES[:3]}
        overrides = tuple(
            Override(
                str(o["indicator"]),
                str(o["fact"]),
                float(o["at_least"]),
                str(o["grade"]),
                str(o["reason"]),
            )
            for o in data.get("overrides", [])
        )
        freq = data["frequency"]
        frequency = {
            g: Frequency(
                (int(freq[g]["inspections_per_year"][0]), int(freq[g]["inspections_per_year"][1])),
                int(freq[g]["inspection_interval_days"]),
                int(freq[g]["patrol_interval_days"]),
                int(freq[g]["review_interval_days"]) if "review_interval_days" in freq[g] else None,
            )
            for g in GRADES
        }
        policy = Policy(
            version=str(data["version"]),
            window_months=int(data["window_months"]),
            thresholds=thresholds,
            weights=weights,
            rules=rules,
            overrides=overrides,
            frequency=frequency,
            due_soon_days=int(freq["due_soon_days"]),
            draw_weights={g: int(data["draw_weights"][g]) for g in GRADES},
            black_serious_months=int(data["lists"]["black_serious_months"]),
        )
    except KeyError as exc:
        raise PolicyError(f"policy is missing {exc.args[0]!r}") from None
    if sum(weights.values()) <= 0:
        raise PolicyError("weights: expected a positive sum")
    if not thresholds["A"] >= thresholds["B"] >= thresholds["C"]:
        raise PolicyError("thresholds: expected A >= B >= C")
    for o in overrides:
        if o.indicator not in INDICATORS or o.grade not in GRADES:
            raise PolicyError(f"override {o}: unknown indicator or grade")
    if any(w < 1 for w in policy.draw_weights.values()):
        raise PolicyError("draw_weights: expected integers >= 1")
    return policy


def _round(x: float) -> float:
    return round(float(x), DIGITS)


def score(rule: Rule, value: float | None) -> float:
    """The score 0..100 of ``value`` (None: nothing to measure, the rule's neutral score)."""
    if value is None:
        return _round(rule.neutral)
    if rule.kind == "present":
        return 100.0 if value >= 1 else 0.0
    if rule.kind == "share":
        return _round(100.0 * min(1.0, max(0.0, value)))
    return _round(max(0.0, 100.0 - rule.per * value))


def indicator(
    policy: Policy, name: str, value: float | None, facts: Mapping[str, float] | None = None
) -> Indicator:
    """The indicator ``name`` scored by ``policy``; a None value is recorded as 0 with
    ``facts["measured"] = 0`` so a reader sees the neutral score was given for no data."""
    out = dict(facts or {})
    if value is None:
        out["measured"] = 0
    # the score is computed from the rounded value the entry carries, so a reader re-derives
    # exactly the same score from the entry alone
    rounded = None if value is None else _round(value)
    return Indicator(name, rounded or 0.0, score(policy.rules[name], rounded), out)


def _worse(a: str, b: str) -> str:
    return a if GRADES.index(a) >= GRADES.index(b) else b


def grade_of(policy: Policy, total: float) -> str:
    for g in GRADES[:3]:
        if total >= policy.thresholds[g]:
            return g
    return "D"


def decide(policy: Policy, indicators: Sequence[Indicator]) -> Decision:
    """Total, grade and reasons from the 8 indicators (each exactly once)."""
    by_name = {i.name: i for i in indicators}
    if sorted(by_name) != sorted(INDICATORS) or len(indicators) != len(INDICATORS):
        raise PolicyError(f"expected the indicators {list(INDICATORS)}, each once")
    weight = sum(policy.weights.values())
    total = _round(sum(policy.weights[n] * by_name[n].score for n in INDICATORS) / weight)
    grade = grade_of(policy, total)
    reasons = [
        f"综合得分 {total:g}（{policy.version} 评分：A≥{policy.thresholds['A']:g}，"
        f"B≥{policy.thresholds['B']:g}，C≥{policy.thresholds['C']:g}）"
    ]
    for n in INDICATORS:
        i = by_name[n]
        if i.score < 100:
            reasons.append(f"{policy.rules[n].label}：{i.value:g}，得分 {i.score:g}")
    # Every override that holds is a reason, even when the total is already as low.
    for o in policy.overrides:
        if by_name[o.indicator].facts.get(o.fact, 0) >= o.at_least:
            grade = _worse(o.grade, grade)
            reasons.append(f"{o.reason}：最高评为 {o.grade} 级")
    return Decision(total, grade, tuple(reasons))


def indicators_from_json(items: Sequence[Mapping[str, Any]]) -> list[Indicator]:
    return [
        Indicator(str(i["name"]), float(i["value"]), float(i["score"]), dict(i.get("facts", {})))
        for i in items
    ]


def rescore_problems(policy: Policy, indicators: Sequence[Indicator]) -> list[str]:
    """Where an entry's scores do not follow from its values under ``policy``."""
    problems = []
    for i in indicators:
        measured = i.facts.get("measured", 1) != 0
        expected = score(policy.rules[i.name], i.value if measured else None)
        if abs(expected - i.score) > 10**-DIGITS:
            problems.append(f"indicator {i.name}: expected score {expected:g}, got {i.score:g}")
    return problems
