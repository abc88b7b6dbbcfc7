"""Bodies of ``draw.commit`` and ``draw.result``, and what draw reads return."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from foodtrace.inspection.schemas import Grade, PartyId

DrawId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.:-]{1,64}$")]
MAX_CANDIDATES = 1000  # the commitment lists them all and must fit in one entry (64 KiB)


class Rule(BaseModel):
    """Which businesses are candidates: current grade in ``grades``, kind in ``kinds``, and
    ``region`` if given (empty lists: any)."""

    model_config = ConfigDict(extra="forbid")

    grades: list[Grade] = Field(default_factory=list, max_length=4)
    kinds: list[Annotated[str, Field(max_length=16)]] = Field(default_factory=list, max_length=10)
    region: str | None = Field(default=None, max_length=100)


class Candidate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    party_id: PartyId
    grade: Grade


class DrawRequest(BaseModel):
    """What a regulator asks for; the server turns it into the full ``draw.commit`` body."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "draw_id": "SSJ-2026-12",
                    "period": "2026-12",
                    "rule": {"kinds": ["restaurant"]},
                    "merchants_count": 5,
                    "inspectors_per_merchant": 2,
                    "blocks_ahead": 2,
                }
            ]
        },
    )

    draw_id: DrawId
    period: str = Field(min_length=1, max_length=32)
    rule: Rule = Field(default_factory=Rule)
    merchants_count: int = Field(ge=1, le=MAX_CANDIDATES)
    inspectors_per_merchant: int = Field(default=2, ge=1, le=10)
    blocks_ahead: int = Field(default=2, ge=1, le=10_000)


class DrawCommitBody(BaseModel):
    """``draw.commit``: everything the draw depends on except the seed, which will be the
    hash of ``block_number`` on chain ``chain_id`` (a block that does not exist yet)."""

    model_config = ConfigDict(extra="forbid")

    draw_id: DrawId
    period: str = Field(min_length=1, max_length=32)
    rule: Rule
    prng: str = Field(pattern=r"^foodtrace-draw-v1$")
    policy_version: str = Field(max_length=32)
    weights: dict[str, int]
    candidates: list[Candidate] = Field(max_length=MAX_CANDIDATES)
    inspectors: list[PartyId] = Field(max_length=MAX_CANDIDATES)
    merchants_count: int = Field(ge=1, le=MAX_CANDIDATES)
    inspectors_per_merchant: int = Field(ge=1, le=10)
    chain_id: int
    block_number: int = Field(ge=0)


class PickOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    party_id: str
    grade: Grade
    inspectors: list[str]


class DrawResultBody(BaseModel):
    """``draw.result``: the seed block and the draw it gives (the projector re-runs it)."""

    model_config = ConfigDict(extra="forbid")

    draw_id: DrawId
    commit_entry_index: int = Field(ge=0)
    block_number: int = Field(ge=0)
    block_hash: str = Field(pattern=r"^0x[0-9a-f]{64}$")
    block_timestamp: int
    merchants: list[PickOut]


class DrawOut(BaseModel):
    """A published draw: its commitment, and its result once the seed block exists."""

    draw_id: str
    period: str
    commit_entry_index: int
    committed_by: str
    commitment: dict[str, Any]
    result_entry_index: int | None
    result: dict[str, Any] | None
