"""What the scan API returns."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class SuspectOut(BaseModel):
    code_key: str
    kind: str
    code_text: str
    scans: int
    places: int
    reason: str | None
    first_at: datetime
    last_at: datetime
    flagged_at: datetime | None


class ClearedOut(BaseModel):
    """A cleared flag: which code, when, by whom, and the entry that says so."""

    code_key: str
    code_text: str
    cleared_at: datetime
    cleared_by: str
    entry_index: int
