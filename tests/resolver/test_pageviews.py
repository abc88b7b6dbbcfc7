"""The page read model (foodtrace.resolver.pageviews) over the seeded demo, on both backends:
a stored page is byte for byte what a build answers at the same checkpoint, also after the
log grows; an entry naming a page's subject marks it stale in its own transaction; and the
projection rebuilt from the log equals fresh builds."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from demo_seed import Seeded
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from foodtrace.api.app import create_app
from foodtrace.auth.models import Role
from foodtrace.ledger.anchors import latest_anchor
from foodtrace.record import registry
from foodtrace.resolver import pageviews, refresher
from foodtrace.resolver.pageviews import (
    Current,
    PageView,
    PageViewSubject,
    entry_subjects,
    usable,
)
from foodtrace.resolver.refresher import PageRefresher
from foodtrace.resolver.settings import ResolverSettings
from foodtrace.store.log import MerkleLog
from foodtrace.trace.codes import parse_code
from foodtrace.trace.entry import Entry

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

JSON = {"accept": "application/json"}
HTML = {"accept": "text/html"}
NOTE_TYPE = "test.page_note"  # an entry type only these tests write


@pytest.fixture(scope="module")
def client(seeded: Seeded) -> Iterator[TestClient]:
    with pytest.MonkeyPatch.context() as env:
        env.setenv("FOODTRACE_RESOLVE_CACHE_SECONDS", "0")  # every scan reaches the model
        env.setenv("FOODTRACE_PAGE_REFRESH_SECONDS", "3600")  # refreshed by the tests only
        app = create_app(seeded.settings)
    with TestClient(app, base_url="http://127.0.0.1:8000") as c:
        yield c


def _no_projection(session: Session, index: int, entry: Entry) -> None:
    """The test entry type's own projection: none (only the shared hook runs)."""


def store_requested(client: TestClient, modes: tuple[str, ...], *urls: str) -> None:
    """Run the refresher until the pages of ``urls`` are stored and current (a round that
    met a busy SQLite writer, the scan buffer's flush, leaves a page for the next)."""
    wanted = {(parse_code(u).subject.path(), m) for u in urls for m in modes}
    for _ in range(20):
        model(client).refresh_once()
        with client.app.state.sessions() as session:  # type: ignore[attr-defined]
            rows = session.execute(
                select(PageView.page_key, PageView.mode).where(PageView.stale.is_(False))
            )
            missing = wanted - {(k, m) for k, m in rows}
        if not missing:
            return
    pytest.fail(f"pages not stored: {missing}")


def stored_keys(session: Session) -> set[str]:
    return set(session.scalars(select(PageView.page_key)))


def path_of(url: str) -> str:
    return url.split("127.0.0.1:8000", 1)[1]


def model(client: TestClient) -> PageRefresher:
    found = client.app.state.page_refresher  # type: ignore[attr-defined]
    assert isinstance(found, PageRefresher)
    return found


def codes_of(seeded: Seeded) -> list[str]:
    return [u for k, u in seeded.codes.items() if k.startswith(("merchant-", "lot-"))]


def without_scans(body: bytes) -> bytes:
    head, sep, _ = body.rpartition(b',"scans":')
    assert sep, "a JSON answer carries its scan status"
    return head + b"}"


def fresh(client: TestClient, seeded: Seeded, url: str, mode: str) -> bytes:
    """What a build answers now, without the read model."""
    app = client.app
    code = parse_code(url)
    with app.state.sessions() as session:  # type: ignore[attr-defined]
        log = app.state.log  # type: ignore[attr-defined]
        built, _ = refresher.build(
            session, log, seeded.settings, code, mode, (0.0, 8.0), log.latest_checkpoint()
        )
    assert built is not None
    return built.body


