"""扫街纳管 through HTTP on both databases: a regulator registers a business found on the
street with its position and shopfront photo; the registration, its grid assignment and its
enrolment code are one logged group, stored together or not at all (also through the
sequencer); each position problem names its own field; the photo follows the shopfront
rule only (an image, size-limited, in the regulator's quota, never through the blob API)."""

from __future__ import annotations

import dataclasses
import hashlib
import re
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from benchharness import PNG, Bench, Grid, make_grid
from recordharness import Env, credit_code, open_env
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from foodtrace.auth.models import EnrolmentCode
from foodtrace.grid.models import GridMember
from foodtrace.labels import service as labels
from foodtrace.party.models import Party
from foodtrace.record import registry
from foodtrace.record.registry import ProjectionError
from foodtrace.report.models import BlobUpload
from foodtrace.trace.codes import merchant_code
from foodtrace.trace.entry import Entry

PDF = b"%PDF-1.7\n1 0 obj << >> endobj\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


def _regulator(env: Env) -> Bench:
    """The regulator logged in to the workbench, which signs with its server-held key."""
    r = env.client.post(
        "/api/v1/custodial-keys", json={"party_id": "gov-sh"}, headers=env.regulator.headers
    )
    assert r.status_code == 201, r.text
    key = env.regulator.sign(
        "party.key.register", {"party_id": "gov-sh", "public_key": r.json()["public_key"]}
    )
    r = env.client.post("/api/v1/party-keys", json={"entry": key}, headers=env.regulator.headers)
    assert r.status_code == 201, r.text
    bench = Bench(env)
    assert bench.login(env.regulator.token).status_code == 303
    return bench


def _shop(g: Grid, **over: str) -> dict[str, str]:
    return {
        "small": "小餐饮",
        "name": "鳌山路阿香馄饨铺",
        "credit_code": credit_code(),
        "address": "城桥镇鳌山路12号",
        "lat": "31.6230",
        "lng": "121.3975",
        "grid_id": g.grid_id,
        **over,
    }


def _photo(data: bytes, name: str = "门头.png", media_type: str = "image/png") -> Any:
    return [("photo", (name, data, media_type))]


def _stored(env: Env, party_id: str) -> dict[str, int]:
    """What of a registration is stored: the party, its grid row, its live codes."""
    with Session(env.log.engine) as s:
        return {
            "party": s.scalar(select(func.count()).where(Party.party_id == party_id)) or 0,
            "grid": s.scalar(select(func.count()).where(GridMember.party_id == party_id)) or 0,
            "codes": s.scalar(
                select(func.count()).where(
                    EnrolmentCode.party_id == party_id, EnrolmentCode.used_at.is_(None)
                )
            )
            or 0,
        }


