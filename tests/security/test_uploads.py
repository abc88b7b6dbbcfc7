"""Uploads as an attacker tries them: wrong role, wrong type, too large, over quota. Each is
refused and stores nothing; unreferenced files are collected after the grace period only."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from recordharness import Env, assert_problem
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from foodtrace.auth import Principal, Role
from foodtrace.cli import app as cli
from foodtrace.report import uploads
from foodtrace.report.models import BlobUpload

PDF = b"%PDF-1.7\n1 0 obj << >> endobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
HTML = b"<html><script>alert(1)</script></html>"


def _files(env: Env) -> list[str]:
    root = env.settings.data_dir / "blobs"
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def _upload(env: Env, headers: dict[str, str], data: bytes, media_type: str):  # type: ignore[no-untyped-def]
    return env.client.post(
        "/api/v1/blobs", content=data, headers={**headers, "content-type": media_type}
    )


def test_each_role_uploads_only_what_its_records_name(env: Env) -> None:
    lab, inspector, shop = (env.add_party(k) for k in ("lab", "inspector", "producer"))
    assert _upload(env, lab.headers, PDF, "application/pdf").status_code == 201
    assert _upload(env, inspector.headers, PNG, "image/png").status_code == 201
    assert _upload(env, inspector.headers, JPEG, "image/jpeg").status_code == 201
    before, files = env.snapshot(), _files(env)
    refused = [
        (shop.headers, PDF, "application/pdf", 403),  # a shop writes no record naming a file
        (env.regulator.headers, PDF, "application/pdf", 403),
        (lab.headers, PNG, "image/png", 415),  # a lab's reports are PDFs
        (lab.headers, HTML, "application/pdf", 415),  # the bytes decide, not Content-Type
        (lab.headers, HTML, "text/html", 415),
        (lab.headers, PDF, "image/png", 415),  # a PDF declared as something else
        (inspector.headers, PDF, "application/pdf", 415),
        (lab.headers, b"", "application/pdf", 422),
        ({}, PDF, "application/pdf", 401),
    ]
    for headers, data, media_type, status in refused:
        r = _upload(env, headers, data, media_type)
        body = assert_problem(r, status)
        assert body["status"] == status
    assert env.snapshot() == before and _files(env) == files


def test_the_shopfront_rule_lets_a_regulator_store_an_image_and_nothing_else(env: Env) -> None:
    def accept(role: Role, data: bytes) -> uploads.Accepted:
        with Session(env.log.engine) as session, session.begin():
            return uploads.accept(
                session,
                env.settings,
                Principal("gov-sh", role, 0),
                data,
                None,
                uploaders=uploads.SHOPFRONT_PHOTO_UPLOADERS,
            )

    before, files = env.snapshot(), _files(env)
    for role, data, status in (
        (Role.REGULATOR, PDF, 415),
        (Role.REGULATOR, HTML, 415),
        (Role.INSPECTOR, PNG, 403),  # inspectors upload photos through their own rule
        (Role.LAB, PNG, 403),
        (Role.PRODUCER, JPEG, 403),
    ):
        with pytest.raises(uploads.UploadRefused) as refused:
            accept(role, data)
        assert refused.value.status == status, (role, refused.value.detail)
    assert env.snapshot() == before and _files(env) == files
    assert accept(Role.REGULATOR, JPEG).media_type == uploads.JPEG
    assert accept(Role.REGULATOR, PNG).media_type == uploads.PNG


def test_size_limit_and_per_party_quota(env: Env) -> None:
    env.settings.blob_max_bytes = 1024
    env.settings.blob_quota_bytes_per_party = 2048
    lab, other = env.add_party("lab"), env.add_party("lab")
    before, files = env.snapshot(), _files(env)
    r = _upload(env, lab.headers, PDF + b"x" * 1024, "application/pdf")
    assert_problem(r, 413)
    assert env.snapshot() == before and _files(env) == files

    first = PDF + b"a" * 900
    second = PDF + b"b" * 900
    assert _upload(env, lab.headers, first, "application/pdf").status_code == 201
    assert _upload(env, lab.headers, second, "application/pdf").status_code == 201
    assert _upload(env, lab.headers, first, "application/pdf").status_code == 201  # same file
    before, files = env.snapshot(), _files(env)
    r = _upload(env, lab.headers, PDF + b"c" * 900, "application/pdf")
    assert "quota" in assert_problem(r, 413)["title"].lower()
    assert env.snapshot() == before and _files(env) == files
    # the quota is per party: another lab still has all of its own
    assert _upload(env, other.headers, PDF + b"c" * 900, "application/pdf").status_code == 201


def test_a_report_must_name_a_pdf(env: Env) -> None:
    inspector, lab = env.add_party("inspector"), env.add_party("lab")
    r = _upload(env, inspector.headers, PNG, "image/png")
    assert r.status_code == 201
    assert not uploads.is_pdf(env.settings.data_dir, r.json()["sha256"])
    assert uploads.is_pdf(
        env.settings.data_dir, _upload(env, lab.headers, PDF, "application/pdf").json()["sha256"]
    )


def test_unreferenced_files_are_collected_after_the_grace_period(env: Env) -> None:
    lab, shop = env.add_party("lab"), env.add_party("producer", custodial=True)
    kept = PDF + b"named by a report"
    orphan = PDF + b"never named"
    sha_kept = _upload(env, lab.headers, kept, "application/pdf").json()["sha256"]
    sha_orphan = _upload(env, lab.headers, orphan, "application/pdf").json()["sha256"]
    report = {
        "report_number": "GC-1",
        "subject": {"kind": "party", "party_id": shop.party_id},
        "tested_on": "2026-03-01",
        "items": [{"name": "铅", "value": "未检出", "standard": "GB 2762-2022", "result": "pass"}],
        "conclusion": "pass",
        "pdf_sha256": sha_kept,
        "pdf_size": len(kept),
    }
    r = lab.post("/api/v1/reports", "report.issue", report)
    assert r.status_code == 201, r.text
    grace = timedelta(seconds=env.settings.blob_gc_grace_seconds)
    now = datetime.now(UTC)
    with Session(env.log.engine) as session, session.begin():
        assert uploads.collect_garbage(session, env.settings, now + grace / 2) == []
    assert len(_files(env)) == 2
    with Session(env.log.engine) as session, session.begin():
        assert uploads.collect_garbage(session, env.settings, now + grace * 2) == [sha_orphan]
    with Session(env.log.engine) as session:
        assert session.get(BlobUpload, (sha_orphan, lab.party_id)) is None
        assert session.get(BlobUpload, (sha_kept, lab.party_id)) is not None
    assert [f.rsplit("/", 1)[1] for f in _files(env)] == [sha_kept]
    assert env.client.get("/api/v1/reports/GC-1/pdf").content == kept


def test_gc_command_collects_untracked_old_files(
    env: Env,
    monkeypatch,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    lab = env.add_party("lab")
    fresh = _upload(env, lab.headers, PDF + b"fresh", "application/pdf").json()["sha256"]
    old_path = env.settings.data_dir / "blobs/sha256/ab" / ("ab" * 32)
    old_path.parent.mkdir(parents=True, exist_ok=True)
    old_path.write_bytes(PDF)
    a_week_ago = (datetime.now(UTC) - timedelta(days=7)).timestamp()
    os.utime(old_path, (a_week_ago, a_week_ago))
    monkeypatch.setenv("FOODTRACE_DATA_DIR", str(env.settings.data_dir))
    result = CliRunner().invoke(cli, ["blobs", "gc", "--db", env.settings.database_url])
    assert result.exit_code == 0, result.output
    assert "ab" * 32 in result.output and fresh not in result.output
    assert not old_path.exists()
    assert [f.rsplit("/", 1)[1] for f in _files(env)] == [fresh]