def test_subjects_of_an_entry_are_its_ids_lots_and_places_not_its_words_or_days() -> None:
    body = {
        "party_id": "91110105MA01ABCD2X",
        "subject": {"gtin": "06901234567892", "lot_code": "JG2026"},
        "event": {
            "epcList": ["https://id.gs1.org/01/06901234567892/10/L7?x=1"],
            "bizLocation": {"id": "https://id.gs1.org/414/6901234000017"},
        },
        "result": "合格",
        "valid_until": "2027-01-01",
    }
    found = entry_subjects(body, ["https://id.gs1.org/01/06901234567892/10/S1"])
    assert {
        "id:91110105MA01ABCD2X",
        "lot:06901234567892/JG2026",
        "lot:06901234567892/L7",
        "lot:06901234567892/S1",
        "id:6901234000017",
    } <= found
    assert "id:06901234567892" not in found, "a lot's GTIN does not name its product"
    assert not any("合格" in s or "2027-01-01" in s for s in found), "nor words or days"
    product = entry_subjects({"gtin": "06901234567892", "name": "鲜切蔬菜沙拉"})
    assert product == {"id:06901234567892"}


def test_a_row_is_served_only_while_it_says_what_a_build_would() -> None:
    row = PageView(stale=False, day="2026-12-02", anchor="a", built_size=10, floating=False)
    now = Current(12, "a", "2026-12-02")
    assert usable(row, now), "a newer checkpoint changes only JSON's latest member"
    assert not usable(row, Current(12, "b", "2026-12-02")), "another anchor"
    assert not usable(row, Current(12, "a", "2026-12-03")), "another day"
    assert not usable(row, Current(9, "a", "2026-12-02")), "built past this checkpoint"
    row.floating = True
    assert not usable(row, now) and usable(row, Current(10, "a", "2026-12-02"))
    row.floating, row.stale = False, True
    assert not usable(row, now)


def test_the_anchor_a_row_is_checked_against_is_the_builders(
    seeded: Seeded, client: TestClient
) -> None:
    with client.app.state.sessions() as session:  # type: ignore[attr-defined]
        anchor = latest_anchor(session)
        assert anchor is not None, "the demo is anchored"
        latest = client.app.state.log.latest_checkpoint()  # type: ignore[attr-defined]
        assert refresher.current(session, latest).anchor == pageviews.anchor_tag(anchor)


def test_a_scan_miss_is_stored_and_then_served_byte_for_byte(
    seeded: Seeded, client: TestClient
) -> None:
    for url in codes_of(seeded):
        path = path_of(url)
        built = {m: client.get(path, headers=h) for m, h in (("json", JSON), ("html", HTML))}
        store_requested(client, ("json", "html"), url)
        with client.app.state.sessions() as session:  # type: ignore[attr-defined]
            for mode in built:
                assert pageviews.read(session, parse_code(url).subject.path(), mode), mode
        again = client.get(path, headers=JSON)
        assert again.status_code == 200
        assert without_scans(again.content) == without_scans(built["json"].content)
        assert "count" in json.loads(again.content)["scans"], "scans are added per request"
        html = client.get(path, headers=HTML)
        assert html.content == built["html"].content
        assert html.headers["content-type"] == built["html"].headers["content-type"]


def test_a_stored_page_is_what_a_build_answers_also_after_the_log_grows(
    seeded: Seeded, client: TestClient
) -> None:
    urls = codes_of(seeded)
    for url in urls:
        client.get(path_of(url), headers=JSON)
    store_requested(client, ("json",), *urls)
    with MerkleLog(settings=seeded.settings, migrate=False) as log:
        log.append_leaves([b'{"v":1}'], ("test.later", "t", "0" * 16, "2026"))
        log.issue_checkpoint()
    for url in urls:
        served = without_scans(client.get(path_of(url), headers=JSON).content)
        assert served == fresh(client, seeded, url, "json"), url


