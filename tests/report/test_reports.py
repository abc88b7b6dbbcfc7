"""Lab reports: the PDF stored content-addressed, its hash in the signed entry, and the
download refusing a file altered on disk."""

from __future__ import annotations

import hashlib
from typing import Any

from recordharness import TEST_PREFIX, Actor, Env, assert_problem, gtin, lab_gln, pointers, sample

from foodtrace.report import blobs

PDF = b"%PDF-1.4\n1 0 obj << >> endobj\n%%EOF\n"


def _report(pdf_sha: str, **over: Any) -> dict[str, Any]:
    return {
        "report_number": "SHJC-2026-0001",
        "subject": {"kind": "lot", "gtin": gtin(3), "lot_code": "L1"},
        "tested_on": "2026-03-02",
        "items": [
            {
                "name": "毒死蜱",
                "value": "0.02",
                "limit": "≤0.05",
                "unit": "mg/kg",
                "standard": "GB 2763-2021",
                "result": "pass",
            },
            {"name": "铅", "value": "未检出", "standard": "GB 2762-2022", "result": "pass"},
        ],
        "conclusion": "pass",
        "pdf_sha256": pdf_sha,
        "pdf_size": len(PDF),
        **over,
    }


def _setup(env: Env) -> tuple[Actor, str]:
    producer = env.add_party("producer", custodial=True, prefixes=(TEST_PREFIX,))
    number = lab_gln()
    lab = env.add_party("lab", details={"gln": number})
    assert (
        producer.post(
            "/api/v1/products", "product.register", {"gtin": gtin(3), "name": "青菜"}
        ).status_code
        == 201
    )
    lot = {
        "gtin": gtin(3),
        "lot_code": "L1",
        "production_date": "2026-03-01",
        "quantity": 50,
        "unit": "kg",
    }
    assert producer.post("/api/v1/lots", "lot.create", lot).status_code == 201
    sample(env, producer, number, gtin(3), "L1", "2026-03-02T09:00:00+08:00")  # commissions it
    r = env.client.post(
        "/api/v1/blobs", content=PDF, headers={**lab.headers, "content-type": "application/pdf"}
    )
    assert r.status_code == 201
    assert r.json() == {"sha256": hashlib.sha256(PDF).hexdigest(), "size": len(PDF)}
    return lab, r.json()["sha256"]


def test_report_round_trip_and_pdf_download(env: Env) -> None:
    lab, sha = _setup(env)
    r = lab.post("/api/v1/reports", "report.issue", _report(sha))
    assert r.status_code == 201, r.text
    assert r.json()["proof"]["entry"]["body"]["pdf_sha256"] == sha
    got = env.client.get("/api/v1/reports/SHJC-2026-0001").json()
    assert got["record"]["conclusion"] == "pass" and len(got["record"]["items"]) == 2
    pdf = env.client.get("/api/v1/reports/SHJC-2026-0001/pdf")
    assert pdf.status_code == 200 and pdf.content == PDF
    assert pdf.headers["content-type"] == "application/pdf"
    assert len(env.client.get(f"/api/v1/lots/{gtin(3)}/L1/reports").json()) == 1
    blobs.blob_path(env.settings.data_dir, sha).write_bytes(PDF + b"tampered")
    assert_problem(env.client.get("/api/v1/reports/SHJC-2026-0001/pdf"), 500)


def test_inconsistent_report_and_missing_pdf_are_refused(env: Env) -> None:
    lab, sha = _setup(env)
    before = env.snapshot()
    r = lab.post(
        "/api/v1/reports", "report.issue", _report(sha, conclusion="fail", subject={"kind": "shop"})
    )
    assert_problem(r, 422)
    assert {"/body/entry/body/subject"} <= pointers(r)
    r = lab.post("/api/v1/reports", "report.issue", _report("0" * 64))
    assert_problem(r, 422)
    assert pointers(r) == {"/body/entry/body/pdf_sha256"}
    r = lab.post(
        "/api/v1/reports",
        "report.issue",
        _report(sha, subject={"kind": "lot", "gtin": gtin(3), "lot_code": "NOPE"}),
    )
    assert_problem(r, 422)
    assert pointers(r) == {"/body/entry/body/subject"}
    assert env.snapshot() == before
