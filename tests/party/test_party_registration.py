"""What a registration records beyond the ``parties`` row: the shopfront photo it names must
be a stored image (else 422 and nothing written), and a named photo outlives the upload
grace period while an unnamed one is collected; both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from recordharness import Env, assert_problem, credit_code
from sqlalchemy.orm import Session

from foodtrace.party.registration import Particulars, particulars
from foodtrace.party.schemas import Position
from foodtrace.report import uploads
from foodtrace.trace import keys

PDF = b"%PDF-1.7\n1 0 obj << >> endobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _upload(env: Env, headers: dict[str, str], data: bytes, media_type: str) -> str:
    r = env.client.post(
        "/api/v1/blobs", content=data, headers={**headers, "content-type": media_type}
    )
    assert r.status_code == 201, r.text
    sha: str = r.json()["sha256"]
    return sha


def _register(env: Env, **extra: Any) -> tuple[str, Any]:
    code = credit_code()
    body = {
        "party_id": code,
        "name": "街角早餐店",
        "kind": "restaurant",
        "credit_code": code,
        "public_keys": [keys.public_to_b64(keys.generate())],
        **extra,
    }
    entry = env.regulator.sign("party.register", body)
    return code, env.client.post(
        "/api/v1/parties", json={"entry": entry}, headers=env.regulator.headers
    )


def test_the_photo_named_must_be_a_stored_image(env: Env) -> None:
    lab, inspector = env.add_party("lab"), env.add_party("inspector")
    pdf = _upload(env, lab.headers, PDF, "application/pdf")
    before = env.snapshot()
    for photo in (pdf, "0" * 64):  # a PDF, and a file nobody uploaded
        _, r = _register(env, shopfront_photo=photo)
        problem = assert_problem(r, 422)
        assert [e["pointer"] for e in problem["errors"]] == ["/body/entry/body/shopfront_photo"]
    assert env.snapshot() == before
    png = _upload(env, inspector.headers, PNG, "image/png")
    _, r = _register(env, shopfront_photo=png, position={"lat": 31.5, "lng": 121.25})
    assert r.status_code == 201, r.text
    index = r.json()["entry_index"]
    _, r = _register(env, position={"lat": 91, "lng": 121})
    assert [e["pointer"] for e in assert_problem(r, 422)["errors"]] == [
        "/body/entry/body/position/lat"
    ]
    found = particulars(env.log.entry(index).leaf_data())
    assert found == Particulars(Position(lat=31.5, lng=121.25), png)
    first = env.log.entry(0)
    assert (first.type, first.body["party_id"]) == ("party.register", "gov-sh")
    assert particulars(first.leaf_data()) == Particulars(None, None)


def test_a_named_shopfront_photo_is_kept_past_the_grace_period(env: Env) -> None:
    inspector = env.add_party("inspector")
    named = _upload(env, inspector.headers, PNG, "image/png")
    orphan = _upload(env, inspector.headers, PNG + b"\x01", "image/png")
    _, r = _register(env, shopfront_photo=named)
    assert r.status_code == 201, r.text
    later = datetime.now(UTC) + 2 * timedelta(seconds=env.settings.blob_gc_grace_seconds)
    with Session(env.log.engine) as session, session.begin():
        assert uploads.collect_garbage(session, env.settings, later) == [orphan]
    assert env.client.get(f"/api/v1/blobs/{named}").content == PNG
