"""The FSMA 204 sortable spreadsheet: one row per KDE set of each Critical Tracking Event,
the same rows as CSV and XLSX, golden for a raw lot and a transformed one, date ranges."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from fsmachain import CUCUMBER, SALAD, Chain
from openpyxl import load_workbook
from recordharness import assert_problem

from foodtrace.fsma import kde

UPDATE_GOLDEN = False  # set True once to rewrite the golden files, then check them by hand


def _csv_rows(content: bytes) -> list[dict[str, str]]:
    assert content.startswith("\ufeff".encode())
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))


def _golden(testdata: Path, name: str, content: bytes) -> None:
    path = testdata / "fsma" / name
    if UPDATE_GOLDEN:
        path.write_bytes(content)
    assert content.decode("utf-8-sig") == path.read_bytes().decode("utf-8-sig")


@pytest.mark.parametrize(
    ("gtin", "lot", "golden"),
    [(CUCUMBER, "C-1120", "cucumber.csv"), (SALAD, "S-1121", "salad.csv")],
)
def test_lot_sheet_matches_golden(
    chain: Chain, testdata: Path, gtin: str, lot: str, golden: str
) -> None:
    r = chain.env.client.get(f"/api/v1/lots/{gtin}/{lot}/fsma204.csv")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
    assert f'filename="fsma204-{gtin}-{lot}.csv"' in r.headers["content-disposition"]
    rows = _csv_rows(r.content)
    assert list(rows[0]) == list(kde.COLUMNS)
    _golden(testdata, golden, r.content)


def test_raw_lot_has_its_ctes_in_order(chain: Chain) -> None:
    rows = _csv_rows(chain.env.client.get(f"/api/v1/lots/{CUCUMBER}/C-1120/fsma204.csv").content)
    assert [r["Critical Tracking Event"] for r in rows] == [
        "Initial Packing",
        "Cooling",
        "Shipping",
        "Receiving",
        "Transformation",
    ]  # transporting is no CTE
    shipping = rows[2]
    assert shipping["Reference Document Type"] == "Bill of Lading"
    assert shipping["Reference Document Number"] == "urn:foodtrace:bol:SG-BOL-0001"
    assert shipping["Immediate Subsequent Recipient Location"].startswith("潍坊鲜达净菜加工厂")
    assert rows[3]["Immediate Previous Source Location"].startswith("寿光绿野蔬菜合作社")
    assert rows[3]["Reference Document Type"] == kde.LOG_REFERENCE
    assert {r["Traceability Lot Code Source"] for r in rows[:4]} == {
        "寿光绿野蔬菜合作社, 山东省寿光市洛城街道18号"
    }
    transformation = rows[4]
    assert transformation["Traceability Lot Code"] == "S-1121"
    assert transformation["Input Traceability Lot Codes"] == "C-1120 (200 KGM); T-1120 (100 KGM)"


def test_xlsx_holds_the_same_rows(chain: Chain) -> None:
    base = f"/api/v1/lots/{SALAD}/S-1121/fsma204"
    as_csv = _csv_rows(chain.env.client.get(base + ".csv").content)
    r = chain.env.client.get(base + ".xlsx")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(r.content)).active
    assert sheet is not None
    values = list(sheet.iter_rows(values_only=True))
    assert list(values[0]) == list(kde.COLUMNS)
    assert sheet.auto_filter.ref == f"A1:S{len(values)}"
    assert sheet.freeze_panes == "A2"
    for got, want in zip(values[1:], as_csv, strict=True):
        assert ["" if v is None else str(v) for v in got] == list(want.values())
    quantity = kde.COLUMNS.index("Quantity")
    assert all(isinstance(row[quantity], int | float) for row in values[1:])


def test_date_ranges(chain: Chain) -> None:
    client = chain.env.client
    day = _csv_rows(
        client.get(
            f"/api/v1/lots/{CUCUMBER}/C-1120/fsma204.csv",
            params={"start": "2026-11-21", "end": "2026-11-21"},
        ).content
    )
    assert [r["Critical Tracking Event"] for r in day] == ["Transformation"]
    everything = _csv_rows(
        client.get(
            "/api/v1/fsma204.csv", params={"start": "2026-11-20", "end": "2026-11-22"}
        ).content
    )
    # 2 lots x (packing, shipping, receiving) + cooling + transformation + salad ship/receive
    assert len(everything) == 10
    assert {r["Traceability Lot Code"] for r in everything} == {"C-1120", "T-1120", "S-1121"}
    first_day = _csv_rows(
        client.get(
            "/api/v1/fsma204.csv", params={"start": "2026-11-22", "end": "2026-11-22"}
        ).content
    )
    assert [(r["Critical Tracking Event"], r["Traceability Lot Code"]) for r in first_day] == [
        ("Receiving", "S-1121")
    ]
    r = client.get("/api/v1/fsma204.csv", params={"start": "2026-11-22", "end": "2026-11-20"})
    assert_problem(r, 422)
    r = client.get("/api/v1/fsma204.csv", params={"start": "2026-11-22"})
    assert r.status_code == 422
    r = client.get(f"/api/v1/lots/{CUCUMBER}/NOPE/fsma204.csv")
    assert_problem(r, 404)
    assert client.get(f"/api/v1/lots/{CUCUMBER}/C-1120/fsma204.pdf").status_code == 422


@pytest.mark.parametrize(
    ("event_type", "step", "cte"),
    [
        ("ObjectEvent", "commissioning", "Initial Packing"),
        ("ObjectEvent", "urn:epcglobal:cbv:bizstep:shipping", "Shipping"),
        ("ObjectEvent", "https://ref.gs1.org/cbv/BizStep-receiving", "Receiving"),
        ("ObjectEvent", "https://example.com/voc/BizStep-harvesting", "Harvesting"),
        (
            "ObjectEvent",
            "urn:foodtrace:bizstep:first_land_based_receiving",
            "First Land-Based Receiving",
        ),
        ("TransformationEvent", None, "Transformation"),
        ("ObjectEvent", "transporting", None),
        ("ObjectEvent", "urn:foodtrace:bizstep:recalling", None),
        ("ObjectEvent", None, None),
    ],
)
def test_cbv_steps_map_to_ctes(event_type: str, step: str | None, cte: str | None) -> None:
    assert kde.cte_of(event_type, step) == cte


def test_upstream_adds_the_lots_it_was_made_from(chain: Chain) -> None:
    base = f"/api/v1/lots/{SALAD}/S-1121/fsma204.csv"
    own = _csv_rows(chain.env.client.get(base).content)
    both = _csv_rows(chain.env.client.get(base, params={"upstream": "true"}).content)
    assert {r["Traceability Lot Code"] for r in own} == {"S-1121"}
    assert {r["Traceability Lot Code"] for r in both} == {"S-1121", "C-1120", "T-1120"}
    # each event once, in time order: the ingredients' packing comes first
    assert both[0]["Critical Tracking Event"] == "Initial Packing"
    assert len({(r["Event ID"], r["Traceability Lot Code"]) for r in both}) == len(both)
    assert [r for r in both if r["Traceability Lot Code"] == "S-1121"] == own
