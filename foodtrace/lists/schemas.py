"""What the red and black lists publish: who, why, since when, and the entries behind it."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import BaseModel


class ListKind(StrEnum):
    RED = "red"
    BLACK = "black"


LIST_TITLES = {ListKind.RED: "红名单（守信主体）", ListKind.BLACK: "黑名单（失信主体）"}


class ListReason(BaseModel):
    """One reason a business is on a list, the day it took effect and its entry."""

    reason: str
    on: date
    entry_index: int


class ListedParty(BaseModel):
    party_id: str
    name: str
    region: str | None
    grade: str | None
    since: date
    reasons: list[ListReason]


class ListOut(BaseModel):
    kind: ListKind
    title: str
    as_of: date
    policy_version: str
    parties: list[ListedParty]
