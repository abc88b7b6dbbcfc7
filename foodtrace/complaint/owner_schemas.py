"""Bodies of the entries that give a complaint owners (``complaint.confirm``,
``complaint.rate``, ``complaint.escalate``), and what their reads return."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from foodtrace.complaint.schemas import Stage

CONFIRM_EXAMPLE: dict[str, Any] = {
    "tracking_number": "TS-2026-7KQ2-M9XD",
    "capacity": "officer",
    "confirmed_at": "2026-03-05T10:20:00Z",
}


class Capacity(StrEnum):
    OFFICER = "officer"  # 所: the station's market-supervision officer
    GRID_WORKER = "grid_worker"  # 社: the community grid worker


class ConfirmBody(BaseModel):
    """``complaint.confirm``: the officer or the grid worker confirms it was handled."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [CONFIRM_EXAMPLE]})

    tracking_number: str = Field(max_length=24)
    capacity: Capacity
    confirmed_at: datetime


class RateBody(BaseModel):
    """``complaint.rate`` (signed by the platform): the complainant's rating, 1–5."""

    model_config = ConfigDict(extra="forbid")

    tracking_number: str = Field(max_length=24)
    rating: int = Field(ge=1, le=5)
    rated_at: datetime


class EscalateBody(BaseModel):
    """``complaint.escalate`` (signed by the platform): a clock ran out; to the station head."""

    model_config = ConfigDict(extra="forbid")

    tracking_number: str = Field(max_length=24)
    stage: Stage
    to: str = Field(max_length=128)
    due: datetime
    at: datetime


class RatingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rating: int = Field(ge=1, le=5, description="1 (very unsatisfied) to 5 (very satisfied)")


class RouteOut(BaseModel):
    """Who owns a complaint and how far its closing has got."""

    tracking_number: str
    grid_id: str
    officer: str
    grid_worker: str
    station_head: str
    officer_confirmed_at: datetime | None
    worker_confirmed_at: datetime | None
    rating: int | None
    closed: bool = Field(description="both confirmations and the complainant's rating")
    response_due: datetime
    feedback_due: datetime
    response_overdue: bool
    feedback_overdue: bool
    escalated: list[Stage]


class EscalationOut(BaseModel):
    tracking_number: str
    stage: Stage
    to: str
    entry_index: int
