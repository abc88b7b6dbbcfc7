"""The CLI: bootstrap the first regulator, then a producer signs with its key file and
posts through the API (the HTTP client is routed into the test app)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
import typer
from recordharness import TEST_PREFIX, Env, gtin, lab_gln, sample
from typer.testing import CliRunner

from foodtrace.record.commands import register
from foodtrace.store.db import migrate
from foodtrace.trace import keys

API = "http://ft.test"


@pytest.fixture
def cli() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


def test_init_regulator_prints_token_once_and_refuses_a_second(
    cli: typer.Typer, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    migrate(db_url, "heads")
    monkeypatch.setenv("FOODTRACE_DATA_DIR", str(tmp_path))
    args = [
        "init-regulator",
        "--party",
        "gov",
        "--name",
        "市监局",
        "--credit-code",
        "91310115MA1K4FXX27",
        "--key",
        str(tmp_path / "gov.key"),
        "--db",
        db_url,
    ]
    r = CliRunner().invoke(cli, args)
    assert r.exit_code == 0, r.output
    assert re.search(r"API token  ft_\S+", r.output)
    assert (tmp_path / "gov.key").stat().st_mode & 0o777 == 0o600
    args[-3] = str(tmp_path / "gov2.key")
    again = CliRunner().invoke(cli, args)
    assert again.exit_code == 1 and "already registered" in again.output


def test_producer_commands_sign_and_post(
    cli: typer.Typer, env: Env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def route(method: str, url: str, **kw: Any) -> httpx.Response:
        kw.pop("timeout", None)
        return env.client.request(method, url.removeprefix(API), **kw)

    monkeypatch.setattr(httpx, "request", route)
    producer = env.add_party("producer", prefixes=(TEST_PREFIX,))
    number = lab_gln()
    lab = env.add_party("lab", details={"gln": number})
    assert producer.key is not None and lab.key is not None
    pkey, lkey = tmp_path / "p.key", tmp_path / "l.key"
    keys.write_private(pkey, producer.key)
    keys.write_private(lkey, lab.key)
    common = [
        "--api",
        API,
        "--token",
        producer.token,
        "--key",
        str(pkey),
        "--party",
        producer.party_id,
    ]
    r = CliRunner().invoke(cli, ["product", "register", "--gtin", gtin(5), "--name", "米", *common])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(
        cli,
        [
            "product",
            "lot",
            "--gtin",
            gtin(5),
            "--lot",
            "A1",
            "--quantity",
            "3",
            "--unit",
            "袋",
            *common,
        ],
    )
    assert r.exit_code == 0, r.output
    bad = CliRunner().invoke(
        cli,
        [
            "product",
            "lot",
            "--gtin",
            gtin(6),
            "--lot",
            "A1",
            "--quantity",
            "3",
            "--unit",
            "袋",
            *common,
        ],
    )
    assert bad.exit_code == 1 and "/body/entry/body/gtin" in bad.output

    report = tmp_path / "report.json"
    report.write_text(
        json.dumps(
            {
                "report_number": "CLI-1",
                "subject": {"kind": "lot", "gtin": gtin(5), "lot_code": "A1"},
                "tested_on": "2026-03-02",
                "items": [
                    {"name": "铅", "value": "未检出", "standard": "GB 2762-2022", "result": "pass"}
                ],
                "conclusion": "pass",
            },
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    pdf = tmp_path / "r.pdf"
    pdf.write_bytes(b"%PDF-1.4 cli\n%%EOF\n")
    sampler = env.add_party("inspector", custodial=True)  # 监督抽检 commissions the lab
    sample(env, sampler, number, gtin(5), "A1", "2026-03-02T09:00:00+08:00")
    lab_args = ["--api", API, "--token", lab.token, "--key", str(lkey), "--party", lab.party_id]
    r = CliRunner().invoke(cli, ["report", "upload", str(report), "--pdf", str(pdf), *lab_args])
    assert r.exit_code == 0, r.output
    assert env.client.get("/api/v1/reports/CLI-1/pdf").content == pdf.read_bytes()
