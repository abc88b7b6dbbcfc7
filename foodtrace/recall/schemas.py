"""Bodies of the recall entries, the request to open one, and what reads return."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from foodtrace.product.schemas import LOT_CODE, Gtin

RECALL_ID = r"^RC-\d{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$"
RecallId = Annotated[str, Field(pattern=RECALL_ID, examples=["RC-2026-7KQ2-M9XD"])]
Quantity = Annotated[float, Field(ge=0, allow_inf_nan=False)]


class Kind(StrEnum):
    VOLUNTARY = "voluntary"  # 主动召回: the producer
    ORDERED = "ordered"  # 责令召回: a regulator


LEVEL_LABELS = {1: "一级召回", 2: "二级召回", 3: "三级召回"}
KIND_LABELS = {Kind.VOLUNTARY: "主动召回", Kind.ORDERED: "责令召回"}


class RecallIn(BaseModel):
    """``POST /api/v1/recalls``: which lot, how serious, why."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "gtin": "06901234567892",
                    "lot_code": "20260301A",
                    "level": 1,
                    "reason": "检出沙门氏菌",
                }
            ]
        },
    )

    gtin: Gtin
    lot_code: str = Field(pattern=LOT_CODE)
    level: Literal[1, 2, 3]
    reason: str = Field(min_length=1, max_length=500)


class ScopeLot(BaseModel):
    model_config = ConfigDict(extra="allow")

    gtin: str
    lot_code: str
    holder: str | None = None
    event_hash_id: str = Field(description="The recalled EPCIS event written for the lot")


class ScopeParty(BaseModel):
    model_config = ConfigDict(extra="allow")

    party_id: str
    received: list[dict[str, Any]] = Field(default_factory=list)


class Scope(BaseModel):
    """The downstream blast radius, in the shapes of a trace's lots and parties."""

    lots: list[ScopeLot]
    parties: list[ScopeParty]


class OpenBody(BaseModel):
    """``recall.open``: the case, its clocks' level and the scope it fixed."""

    model_config = ConfigDict(extra="forbid")

    recall_id: RecallId
    gtin: Gtin
    lot_code: str = Field(pattern=LOT_CODE)
    level: Literal[1, 2, 3]
    reason: str = Field(min_length=1, max_length=500)
    kind: Kind
    scope: Scope


class AckBody(BaseModel):
    """``recall.ack``: an affected party has stopped selling and started recalling."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{}]})

    recall_id: RecallId


class ReportItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    gtin: Gtin
    lot_code: str = Field(pattern=LOT_CODE)
    recovered: Quantity = 0
    destroyed: Quantity = 0
    uom: str | None = Field(None, max_length=16)


class ReportBody(BaseModel):
    """``recall.report``: quantities recovered or destroyed since the last report;
    ``final`` when the party is done."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        {
                            "gtin": "06901234567892",
                            "lot_code": "20260301A",
                            "recovered": 120,
                            "destroyed": 30,
                            "uom": "KGM",
                        }
                    ],
                    "final": True,
                }
            ]
        },
    )

    recall_id: RecallId
    items: list[ReportItem] = Field(min_length=1, max_length=100)
    final: bool = False


class CloseBody(BaseModel):
    """``recall.close``: a regulator's sign-off."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"note": "召回完成,现场核查无误"}]}
    )

    recall_id: RecallId
    note: str = Field("", max_length=1000)


class PartyProgressOut(BaseModel):
    party_id: str
    name: str | None
    received: dict[str, float]
    recovered: dict[str, float]
    destroyed: dict[str, float]
    acknowledged_at: datetime | None
    finished_at: datetime | None
    start_overdue: bool
    done_overdue: bool


class ProgressOut(BaseModel):
    acknowledged: int
    parties: int
    acknowledged_pct: float
    recovered: dict[str, float] = Field(description="Recovered or destroyed, per unit")
    shipped: dict[str, float] = Field(description="Received by affected parties, per unit")
    overdue_parties: list[str]


class RecallOut(BaseModel):
    id: str
    gtin: str
    lot_code: str
    level: int
    level_label: str
    reason: str
    kind: Kind
    initiator: str
    status: Literal["open", "closed"]
    opened_at: datetime
    start_due: datetime
    done_due: datetime
    overdue: bool
    closed_at: datetime | None
    closed_by: str | None
    close_note: str | None
    scope: Scope
    progress: ProgressOut
    parties: list[PartyProgressOut]
    entry_index: int
    close_entry_index: int | None
