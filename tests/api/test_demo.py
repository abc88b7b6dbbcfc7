"""``foodtrace demo``: seeds once through the API, anchors, writes QR codes a scanner accepts.

One seeding (module fixture, ~5 s) serves every check; the checks read through the API as
any client would, and verify proofs and codes with the pure core.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine
from typer.testing import CliRunner

from foodtrace import demo
from foodtrace.api.app import create_app
from foodtrace.cli import app as cli_app
from foodtrace.ledger.anchorer import journal
from foodtrace.scanner.decode import decode_image
from foodtrace.trace import bundle, codes, keys
from foodtrace.trace.errors import SignatureError

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    data_dir = tmp_path_factory.mktemp("demo") / "var"
    result = CliRunner().invoke(
        cli_app, ["demo", "--no-serve", "--data-dir", str(data_dir), "--port", "8123"]
    )
    assert result.exit_code == 0, result.output
    return data_dir, result.output


@pytest.fixture(scope="module")
def client(seeded: tuple[Path, str]) -> Iterator[TestClient]:
    settings = demo.demo_settings(seeded[0], 8123)
    with TestClient(create_app(settings)) as c:
        yield c


def _today(data_dir: Path) -> Any:
    import json
    from datetime import date

    return date.fromisoformat(json.loads((data_dir / demo.STATE_FILE).read_text())["seeded_on"])


def test_demo_identifiers_have_valid_check_characters() -> None:
    from stdnum import ean
    from stdnum.cn import uscc

    for p in (demo.REGULATOR, *demo.PARTIES):
        assert uscc.is_valid(p.credit_code), p
        assert ean.is_valid(p.gln), p
    for gtin in (demo.CUCUMBER, demo.TOMATO, demo.SALAD):
        assert ean.is_valid(gtin)


def test_prints_where_to_look(seeded: tuple[Path, str]) -> None:
    data_dir, output = seeded
    assert "FoodTrace demo seeded" in output
    assert "http://127.0.0.1:8123/docs" in output
    assert "http://127.0.0.1:8123/api/v1/records/0" in output
    assert "foodtrace.example/log+" in output  # the verifier key
    assert "contract (embedded) 0x" in output
    assert str(data_dir / "qr" / "merchant-restaurant.png") in output


def test_lots_and_the_recall_are_recorded(seeded: tuple[Path, str], client: TestClient) -> None:
    today = _today(seeded[0])
    cucumber, tomato, salad = demo.lots(today)
    for lot in (cucumber, tomato, salad):
        r = client.get(f"/api/v1/lots/{lot.gtin}/{lot.lot_code}")
        assert r.status_code == 200, r.text
        assert r.json()["record"]["producer"] == demo.BY_KEY[lot.producer].credit_code
    events = client.get(f"/epcis/lots/{tomato.lot_code}").json()["epcisBody"]["eventList"]
    assert [e.get("disposition") for e in events][-1] == "recalled"
    salad_events = client.get(f"/epcis/lots/{salad.lot_code}").json()["epcisBody"]["eventList"]
    kinds = {e["type"] for e in salad_events}
    assert kinds == {"ObjectEvent", "TransformationEvent"}
    readings = [
        report["value"]
        for e in salad_events
        for element in e.get("sensorElementList", [])
        for report in element["sensorReport"]
        if report["type"] == "Temperature"
    ]
    assert max(readings) > 8 > min(readings)  # the cold-chain excursion is there
    shipped = client.get("/epcis/events", params={"EQ_bizStep": "shipping"})
    assert shipped.status_code == 200
    assert len(shipped.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]) == 2


def test_restaurant_records_and_a_proof_that_verifies(
    seeded: tuple[Path, str], client: TestClient
) -> None:
    today = _today(seeded[0])
    rest = demo.BY_KEY["restaurant"].credit_code
    party = client.get(f"/api/v1/parties/{rest}").json()
    assert party["record"]["kind"] == "restaurant"
    licences = {x["record"]["kind"] for x in client.get(f"/api/v1/parties/{rest}/licences").json()}
    assert licences == {"business", "food_business"}
    inspections = client.get(f"/api/v1/parties/{rest}/inspections").json()
    assert [i["record"]["result"] for i in inspections] == ["合格"]
    grades = client.get(f"/api/v1/parties/{rest}/grades").json()
    assert [g["record"]["grade"] for g in grades] == ["A"]
    certs = client.get(f"/api/v1/parties/{rest}/health-certificates").json()
    assert len(certs) == 1
    cucumber = demo.lots(today)[0]
    reports = client.get(f"/api/v1/lots/{cucumber.gtin}/{cucumber.lot_code}/reports").json()
    assert [r["record"]["conclusion"] for r in reports] == ["pass"]
    pdf = client.get(reports[0]["record"]["pdf_url"])
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")

    proof = party["proof"]
    verified = bundle.from_text(proof["bundle"]).verify(
        bytes.fromhex(proof["leaf_hash"]), [proof["verifier_key"]]
    )
    assert verified.size >= party["entry_index"] + 1


def test_the_log_is_anchored(seeded: tuple[Path, str], client: TestClient) -> None:
    settings = demo.demo_settings(seeded[0], 8123)
    engine = create_engine(settings.resolved_database_url)
    try:
        anchors = journal(engine)
    finally:
        engine.dispose()
    assert anchors, "no anchor was journaled"
    deployment, anchor = anchors[-1]
    assert deployment.contract_address.startswith("0x")
    record = client.get(f"/api/v1/records/{anchor.tree_size - 1}")
    assert record.status_code == 200  # the anchored size covers every seeded entry


def test_qr_codes_decode_and_verify(seeded: tuple[Path, str]) -> None:
    data_dir = seeded[0]
    authority = keys.read_private(data_dir / demo.AUTHORITY_KEY_FILE).public_key()
    pngs = sorted((data_dir / "qr").glob("*.png"))
    assert len(pngs) == 4
    kinds = []
    for png in pngs:
        [found] = decode_image(png)
        code = codes.parse_code(found.text)
        codes.verify_code(code, [authority])
        kinds.append(code.kind)
        assert code.url in seeded[1]
    assert sorted(kinds) == ["lot", "lot", "lot", "merchant"]
    other = keys.generate().public_key()
    with pytest.raises(SignatureError):
        codes.verify_code(codes.parse_code(decode_image(pngs[0])[0].text), [other])


def test_second_run_skips_seeding(seeded: tuple[Path, str]) -> None:
    data_dir = seeded[0]
    result = CliRunner().invoke(
        cli_app, ["demo", "--no-serve", "--data-dir", str(data_dir), "--port", "8123"]
    )
    assert result.exit_code == 0, result.output
    assert "already seeded" in result.output
    size = [line for line in result.output.splitlines() if "log size" in line]
    assert size == [line for line in seeded[1].splitlines() if "log size" in line]
