"""A recall's scope as a spreadsheet: one row per affected lot, then one per affected party
with what it received and has reported (CSV in one table, XLSX in two sheets)."""

from __future__ import annotations

from typing import Any, Final

from foodtrace.fsma.sheet import to_csv, workbook
from foodtrace.recall.schemas import RecallOut

LOT_COLUMNS: Final = ("Type", "GTIN", "Lot Code", "Depth", "Holder", "Quantity", "Unit",
                      "Recalled Event")  # fmt: skip
PARTY_COLUMNS: Final = ("Type", "Party", "Name", "Received", "Acknowledged At", "Recovered",
                        "Destroyed", "Finished At", "Overdue")  # fmt: skip
CSV_COLUMNS: Final = tuple(dict.fromkeys((*LOT_COLUMNS, *PARTY_COLUMNS)))


def _units(values: dict[str, float]) -> str:
    return "; ".join(f"{q:g} {u}".strip() for u, q in sorted(values.items()))


def lot_rows(case: RecallOut) -> list[dict[str, Any]]:
    out = []
    for lot in case.scope.lots:
        extra = lot.model_extra or {}
        out.append(
            {
                "Type": "lot",
                "GTIN": lot.gtin,
                "Lot Code": lot.lot_code,
                "Depth": extra.get("depth"),
                "Holder": lot.holder or "",
                "Quantity": extra.get("quantity"),
                "Unit": extra.get("unit") or "",
                "Recalled Event": lot.event_hash_id,
            }
        )
    return out


def party_rows(case: RecallOut) -> list[dict[str, Any]]:
    return [
        {
            "Type": "party",
            "Party": p.party_id,
            "Name": p.name or "",
            "Received": _units(p.received),
            "Acknowledged At": p.acknowledged_at.isoformat() if p.acknowledged_at else "",
            "Recovered": _units(p.recovered),
            "Destroyed": _units(p.destroyed),
            "Finished At": p.finished_at.isoformat() if p.finished_at else "",
            "Overdue": "yes" if p.start_overdue or p.done_overdue else "no",
        }
        for p in case.parties
    ]


def scope_csv(case: RecallOut) -> bytes:
    return to_csv([*lot_rows(case), *party_rows(case)], CSV_COLUMNS)


def scope_xlsx(case: RecallOut) -> bytes:
    return workbook(
        [
            ("Lots 批次", LOT_COLUMNS, lot_rows(case)),
            ("Parties 企业", PARTY_COLUMNS, party_rows(case)),
        ]
    )
