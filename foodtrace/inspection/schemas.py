"""Bodies of ``inspection.record``, ``inspection.ack`` and ``grade.set`` entries, and what
reads return.

``checklist`` and ``corrective_actions`` were added to ``inspection.record`` with empty
defaults, so entries logged before them still validate and project unchanged."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from foodtrace.record.schemas import Recorded

PartyId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.:-]{1,128}$")]


class InspectionResult(StrEnum):
    PASS = "合格"
    MINOR = "基本合格"
    FAIL = "不合格"


class ItemResult(StrEnum):
    """One checklist item's result."""

    CONFORMS = "符合"
    NONCONFORMING = "不符合"
    NOT_APPLICABLE = "不适用"


class Face(StrEnum):
    """The 量化分级 face a visit shows (动态等级), and the annual one from 12 months."""

    GOOD = "良好"
    FAIR = "一般"
    POOR = "较差"


class AckMethod(StrEnum):
    KEY = "key"  # the merchant signed with its own key or token
    CODE = "code"  # the merchant confirmed the inspector's one-time code; the platform signs


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
    "checklist": [
        {"item": "许可证悬挂", "result": "符合"},
        {"item": "冷藏温度记录", "result": "不符合", "note": "缺3月1日至4日记录"},
    ],
    "corrective_actions": [{"action": "补全冷藏温度记录并每日登记", "deadline": "2026-03-12"}],
}
ACK_EXAMPLE: dict[str, Any] = {
    "inspection": 42,
    "party_id": "91310115MA1K4FXX2B",
    "method": "key",
    "acknowledged_at": "2026-03-05T10:20:00Z",
}
GRADE_EXAMPLE: dict[str, Any] = {
    "party_id": "91310115MA1K4FXX2B",
    "grade": "B",
    "effective_on": "2026-04-01",
    "reason": "2026年第一季度检查结果",
}


Text = Annotated[str, Field(min_length=1, max_length=2000)]


class ChecklistItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    item: Annotated[str, Field(min_length=1, max_length=200)]
    result: ItemResult
    note: Text | None = None


class CorrectiveAction(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: Text
    deadline: date


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
    checklist: list[ChecklistItem] = Field(default_factory=list, max_length=200)
    corrective_actions: list[CorrectiveAction] = Field(default_factory=list, max_length=50)


class AckBody(BaseModel):
    """``inspection.ack``: the merchant's signature under an inspection (the second of 双签).

    Signed by the inspected party itself (``method: key``), or by the platform when the
    merchant confirmed the one-time code the inspector showed on the spot (``method: code``).
    """

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [ACK_EXAMPLE]})

    inspection: int = Field(ge=0, description="entry index of the inspection.record")
    party_id: PartyId
    method: AckMethod
    acknowledged_at: datetime


class GradeBody(BaseModel):
    """``grade.set``: a regulator sets a party's credit grade."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [GRADE_EXAMPLE]})

    party_id: PartyId
    grade: Grade
    effective_on: date
    reason: str = Field(min_length=1, max_length=2000)


class AckOut(BaseModel):
    entry_index: int
    author: str
    method: AckMethod
    acknowledged_at: datetime


class InspectionOut(BaseModel):
    entry_index: int
    inspector: str
    party_id: str
    inspected_on: date
    result: InspectionResult
    findings: list[str]
    photos: list[str]
    checklist: list[ChecklistItem]
    corrective_actions: list[CorrectiveAction]
    face: Face = Field(description="量化分级 dynamic face of this visit")
    reinspection_due: date | None = Field(description="set for a 不合格 visit")
    acknowledgement: AckOut | None
    double_signed: bool = Field(description="双签: signed by the inspector and the merchant")


class ConfirmationCodeOut(BaseModel):
    """The one-time code the inspector shows the merchant; shown once, stored hashed."""

    code: str
    expires_at: datetime


class InspectionRecordedOut(Recorded[InspectionOut]):
    """A recorded visit, with the code the merchant confirms it by."""

    confirmation: ConfirmationCodeOut


class ConfirmIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=r"^[0-9]{6}$", description="the code the inspector shows")


class FacesOut(BaseModel):
    """A business's 量化分级 faces: the latest visit's and the annual one (12 months)."""

    party_id: str
    dynamic: Face | None
    annual: Face | None
    visits_12_months: int
    as_of: date


class GradeOut(BaseModel):
    entry_index: int
    party_id: str
    grade: Grade
    effective_on: date
    reason: str
    set_by: str
