"""Bodies of ``grid.define`` and ``grid.assign``, and what grid reads return.

Who is who: the officer (所: the station's market-supervision officer) and the community grid
worker (社) are both parties registered with the kind ``inspector`` (tokens carry one of four
roles, and a grid worker checks, confirms and reports like an inspector); which of them is
which is the grid's business, and every complaint action is checked against it. The station
head, to whom overdue complaints escalate, is an inspector or regulator party.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

PartyId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.:-]{1,128}$")]
GridId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.:-]{1,64}$")]

GRID_EXAMPLE: dict[str, Any] = {
    "grid_id": "cm-chengqiao-01",
    "name": "城桥镇第一网格",
    "station": "城桥市场监管所",
    "officer": "ins-91310115MA1K4FXX2B",
    "grid_worker": "ins-91310115MA1K4FYY3C",
    "station_head": "ins-91310115MA1K4FZZ4D",
}
ASSIGN_EXAMPLE: dict[str, Any] = {
    "grid_id": "cm-chengqiao-01",
    "party_ids": ["res-91310115MA1K4FAA1A"],
}


class GridBody(BaseModel):
    """``grid.define`` (regulator): a new grid, or new owners for an existing one."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [GRID_EXAMPLE]})

    grid_id: GridId
    name: str = Field(min_length=1, max_length=200)
    station: str = Field(min_length=1, max_length=200)
    officer: PartyId
    grid_worker: PartyId
    station_head: PartyId


class AssignBody(BaseModel):
    """``grid.assign`` (regulator): put businesses in a grid (moving them from another)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [ASSIGN_EXAMPLE]})

    grid_id: GridId
    party_ids: list[PartyId] = Field(min_length=1, max_length=1000)


class GridOut(BaseModel):
    grid_id: str
    name: str
    station: str
    officer: str
    grid_worker: str
    station_head: str
    businesses: int
    entry_index: int


class GridBusinessOut(BaseModel):
    """One business of a grid, as the inspector's list shows it."""

    party_id: str
    name: str
    kind: str
    grade: str | None = Field(description="current credit grade A/B/C/D, if graded")
    face: str | None = Field(description="量化分级 face of the latest visit")
    last_inspected_on: date | None


class DashboardOut(BaseModel):
    """所社联动 figures of a grid's complaints."""

    grid_id: str
    name: str
    complaints: int
    handled: int = Field(description="closed: both confirmations and the complainant's rating")
    on_time: int = Field(description="answered within the response and feedback clocks")
    on_time_pct: float | None = Field(description="on time among those whose clocks ran out")
    rated: int
    satisfied: int = Field(description="rated 4 or 5 of 5")
    satisfaction_pct: float | None
    escalated: int
