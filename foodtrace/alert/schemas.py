"""The ``alert.escalate`` entry's body and what alert reads return."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from foodtrace.alert.rules import Kind, Step

ESCALATE_EXAMPLE: dict[str, Any] = {
    "party_id": "res-91310115MA1K4FAA1A",
    "step": "提醒",
    "kinds": ["licence_expiring"],
    "at": "2026-03-05T09:00:00Z",
}


class EscalateBody(BaseModel):
    """``alert.escalate`` (signed by the platform): a step of the ladder for a business."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [ESCALATE_EXAMPLE]})

    party_id: str = Field(pattern=r"^[A-Za-z0-9_.:-]{1,128}$")
    step: Step
    kinds: list[Kind] = Field(min_length=1, max_length=len(Kind))
    at: datetime


class AlertOut(BaseModel):
    kind: Kind
    party_id: str | None = Field(description="the business it is about, when known")
    grid_id: str | None
    subject: str
    detail: str
    since: datetime | date | None


class EscalationOut(BaseModel):
    entry_index: int
    party_id: str
    step: Step
    kinds: list[Kind]
    at: datetime


class PartyAlertsOut(BaseModel):
    """What a business sees about itself: its open alerts and the steps it was put on."""

    party_id: str
    alerts: list[AlertOut]
    escalations: list[EscalationOut]
