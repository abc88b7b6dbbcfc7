"""Bodies of ``report.issue`` entries, and what reads return."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from foodtrace.product.schemas import LOT_CODE, Gtin

Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$", description="hex SHA-256")]


class Verdict(StrEnum):
    PASS = "pass"  # 合格
    FAIL = "fail"  # 不合格


class TestItem(BaseModel):
    """One analyte: value and limit as printed (``<0.01``, ``未检出``), with its standard."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200, examples=["毒死蜱"])
    value: str = Field(min_length=1, max_length=50, examples=["0.02"])
    limit: str | None = Field(None, max_length=50, examples=["≤0.05"])
    unit: str | None = Field(None, max_length=20, examples=["mg/kg"])
    standard: str = Field(min_length=1, max_length=100, examples=["GB 2763-2021"])
    result: Verdict


class LotSubject(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["lot"]
    gtin: Gtin
    lot_code: str = Field(pattern=LOT_CODE)


class PartySubject(BaseModel):
    """A shop or site tested as a whole (e.g. a restaurant's tableware)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["party"]
    party_id: str = Field(pattern=r"^[A-Za-z0-9_.:-]{1,128}$")


REPORT_EXAMPLE: dict[str, Any] = {
    "report_number": "SHJC-2026-000123",
    "subject": {"kind": "lot", "gtin": "06901234567892", "lot_code": "20260301A"},
    "tested_on": "2026-03-02",
    "items": [
        {
            "name": "毒死蜱",
            "value": "0.02",
            "limit": "≤0.05",
            "unit": "mg/kg",
            "standard": "GB 2763-2021",
            "result": "pass",
        }
    ],
    "conclusion": "pass",
    "pdf_sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "pdf_size": 48213,
}


class ReportBody(BaseModel):
    """``report.issue``: a lab's signed test report; the PDF is uploaded first to
    ``POST /api/v1/blobs`` and named here by its SHA-256."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [REPORT_EXAMPLE]})

    report_number: str = Field(min_length=1, max_length=64)
    subject: Annotated[LotSubject | PartySubject, Field(discriminator="kind")]
    tested_on: date
    items: list[TestItem] = Field(min_length=1, max_length=500)
    conclusion: Verdict
    pdf_sha256: Sha256
    pdf_size: int = Field(gt=0)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        failed = [i.name for i in self.items if i.result is Verdict.FAIL]
        if self.conclusion is Verdict.PASS and failed:
            raise ValueError(f"conclusion: expected fail, items {failed} failed")
        if self.conclusion is Verdict.FAIL and not failed:
            raise ValueError("conclusion: expected pass, every item passed")
        return self


class ReportOut(BaseModel):
    report_number: str
    lab: str
    subject: LotSubject | PartySubject
    tested_on: date
    items: list[TestItem]
    conclusion: Verdict
    pdf_sha256: str
    pdf_size: int
    pdf_url: str
    entry_index: int


class BlobOut(BaseModel):
    sha256: str
    size: int
