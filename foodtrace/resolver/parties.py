"""A party as a page shows it (name, credit code, kind, where), read through the party
service; and a test report with its lab's name."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import quote

from sqlalchemy.orm import Session

from foodtrace.party import service as parties
from foodtrace.party.models import Party
from foodtrace.report.models import Report
from foodtrace.resolver.display import Fact, fact


@dataclass
class PartyView:
    party_id: str
    rec: int
    name: Fact
    credit_code: Fact
    kind: Fact
    region: Fact | None
    address: Fact | None


def party_view(row: Party) -> PartyView:
    i = row.entry_index
    return PartyView(
        row.party_id,
        i,
        fact(i, "/body/name", row.name),
        fact(i, "/body/credit_code", row.credit_code),
        fact(i, "/body/kind", row.kind, "party_kind"),
        fact(i, "/body/region", row.region) if row.region else None,
        fact(i, "/body/address", row.address) if row.address else None,
    )


def party_names(session: Session, ids: Iterable[str]) -> dict[str, PartyView]:
    """The page views of these parties, by id (one query)."""
    return {r.party_id: party_view(r) for r in parties.parties_by_id(session, ids)}


@dataclass
class ReportItemView:
    name: Fact
    value: Fact
    limit: Fact
    unit: Fact
    result: Fact


@dataclass
class ReportView:
    number: Fact
    lab: Fact | None
    tested_on: Fact
    conclusion: Fact
    passed: bool
    items: list[ReportItemView]
    pdf_url: str
    subject: str


def report_view(row: Report, labs: dict[str, PartyView], subject: str = "") -> ReportView:
    i = row.entry_index
    items = []
    for k, item in enumerate(row.items):
        p = f"/body/items/{k}"
        items.append(
            ReportItemView(
                fact(i, f"{p}/name", item.get("name")),
                fact(i, f"{p}/value", item.get("value")),
                fact(i, f"{p}/limit", item.get("limit")),
                fact(i, f"{p}/unit", item.get("unit")),
                fact(i, f"{p}/result", item.get("result"), "conclusion"),
            )
        )
    lab = labs.get(row.lab)
    return ReportView(
        fact(i, "/body/report_number", row.report_number),
        lab.name if lab else None,
        fact(i, "/body/tested_on", row.tested_on),
        fact(i, "/body/conclusion", row.conclusion, "conclusion"),
        row.conclusion == "pass",
        items,
        f"/api/v1/reports/{quote(row.report_number, safe='')}/pdf",
        subject,
    )
