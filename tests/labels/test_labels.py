"""Issuing codes: URLs, PNG, SVG and PDF from the API and the CLI decode back to codes that
verify under the authority key; serials are recorded with their lot."""

from __future__ import annotations

from pathlib import Path

from raster import pdf_pages, svg_to_image
from recordharness import TEST_PREFIX, Env, assert_problem, gtin
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from foodtrace.cli import app as cli
from foodtrace.labels.service import authority_key, lot_serials, serial_lot
from foodtrace.scanner.decode import decode_image
from foodtrace.trace.codes import CodeKind, parse_code, verify_code
from foodtrace.trace.keys import read_private

LOT = "2026-05A"


def _verified(env: Env, texts: list[str]) -> list[str]:
    """Each decoded QR text parsed and verified; their canonical URLs."""
    public = authority_key(env.settings).public_key()
    urls = []
    for text in texts:
        code = parse_code(text)
        verify_code(code, [public])
        urls.append(code.url)
    return urls


def _producer_with_lot(env: Env, n: int = 7):  # type: ignore[no-untyped-def]
    producer = env.add_party("producer", prefixes=(TEST_PREFIX,))
    r = producer.post("/api/v1/products", "product.register", {"gtin": gtin(n), "name": "寿光黄瓜"})
    assert r.status_code == 201, r.text
    lot = {
        "gtin": gtin(n),
        "lot_code": LOT,
        "production_date": "2026-05-01",
        "quantity": 500,
        "unit": "kg",
    }
    r = producer.post("/api/v1/lots", "lot.create", lot)
    assert r.status_code == 201, r.text
    return producer


def test_lot_code_json_png_svg_pdf(env: Env) -> None:
    producer = _producer_with_lot(env)
    url = f"/api/v1/codes/lots/{gtin(7)}/{LOT}"
    r = env.client.get(url, headers=producer.headers)
    assert r.status_code == 200, r.text
    info = r.json()
    assert info["kind"] == "lot" and info["url"].startswith(env.settings.public_base_url)
    assert f"/01/{gtin(7)}/10/{LOT}?s=" in info["url"]

    png = env.client.get(url, params={"format": "png"}, headers=producer.headers)
    assert png.headers["content-type"] == "image/png"
    assert _verified(env, [d.text for d in decode_image(png.content)]) == [info["url"]]

    svg = env.client.get(url, params={"format": "svg"}, headers=producer.headers)
    assert svg.headers["content-type"].startswith("image/svg+xml")
    assert _verified(env, [d.text for d in decode_image(svg_to_image(svg.content))]) == [
        info["url"]
    ]

    pdf = env.client.get(url, params={"format": "pdf"}, headers=producer.headers)
    assert pdf.content.startswith(b"%PDF-")
    [page] = pdf_pages(pdf.content)
    assert _verified(env, [d.text for d in decode_image(page)]) == [info["url"]]

    # another producer may not; a regulator may; unknown lots are 404; bad GTIN 422
    other = env.add_party("producer")
    assert_problem(env.client.get(url, headers=other.headers), 403)
    assert env.client.get(url, headers=env.regulator.headers).status_code == 200
    assert_problem(env.client.get(f"{url}X", headers=producer.headers), 404)
    r = env.client.get(f"/api/v1/codes/lots/12345/{LOT}", headers=producer.headers)
    assert "/path/gtin" in {e["pointer"] for e in assert_problem(r, 422)["errors"]}


def test_merchant_code_regulator_only(env: Env) -> None:
    shop = env.add_party("restaurant", name="北京朝阳小满餐厅")
    url = f"/api/v1/codes/merchants/{shop.party_id}"
    assert_problem(env.client.get(url, headers=shop.headers), 403)
    r = env.client.get(url, params={"format": "png"}, headers=env.regulator.headers)
    assert r.status_code == 200, r.text
    [url_decoded] = _verified(env, [d.text for d in decode_image(r.content)])
    info = env.client.get(url, headers=env.regulator.headers).json()
    assert url_decoded == info["url"] and info["kind"] == "merchant"
    assert info["name"] == "北京朝阳小满餐厅"