def test_registered_with_position_photo_grid_and_code_in_one_group(env: Env) -> None:
    g = make_grid(env)
    reg = _regulator(env)
    data = _shop(g)
    code = data["credit_code"]
    size = env.log.size()
    r = reg.post("/workbench/street", data, files=_photo(PNG))
    assert r.status_code == 200, r.text
    assert "已登记:鳌山路阿香馄饨铺" in r.text and 'id="enrolment">fte_' in r.text
    assert "纬度 31.623,经度 121.3975" in r.text
    sha = hashlib.sha256(PNG).hexdigest()
    assert f'src="/api/v1/blobs/{sha}"' in r.text

    group = [env.log.entry(i) for i in range(size, env.log.size())]
    assert [e.type for e in group] == ["party.register", "grid.assign", "token.event"]
    body = group[0].body
    assert body["position"] == {"lat": 31.623, "lng": 121.3975}
    assert body["shopfront_photo"] == sha and body["address"] == "城桥镇鳌山路12号"
    assert group[1].body == {"grid_id": g.grid_id, "party_ids": [code]}
    assert env.client.get(f"/api/v1/blobs/{sha}").content == PNG
    with Session(env.log.engine) as s:  # counted in the regulator's quota
        assert s.get(BlobUpload, (sha, "gov-sh")) is not None

    party = env.client.get(f"/api/v1/parties/{code}").json()["record"]
    assert party["kind"] == "restaurant" and party["address"] == "城桥镇鳌山路12号"
    assert party["position"] == {"lat": 31.623, "lng": 121.3975}  # as its entry records
    assert party["shopfront_photo"] == sha
    grid = env.client.get(f"/api/v1/grids/{g.grid_id}/businesses", headers=g.officer.headers)
    assert code in grid.text
    enrolment = r.text.split('id="enrolment">', 1)[1].split("<", 1)[0]
    r = env.client.post("/api/v1/enrolments", json={"party_id": code, "code": enrolment})
    assert r.status_code == 201, r.text

    listed = reg.get("/workbench/street")  # the shop is listed with where it is
    item = listed.text.split(f'id="s-{code}"', 1)[1].split("</li>", 1)[0]
    assert "纬度 31.623,经度 121.3975" in item and f"/api/v1/blobs/{sha}" in item
    scanned = merchant_code(
        env.settings.public_base_url, code, labels.authority_key(env.settings)
    )  # the URL its 食安码 holds
    public = env.client.get(scanned.url.removeprefix(env.settings.public_base_url))
    assert public.status_code == 200 and "城桥镇鳌山路12号" in public.text, public.text
    shown = re.sub(r"<script.*?</script>", "", public.text, flags=re.S)
    assert "31.623" not in shown  # the page does not show the position (its address, yes)
    assert '\\"position\\":{\\"lat\\":31.623' in public.text  # the signed entry, as proof
    label = reg.get(f"/workbench/street/{code}/label.png")
    assert label.status_code == 200 and label.content.startswith(b"\x89PNG")
    assert label.headers["content-type"] == "image/png"
    inspector = Bench(env)
    assert inspector.login(g.officer.token).status_code == 303
    assert inspector.get("/workbench/street").status_code == 403
    assert inspector.get(f"/workbench/street/{code}/label.png").status_code == 403


def test_each_position_problem_names_its_own_field_and_nothing_is_stored(env: Env) -> None:
    g = make_grid(env)
    reg = _regulator(env)
    before = env.snapshot()
    cases = [
        ({"lat": "x", "lng": "200"}, {"/form/lat", "/form/lng"}),
        ({"lat": "91", "lng": "121.4"}, {"/form/lat"}),
        ({"lat": "31.6", "lng": ""}, {"/form/lng"}),
        ({"lat": "nan", "lng": "inf"}, {"/form/lat", "/form/lng"}),
        ({"small": "大饭店", "grid_id": "no"}, {"/form/small", "/form/grid_id"}),
    ]
    for over, named in cases:
        r = reg.post("/workbench/street", _shop(g, **over), files=_photo(PNG))
        assert r.status_code == 422, r.text
        for field in {"/form/small", "/form/lat", "/form/lng", "/form/grid_id"}:
            assert (f"<code>{field}</code>" in r.text) == (field in named), (over, field)
    assert env.snapshot() == before  # refused before the photo was stored


def test_the_photo_is_an_image_within_the_limits_through_this_form_only(env: Env) -> None:
    g = make_grid(env)
    reg = _regulator(env)
    before = env.snapshot()
    r = reg.post("/workbench/street", _shop(g), files=_photo(PDF, "门头.png"))
    assert r.status_code == 415 and "<code>/form/photo</code>" in r.text
    env.settings.blob_max_bytes = 1024
    r = reg.post("/workbench/street", _shop(g), files=_photo(PNG + b"\x00" * 1024))
    assert r.status_code == 413 and "<code>/form/photo</code>" in r.text
    env.settings.blob_quota_bytes_per_party = len(JPEG) - 1
    r = reg.post("/workbench/street", _shop(g), files=_photo(JPEG, "门头.jpg", "image/jpeg"))
    assert r.status_code == 413 and f"of its {len(JPEG) - 1} bytes" in r.text  # the quota
    assert env.snapshot() == before
    for data, media_type in ((PNG, "image/png"), (PDF, "application/pdf")):
        r = env.client.post(  # the blob API still takes nothing from a regulator
            "/api/v1/blobs",
            content=data,
            headers={**env.regulator.headers, "content-type": media_type},
        )
        assert r.status_code == 403, r.text
    assert env.snapshot() == before
    env.settings.blob_quota_bytes_per_party = 10**6
    data = _shop(g)
    r = reg.post("/workbench/street", data, files=_photo(JPEG, "门头.jpg", "image/jpeg"))
    assert r.status_code == 200, r.text
    party = env.log.entry(env.log.size() - 3)
    assert party.body["shopfront_photo"] == hashlib.sha256(JPEG).hexdigest()
    data = _shop(g)  # no photo: registered without one
    r = reg.post("/workbench/street", data)
    assert r.status_code == 200 and 'id="shopfront"' not in r.text
    assert "shopfront_photo" not in env.log.entry(env.log.size() - 3).body


