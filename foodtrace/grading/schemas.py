"""Bodies of the grading area's entries, and what its reads return."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from foodtrace.grading.policy import INDICATORS
from foodtrace.inspection.schemas import Grade, PartyId

Text = Annotated[str, Field(min_length=1, max_length=2000)]
DecisionNumber = Annotated[str, Field(min_length=1, max_length=64)]


class IndicatorValue(BaseModel):
    """One indicator as the grade entry carries it (see the policy file for each rule)."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(json_schema_extra={"enum": list(INDICATORS)})]
    value: float
    score: float = Field(ge=0, le=100)
    facts: dict[str, float] = Field(default_factory=dict)


class GradeComputeBody(BaseModel):
    """``grade.compute``: a grade computed from its 8 indicators under ``policy_version``.
    The projector recomputes scores, total and grade from the values and refuses a mismatch."""

    model_config = ConfigDict(extra="forbid")

    party_id: PartyId
    as_of: date
    policy_version: str = Field(min_length=1, max_length=32)
    indicators: list[IndicatorValue] = Field(min_length=len(INDICATORS), max_length=len(INDICATORS))
    total: float
    grade: Grade
    reasons: list[Text] = Field(max_length=50)


class Severity(StrEnum):
    SERIOUS = "serious"
    GENERAL = "general"


PENALTY_EXAMPLE: dict[str, Any] = {
    "party_id": "res-91310100000001MA1K4F",
    "decision_number": "沪市监崇处〔2026〕12号",
    "decided_on": "2026-05-20",
    "amount": "5000.00",
    "severity": "general",
    "reason": "未按规定查验供货者许可证",
}


class PenaltyBody(BaseModel):
    """``penalty.record``: an administrative penalty decision (regulator). ``amount`` in yuan."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [PENALTY_EXAMPLE]})

    party_id: PartyId
    decision_number: DecisionNumber
    decided_on: date
    amount: str = Field(pattern=r"^\d{1,12}(\.\d{1,2})?$")
    severity: Severity
    reason: Text


FINDING_EXAMPLE: dict[str, Any] = {
    "tracking_number": "TS-2026-7KQ2-M9XD",
    "substantiated": True,
    "found_on": "2026-05-21",
}


class FindingBody(BaseModel):
    """``complaint.finding``: whether a handler found a complaint substantiated (查实)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [FINDING_EXAMPLE]})

    tracking_number: str = Field(min_length=1, max_length=24)
    substantiated: bool
    found_on: date


REPAIR_EXAMPLE: dict[str, Any] = {
    "application_id": "XF-2026-0001",
    "party_id": "res-91310100000001MA1K4F",
    "penalties": ["沪市监崇处〔2026〕12号"],
    "corrective_action": "已建立供货者许可证查验台账并完成整改",
    "applied_on": "2026-06-20",
}


class RepairApplyBody(BaseModel):
    """``repair.apply``: a merchant applies for credit repair of its own penalties."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [REPAIR_EXAMPLE]})

    application_id: str = Field(pattern=r"^[A-Za-z0-9_.:-]{1,64}$")
    party_id: PartyId
    penalties: list[DecisionNumber] = Field(min_length=1, max_length=50)
    corrective_action: Text
    applied_on: date


class RepairOutcome(StrEnum):
    APPROVED = "approved"
    REFUSED = "refused"


DECISION_EXAMPLE: dict[str, Any] = {
    "application_id": "XF-2026-0001",
    "outcome": "approved",
    "decided_on": "2026-06-25",
    "reason": "整改到位，符合信用修复条件",
}


class RepairDecideBody(BaseModel):
    """``repair.decide``: a regulator approves or refuses a repair application."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [DECISION_EXAMPLE]})

    application_id: str = Field(pattern=r"^[A-Za-z0-9_.:-]{1,64}$")
    outcome: RepairOutcome
    decided_on: date
    reason: Text


class GradeKind(StrEnum):
    COMPUTED = "computed"
    SET = "set"  # an old hand-typed ``grade.set``


class GradeRecordOut(BaseModel):
    """A grade as ``GET /parties/{party_id}/grades`` returns it. Computed grades carry their
    indicators and policy version; a hand-typed ``grade.set`` (before grades were computed)
    has neither, and its reason as the one reason."""

    entry_index: int
    party_id: str
    kind: GradeKind
    grade: Grade
    effective_on: date
    policy_version: str | None
    total: float | None
    indicators: list[IndicatorValue] | None
    reasons: list[str]
    author: str


class PenaltyOut(BaseModel):
    entry_index: int
    party_id: str
    decision_number: str
    decided_on: date
    amount: str
    severity: Severity
    reason: str
    regulator: str
    repaired: bool


class RepairOut(BaseModel):
    entry_index: int
    application_id: str
    party_id: str
    penalties: list[str]
    corrective_action: str
    applied_on: date
    status: str
    decided_by: str | None
    decided_on: date | None
    decision_reason: str | None
    decision_entry_index: int | None


class RecomputeOut(BaseModel):
    parties: int
    written: int
    entry_indices: list[int]


class ScheduleOut(BaseModel):
    """A business's next inspection under its current grade (``status``: overdue, due,
    scheduled)."""

    party_id: str
    name: str
    grade: Grade
    grade_entry_index: int
    last_inspected_on: date | None
    due_on: date
    status: str
    days_overdue: int
    inspection_interval_days: int
    patrol_interval_days: int
    review_interval_days: int | None
    inspections_per_year: tuple[int, int]
    reinspection: bool = Field(
        default=False, description="due_on is the re-inspection a failed (不合格) visit set"
    )
