"""Writing KDE rows as CSV and XLSX (bytes in memory: a sheet is at most a lot's history).

The CSV starts with a UTF-8 byte order mark so spreadsheet programs read the Chinese names
right; the XLSX has a bold, frozen header row with an autofilter, so it is sortable and
filterable as FDA asks, and keeps quantities as numbers.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from typing import Any

from foodtrace.fsma.kde import COLUMNS

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def to_csv(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] = COLUMNS) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({c: "" if row.get(c) is None else row.get(c) for c in columns})
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(
    rows: Sequence[Mapping[str, Any]], columns: Sequence[str] = COLUMNS, title: str = "FSMA 204"
) -> bytes:
    return workbook([(title, columns, rows)])


def workbook(sheets: Sequence[tuple[str, Sequence[str], Sequence[Mapping[str, Any]]]]) -> bytes:
    """An XLSX of ``(title, columns, rows)`` sheets, each with a frozen, filterable header.
    openpyxl is imported here, not at the top: it adds a second to every server start."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    first = book.active
    assert first is not None
    book.remove(first)
    for title, columns, rows in sheets:
        sheet = book.create_sheet(title[:31])
        sheet.append(list(columns))
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in rows:
            sheet.append([row.get(c) for c in columns])
        sheet.freeze_panes = "A2"
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{max(1, len(rows) + 1)}"
        for i, name in enumerate(columns, start=1):
            sheet.column_dimensions[get_column_letter(i)].width = max(12, min(40, len(name) + 2))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
