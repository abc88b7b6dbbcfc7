"""The body of a ``prefix.assign`` entry and what reads return."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from foodtrace.prefix.rules import PREFIX_PATTERN


class PrefixBody(BaseModel):
    """``prefix.assign``: a regulator assigns a GS1 company prefix to a party."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"party_id": "91310115MA1K4FXX2B", "prefix": "6901234"}]},
    )

    party_id: str = Field(min_length=1, max_length=128, description="The party it is assigned to")
    prefix: str = Field(pattern=PREFIX_PATTERN, description="GS1 company prefix, 4-12 digits")


class PrefixOut(BaseModel):
    prefix: str
    party_id: str
    assigned_by: str
    entry_index: int