def test_an_entry_naming_a_lot_marks_its_stored_pages_stale_in_its_transaction(
    seeded: Seeded, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    note_type = registry.EntryType(NOTE_TYPE, frozenset({Role.REGULATOR}), _no_projection)
    monkeypatch.setitem(registry._TYPES, NOTE_TYPE, note_type)  # for this test only
    url = seeded.lot_url(0)
    subject = parse_code(url).subject
    client.get(path_of(url), headers=HTML)
    store_requested(client, ("html",), url)
    key = subject.path()
    gtin, lot = key.split("/")[2], key.split("/")[4]
    note = Entry(
        NOTE_TYPE,
        "someone",
        "0" * 16,
        datetime.now(UTC).isoformat(),
        {"subject": {"gtin": gtin, "lot_code": lot}},
    )
    engine = client.app.state.engine  # type: ignore[attr-defined]
    with Session(engine) as session:
        session.execute(update(PageView).values(stale=False))
        session.commit()
        registry.project(session, 0, note)
        marked = session.scalar(
            select(PageView.stale).where(PageView.page_key == key, PageView.mode == "html")
        )
        assert marked is True
        stale = set(session.scalars(select(PageView.page_key).where(PageView.stale.is_(True))))
        showing = set(
            session.scalars(
                select(PageViewSubject.page_key).where(
                    PageViewSubject.subject.in_([f"lot:{gtin}/{lot}", f"id:{lot}"])
                )
            )
        )
        assert stale == showing & stored_keys(session), "the pages showing the lot, only"
        assert any(k.startswith("/M/") for k in stored_keys(session) - stale), stale
        session.rollback()  # the entry was not written: neither is its mark
    with Session(engine) as session:
        assert session.scalar(select(PageView.stale).where(PageView.page_key == key)) is False
        session.execute(update(PageView).where(PageView.page_key == key).values(stale=True))
        session.commit()
    stale = client.get(path_of(url), headers=HTML).content  # built on demand meanwhile
    assert stale == fresh(client, seeded, url, "html")
    store_requested(client, ("html",), url)
    with Session(engine) as session:
        assert session.scalar(select(PageView.stale).where(PageView.page_key == key)) is False


def test_a_tampered_stored_page_is_served_as_stored_so_the_badge_sees_it(
    seeded: Seeded, client: TestClient
) -> None:
    url = seeded.lot_url(0)
    key = parse_code(url).subject.path()
    client.get(path_of(url), headers=HTML)
    store_requested(client, ("html",), url)
    engine = client.app.state.engine  # type: ignore[attr-defined]
    with Session(engine) as session:
        row = session.get(PageView, (key, "html"))
        assert row is not None and pageviews.usable(
            row,
            refresher.current(session, client.app.state.log.latest_checkpoint()),  # type: ignore[attr-defined]
        )
        original = row.body
        row.body = original.replace("从农田到餐桌".encode(), "从工厂到餐桌".encode())
        assert row.body != original
        session.commit()
    try:
        assert "从工厂到餐桌" in client.get(path_of(url), headers=HTML).text
    finally:
        with Session(engine) as session:
            session.execute(update(PageView).where(PageView.page_key == key).values(body=original))
            session.commit()


def test_the_projection_rebuilt_from_the_log_equals_fresh_builds(
    seeded: Seeded, client: TestClient
) -> None:
    app = client.app
    wanted = [
        (parse_code(u).subject.path(), m, u) for u in codes_of(seeded) for m in ("json", "html")
    ]
    with app.state.sessions() as session:  # type: ignore[attr-defined]
        session.execute(pageviews.delete(PageView))
        session.commit()
    done = refresher.refresh_all(
        app.state.sessions,  # type: ignore[attr-defined]
        app.state.log,  # type: ignore[attr-defined]
        seeded.settings,
        (ResolverSettings().cold_chain_min_c, ResolverSettings().cold_chain_max_c),
        wanted,
    )
    assert done == len(wanted)
    latest = app.state.log.latest_checkpoint()  # type: ignore[attr-defined]
    with app.state.sessions() as session:  # type: ignore[attr-defined]
        for page_key, mode, url in wanted:
            row = pageviews.read(session, page_key, mode)
            assert row is not None
            stored = refresher.answer(row, latest, app.state.log, seeded.settings)  # type: ignore[attr-defined]
            assert stored == fresh(client, seeded, url, mode), (page_key, mode)