def _disk_full() -> BaseException:
    err = sqlite3.OperationalError("database or disk is full")
    err.sqlite_errorcode = 13  # SQLITE_FULL
    return err


def _refuse_assignment() -> BaseException:
    return ProjectionError(422, [("grid_id", "the grid was dissolved meanwhile")])


FAULTS: dict[str, tuple[str, Callable[[], BaseException], int]] = {
    "grid assignment refused": ("grid.assign", _refuse_assignment, 422),
    "append fails (disk full)": ("token.event", _disk_full, 507),
}


def _fail(
    monkeypatch: pytest.MonkeyPatch, type: str, fault: Callable[[], BaseException]
) -> list[int]:
    """Make the projection of every ``type`` entry raise ``fault`` (in the append's
    transaction, also the sequencer's); the list counts the attempts."""
    registry.load_types()
    seen: list[int] = []

    def failing(_session: Any, index: int, _entry: Entry) -> None:
        seen.append(index)
        raise fault()

    spec = registry.spec(type)
    monkeypatch.setitem(registry._TYPES, type, dataclasses.replace(spec, project=failing))
    return seen


def _nothing_then_everything(
    env: Env, monkeypatch: pytest.MonkeyPatch, fault: str, status: int
) -> None:
    """Register with ``fault`` injected: answered ``status``, nothing of the registration
    stored; then without the fault: all of it."""
    type, make, _ = FAULTS[fault]
    g = make_grid(env)
    reg = _regulator(env)
    data = _shop(g)
    code = data["credit_code"]
    before = env.snapshot()
    seen = _fail(monkeypatch, type, make)
    r = reg.post("/workbench/street", data, files=_photo(PNG))
    assert r.status_code == status, r.text
    if status >= 500:  # the server's fault, not the form's: a problem to retry after
        assert r.headers["content-type"] == "application/problem+json", r.text
        assert r.headers["retry-after"] == "1"
    assert seen, "the fault was never reached: the test proves nothing"
    assert _stored(env, code) == {"party": 0, "grid": 0, "codes": 0}
    after = env.snapshot()
    # Only the photo stays (in the regulator's quota until `foodtrace blobs gc` collects it).
    assert after.pop("blob_uploads") == before.pop("blob_uploads") + 1
    assert after == before

    monkeypatch.undo()
    r = reg.post("/workbench/street", data, files=_photo(PNG))
    assert r.status_code == 200, r.text  # the failed attempt left nothing in the way
    assert _stored(env, code) == {"party": 1, "grid": 1, "codes": 1}


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_a_failure_in_the_group_stores_nothing_and_the_retry_registers(
    env: Env, monkeypatch: pytest.MonkeyPatch, fault: str
) -> None:
    _nothing_then_everything(env, monkeypatch, fault, FAULTS[fault][2])


@pytest.fixture
def sequenced(pg_url: str, tmp_path: Path) -> Iterator[Env]:
    """The app on PostgreSQL with its writes integrated by an elected sequencer."""
    with open_env(pg_url, tmp_path, sequencer="candidate", sequencer_wait_s=20) as env:
        yield env


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_through_the_sequencer_a_failure_stores_nothing_either(
    sequenced: Env, monkeypatch: pytest.MonkeyPatch, fault: str
) -> None:
    from foodtrace.sequencer.client import SequencedLog

    assert isinstance(sequenced.log, SequencedLog)
    # A group the sequencer failed is answered 503 (nothing stored, send it again).
    status = 422 if FAULTS[fault][0] == "grid.assign" else 503
    _nothing_then_everything(sequenced, monkeypatch, fault, status)
