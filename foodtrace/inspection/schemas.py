"""Bodies of ``inspection.record`` and ``grade.set`` entries, and what reads return."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

PartyId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.:-]{1,128}$")]


class InspectionResult(StrEnum):
    PASS = "合格"
    MINOR = "基本合格"
    FAIL = "不合格"


class Grade(StrEnum):
    A = "A"
    B = "B"
    C = "C"
    D = "D"


INSPECTION_EXAMPLE: dict[str, Any] = {
    "party_id": "91310115MA1K4FXX2B",
    "inspected_on": "2026-03-05",
    "result": "基本合格",
    "findings": ["冷藏柜温度记录不完整"],
    "photos": ["9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"],
}
GRADE_EXAMPLE: dict[str, Any] = {
    "party_id": "91310115MA1K4FXX2B",
    "grade": "B",
    "effective_on": "2026-04-01",
    "reason": "2026年第一季度检查结果",
}


class InspectionBody(BaseModel):
    """``inspection.record``: signed by the inspector who inspected."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [INSPECTION_EXAMPLE]})

    party_id: PartyId
    inspected_on: date
    result: InspectionResult
    findings: list[Annotated[str, Field(min_length=1, max_length=2000)]] = Field(
        default_factory=list, max_length=200
    )
    photos: list[Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]] = Field(
        default_factory=list, max_length=100, description="SHA-256 of photos uploaded to /blobs"
    )


class GradeBody(BaseModel):
    """``grade.set``: a regulator sets a party's credit grade."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [GRADE_EXAMPLE]})

    party_id: PartyId
    grade: Grade
    effective_on: date
    reason: str = Field(min_length=1, max_length=2000)


class InspectionOut(BaseModel):
    entry_index: int
    inspector: str
    party_id: str
    inspected_on: date
    result: InspectionResult
    findings: list[str]
    photos: list[str]


class GradeOut(BaseModel):
    entry_index: int
    party_id: str
    grade: Grade
    effective_on: date
    reason: str
    set_by: str
