"""The workbench pages read a grid in a fixed number of SQL statements, on both databases:
growing the grid from 2 to 8 businesses, each with a licence about to expire, an expired
health certificate, an overdue complaint and a visit the merchant has not signed, changes
what the pages show but not how many statements they send (an N+1 would add 6 or more)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from benchharness import Bench, Grid, make_grid
from recordharness import Actor, Env
from sqlalchemy import event

from foodtrace.complaint.schemas import Category, ComplaintIn
from foodtrace.complaint.service import file_complaint
from foodtrace.grading.flows import local_day
from foodtrace.store.db import session_factory

PAGES = ("/workbench/", "/workbench/alerts", "/workbench/complaints", "/workbench/schedule")
TODAY = local_day()
BACKGROUND = frozenset(
    {"epcis-subscriptions", "page-refresher", "scan-flush", "log-writer", "log-wal", "sequencer"}
)
"""The app's own threads, whose polls share the engine: not the page's statements."""
KINDS = (
    "licence_expiring",
    "certificate_expired",
    "complaint_overdue",
    "inspection_unacknowledged",
)
"""The alerts each business of the test is given."""


@contextmanager
def counted(env: Env) -> Iterator[list[str]]:
    """The SQL statements the app's engine sends while inside, but for its background
    threads'."""
    engine = env.client.app.state.engine  # type: ignore[attr-defined]
    sent: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if threading.current_thread().name not in BACKGROUND:
            sent.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", count)


def furnish(env: Env, g: Grid, shop: Actor, n: int) -> str:
    """Give a business one row of each kind the pages show; its complaint's number."""
    licence = {
        "number": f"JY2310115{n:07d}",
        "kind": "food_business",
        "holder": shop.party_id,
        "scope": "热食类食品制售",
        "issuer": "崇明区市场监督管理局",
        "valid_from": (TODAY - timedelta(days=365)).isoformat(),
        "valid_until": (TODAY + timedelta(days=10)).isoformat(),
    }
    assert env.regulator.post("/api/v1/licences", "licence.issue", licence).status_code == 201
    certificate = {
        "certificate_number": f"HC-{shop.party_id}",
        "holder_commitment": "ab" * 32,
        "issuer": "崇明区疾控中心",
        "valid_from": (TODAY - timedelta(days=367)).isoformat(),
        "valid_until": (TODAY - timedelta(days=2)).isoformat(),
    }
    r = shop.post("/api/v1/health-certificates", "health.certificate.issue", certificate)
    assert r.status_code == 201, r.text
    visit = {"party_id": shop.party_id, "inspected_on": TODAY.isoformat(), "result": "合格"}
    assert g.officer.post("/api/v1/inspections", "inspection.record", visit).status_code == 201
    return file_complaint(
        env.log,
        session_factory(env.log.engine),
        env.settings,
        ComplaintIn(merchant_id=shop.party_id, category=Category.HYGIENE, description="脏"),
        now=datetime.now(UTC) - timedelta(hours=1),  # its 30-minute response is overdue
    )


def statements(env: Env, bench: Bench) -> tuple[dict[str, int], dict[str, str]]:
    """Statements per page (each page built afresh: the log grew since it was last kept), and
    the pages."""
    counts, html = {}, {}
    for path in PAGES:
        with counted(env) as sent:
            r = bench.get(path)
        assert r.status_code == 200, (path, r.status_code)
        counts[path], html[path] = len(sent), r.text
    return counts, html


def test_pages_send_as_many_statements_for_8_businesses_as_for_2(env: Env) -> None:
    g = make_grid(env, shops=2)
    tracking = [furnish(env, g, shop, n) for n, shop in enumerate(g.shops)]
    bench = Bench(env)
    assert bench.login(g.officer.token).status_code == 303
    few, _ = statements(env, bench)

    more = [env.add_party("restaurant", name=f"面馆{n}") for n in range(6)]
    r = env.regulator.post(
        f"/api/v1/grids/{g.grid_id}/businesses",
        "grid.assign",
        {"grid_id": g.grid_id, "party_ids": [s.party_id for s in more]},
    )
    assert r.status_code == 201, r.text
    tracking += [furnish(env, g, shop, 2 + n) for n, shop in enumerate(more)]
    many, html = statements(env, bench)

    # the rows are there: every business is on the grid page, its alerts on the alerts page,
    # its complaint on the complaints page, its unsigned visit due for the schedule
    for n in range(6):
        assert f"面馆{n}" in html["/workbench/"]
    items = html["/workbench/alerts"].split('<li class="alert alert-')[1:]
    for kind in KINDS:
        shown = [i for i in items if i.startswith(kind + '"')]
        assert len(shown) == 8, (kind, len(shown))
        for shop in (*g.shops, *more):
            assert any(shop.party_id in i for i in shown), (kind, shop.party_id)
    assert all(t in html["/workbench/complaints"] for t in tracking)
    assert all(n >= 3 for n in few.values()), few  # the session check and the page's reads
    assert many == few, (few, many)