def test_serials_minted_recorded_and_printed(env: Env) -> None:
    producer = _producer_with_lot(env)
    base = f"/api/v1/codes/lots/{gtin(7)}/{LOT}/serials"
    r = env.client.post(base, json={"count": 20}, headers=producer.headers)
    assert r.status_code == 201, r.text
    codes = r.json()["codes"]
    assert len(codes) == 20 and len({c["url"] for c in codes}) == 20
    with Session(env.log.engine) as session:
        serials = lot_serials(session, gtin(7), LOT)
        assert len(serials) == 20
        issued = serial_lot(session, gtin(7), serials[0])
        assert issued is not None and issued.lot_code == LOT
        assert serial_lot(session, gtin(7), "NOT-ISSUED") is None
    for c in codes:
        code = parse_code(c["url"])
        assert code.kind is CodeKind.SERIAL

    pdf = env.client.get(base, params={"format": "pdf"}, headers=producer.headers)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    pages = pdf_pages(pdf.content)
    assert len(pages) == 2  # 18 labels a page
    decoded = [d.text for page in pages for d in decode_image(page, min_codes=18)]
    assert sorted(_verified(env, decoded)) == sorted(c["url"] for c in codes)

    assert_problem(env.client.post(base, json={"count": 0}, headers=producer.headers), 422)
    other = env.add_party("producer")
    assert_problem(env.client.post(base, json={"count": 1}, headers=other.headers), 403)

    # a mixed sheet by a regulator: a merchant, the lot and one serial
    shop = env.add_party("restaurant")
    serial = parse_code(codes[0]["url"]).subject
    sheet = {
        "codes": [
            {"party_id": shop.party_id},
            {"gtin": gtin(7), "lot": LOT},
            {"gtin": gtin(7), "serial": serial.serial},
        ]
    }
    r = env.client.post("/api/v1/codes/sheet", json=sheet, headers=env.regulator.headers)
    assert r.status_code == 200, r.text
    [page] = pdf_pages(r.content)
    kinds = sorted(
        parse_code(u).kind.value
        for u in _verified(env, [d.text for d in decode_image(page, min_codes=3)])
    )
    assert kinds == ["lot", "merchant", "serial"]
    # a producer may not put a merchant code on a sheet, nor an unknown serial
    r = env.client.post("/api/v1/codes/sheet", json=sheet, headers=producer.headers)
    assert_problem(r, 403)
    bad = {"codes": [{"gtin": gtin(7), "serial": "NOPE"}]}
    r = env.client.post("/api/v1/codes/sheet", json=bad, headers=producer.headers)
    assert_problem(r, 422)
    r = env.client.post(
        "/api/v1/codes/sheet", json={"codes": [{"gtin": gtin(7)}]}, headers=producer.headers
    )
    assert_problem(r, 422)


def test_cli_png_svg_pdf(tmp_path: Path, sqlite_url: str, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from foodtrace.store.db import migrate

    migrate(sqlite_url, "heads")
    monkeypatch.setenv("FOODTRACE_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("FOODTRACE_DATABASE_URL", sqlite_url)
    key_file = tmp_path / "authority.key"
    runner = CliRunner()
    common = ["--key", str(key_file), "--base-url", "https://ft.example.cn"]
    r = runner.invoke(
        cli, ["labels", "lot", "6901234100013", "L1", "--out", str(tmp_path / "lot.png"), *common]
    )
    assert r.exit_code == 0, r.output
    public = read_private(key_file).public_key()
    [d] = decode_image(tmp_path / "lot.png")
    verify_code(parse_code(d.text), [public])
    assert parse_code(d.text).url in r.stdout

    r = runner.invoke(
        cli,
        [
            "labels",
            "merchant",
            "91110105MA04G7WX3L",
            "--out",
            str(tmp_path / "m.svg"),
            "--name",
            "小满餐厅",
            *common,
        ],
    )
    assert r.exit_code == 0, r.output
    [d] = decode_image(svg_to_image((tmp_path / "m.svg").read_bytes()))
    verify_code(parse_code(d.text), [public])

    r = runner.invoke(
        cli,
        [
            "labels",
            "serials",
            "6901234100013",
            "--lot",
            "L1",
            "--count",
            "4",
            "--out",
            str(tmp_path / "s.pdf"),
            *common,
        ],
    )
    assert r.exit_code == 0, r.output
    [page] = pdf_pages((tmp_path / "s.pdf").read_bytes())
    found = decode_image(page, min_codes=4)
    assert len(found) == 4
    for d in found:
        verify_code(parse_code(d.text), [public])
    from foodtrace.store.db import make_engine

    engine = make_engine(sqlite_url)
    with Session(engine) as session:
        assert len(lot_serials(session, "06901234100013", "L1")) == 4
    engine.dispose()

    r = runner.invoke(
        cli, ["labels", "lot", "6901234100014", "L1", "--out", str(tmp_path / "x.png"), *common]
    )
    assert r.exit_code != 0 and "check digit" in r.output
    r = runner.invoke(
        cli,
        [
            "labels",
            "serials",
            "6901234100013",
            "--lot",
            "L1",
            "--count",
            "2",
            "--out",
            str(tmp_path / "x.png"),
            *common,
        ],
    )
    assert r.exit_code != 0
