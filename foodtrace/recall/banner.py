"""The recall banner on lot and merchant pages: each open case as facts of its
``recall.open`` entry, so the page's badge verifies the level and reason it shows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from foodtrace.complaint.service import find_merchant
from foodtrace.recall import service
from foodtrace.recall.models import Recall
from foodtrace.recall.schemas import LEVEL_LABELS
from foodtrace.resolver.display import Fact, fact


@dataclass(frozen=True)
class CaseBanner:
    id: Fact
    level: Fact
    level_label: str
    reason: Fact
    url: str
    closed: bool


def _banner(row: Recall) -> CaseBanner:
    i = row.entry_index
    return CaseBanner(
        fact(i, "/body/recall_id", row.recall_id),
        fact(i, "/body/level", row.level, by_value=True),
        LEVEL_LABELS[row.level],
        fact(i, "/body/reason", row.reason),
        f"/recalls/{row.recall_id}",
        row.closed_at is not None,
    )


def lot_cases(session: Session, gtin: str, lot_code: str) -> list[CaseBanner]:
    return [_banner(r) for r in service.lot_recalls(session, gtin, lot_code)]


def merchant_cases(session: Session, merchant_id: str) -> list[CaseBanner]:
    party = find_merchant(session, merchant_id)
    if party is None:
        return []
    return [_banner(r) for r in service.party_recalls(session, party.party_id)]


def records(cases: Sequence[CaseBanner]) -> list[int]:
    return sorted({c.id.rec for c in cases})
