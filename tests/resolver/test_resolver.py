"""The resolver over a seeded demo chain, on both backends: content negotiation, pages,
proofs the badge verifies, and clear answers (never a 500) for bad codes."""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from demo_seed import Seeded
from eth_utils import keccak
from pagecheck import HTML, check_page
from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from foodtrace.api.app import create_app
from foodtrace.demo import AUTHORITY_KEY_FILE
from foodtrace.ledger.anchors import latest_anchor
from foodtrace.product.models import Lot
from foodtrace.resolver import badge
from foodtrace.resolver.cache import MicroCache
from foodtrace.resolver.chart import Reading, excursions, temperature_svg
from foodtrace.resolver.display import fact
from foodtrace.resolver.pageviews import PageView
from foodtrace.resolver.settings import ResolverSettings
from foodtrace.resolver.views import negotiate
from foodtrace.scan.service import scan_status
from foodtrace.store.keyfiles import load_or_create_key
from foodtrace.store.log import MerkleLog
from foodtrace.trace import keys
from foodtrace.trace.codes import Lot as LotCode
from foodtrace.trace.codes import Merchant, merchant_code, parse_code, serial_code

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

JSON = {"accept": "application/json"}
LINKSET = {"accept": "application/linkset+json"}
GTIN_UNKNOWN = "06901234999990"  # valid check digit, no such product


@pytest.fixture(scope="module")
def client(seeded: Seeded) -> Iterator[TestClient]:
    with TestClient(create_app(seeded.settings), base_url="http://127.0.0.1:8000") as c:
        yield c


def path_of(url: str) -> str:
    return url.split("127.0.0.1:8000", 1)[1]


def test_negotiation_prefers_html_for_browsers_and_honours_explicit_types() -> None:
    assert negotiate(HTML["accept"], None) == "html"
    assert negotiate("", None) == "html"
    assert negotiate("*/*", None) == "html"
    assert negotiate("application/json", None) == "json"
    assert negotiate("application/linkset+json", None) == "linkset"
    assert negotiate("text/html;q=0.5, application/json", None) == "json"
    assert negotiate("text/html", "all") == "linkset"


def test_anchor_selector_is_the_abi_selector_of_anchorAt() -> None:
    assert "0x" + keccak(text="anchorAt(bytes32,uint64)")[:4].hex() == badge.ANCHOR_SELECTOR


def test_merchant_page_shows_the_shop_and_every_fact_matches_a_proved_entry(
    seeded: Seeded, client: TestClient
) -> None:
    r = client.get(path_of(seeded.codes["merchant-restaurant"]), headers=HTML)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    page = r.text
    for text in (
        "北京朝阳小满餐厅有限公司",
        seeded.restaurant,
        "食品经营许可证",
        "有效",
        "李**",
        "有效 1 人",
        "合格",
        "大笑",
        "信用等级",
        "投诉举报",
    ):
        assert text in page, text
    assert check_page(page) >= 20


def test_lot_page_has_timeline_chart_recall_banner_and_reports(
    seeded: Seeded, client: TestClient
) -> None:
    salad = client.get(path_of(seeded.lot_url(2)), headers=HTML).text
    for text in (
        "鲜切蔬菜沙拉",
        "从农田到餐桌",
        "发货",
        "收货",
        "运输",
        "冷链温度",
        "温度超标",
        "9.6",
        "召回警示",
        "寿光西红柿",
        "SDJC-",
    ):
        assert text in salad, text
    assert 'class="pt bad fact"' in salad  # the 9.6 °C excursion is marked on the chart
    assert check_page(salad) >= 30
    cucumber = client.get(path_of(seeded.lot_url(0)), headers=HTML).text
    assert "召回警示" not in cucumber  # only the tomato lot (an input of the salad) is recalled
    check_page(cucumber)


def test_json_for_api_clients(seeded: Seeded, client: TestClient) -> None:
    r = client.get(path_of(seeded.codes["merchant-restaurant"]), headers=JSON)
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    body = r.json()
    assert body["kind"] == "merchant"
    assert body["merchant"]["party"]["name"] == "北京朝阳小满餐厅有限公司"
    assert {lic["status"] for lic in body["merchant"]["licences"]} == {"valid"}
    assert body["records"] and body["records"][0]["url"].startswith("/api/v1/records/")
    lot = client.get(path_of(seeded.lot_url(1)), headers=JSON).json()
    assert lot["lot"]["recalls"], "the recalled tomato lot says so"


def test_linkset_by_accept_or_link_type_all(seeded: Seeded, client: TestClient) -> None:
    url = path_of(seeded.lot_url(2))
    by_accept = client.get(url, headers=LINKSET)
    by_param = client.get(url + "&linkType=all", headers=HTML)
    for r in (by_accept, by_param):
        assert r.status_code == 200
        assert r.headers["content-type"] == "application/linkset+json"
        (links,) = r.json()["linkset"]
        assert links["anchor"].endswith(url.split("?")[0])
        for kind in ("certificationInfo", "traceability", "epcis", "recallStatus", "pip"):
            assert links[f"https://gs1.org/voc/{kind}"][0]["href"].startswith("http")


@pytest.mark.parametrize(
    ("mutate", "status", "zh"),
    [
        (lambda u: u[:-3] + ("AAA" if not u.endswith("AAA") else "BBB"), 403, "伪造"),
        (lambda u: u.split("?")[0], 400, "不是有效的食安码"),
        (lambda u: u.replace("/01/0690", "/01/0691"), 400, "不是有效的食安码"),
        (lambda u: u + "&s=" + u.split("s=")[1], 400, "不是有效的食安码"),
        (lambda u: u.replace("?s=", "?s=x"), 400, "不是有效的食安码"),
    ],
    ids=["forged", "no-signature", "bad-check-digit", "two-signatures", "bad-token"],
)
def test_bad_codes_get_a_clear_page_or_problem(
    seeded: Seeded, client: TestClient, mutate, status: int, zh: str
) -> None:
    url = mutate(path_of(seeded.lot_url(0)))
    page = client.get(url, headers=HTML)
    assert page.status_code == status and zh in page.text
    problem = client.get(url, headers=JSON)
    assert problem.status_code == status
    assert problem.headers["content-type"] == "application/problem+json"
    assert problem.json()["errors"][0]["detail"]


def test_unknown_merchant_and_product_with_genuine_signatures_are_404(
    seeded: Seeded, client: TestClient
) -> None:
    key = load_or_create_key(seeded.settings.data_dir / AUTHORITY_KEY_FILE)
    for code in (
        merchant_code("http://127.0.0.1:8000", "NOSUCHSHOP1", key),
        serial_code("http://127.0.0.1:8000", GTIN_UNKNOWN, "SN1", key),
    ):
        page = client.get(path_of(code.url), headers=HTML)
        assert page.status_code == 404 and "未找到" in page.text
        assert client.get(path_of(code.url), headers=JSON).status_code == 404
    stranger = merchant_code("http://127.0.0.1:8000", seeded.restaurant, keys.generate())
    assert client.get(path_of(stranger.url), headers=HTML).status_code == 403


def test_each_resolution_counts_a_scan(seeded: Seeded, client: TestClient) -> None:
    url = path_of(seeded.lot_url(0))
    before = client.get(url, headers=JSON).json()["scans"]["count"]
    client.get(url, headers=HTML)
    after = client.get(url, headers=JSON).json()["scans"]["count"]
    assert after == before + 2


def test_chart_marks_excursions_and_carries_the_entry_pointer() -> None:
    t = datetime(2026, 1, 1, tzinfo=UTC)
    readings = [
        Reading(t.replace(hour=h), fact(7, f"/body/v/{h}", v, "num", by_value=True))
        for h, v in ((1, 2.8), (2, 3.4), (3, 9.6))
    ]
    assert [r.value for r in excursions(readings, 0, 8)] == [9.6]
    svg = temperature_svg(readings, 0, 8)
    assert svg.count('class="pt bad fact"') == 1 and svg.count('class="pt fact"') == 2
    assert 'data-rec="7" data-path="/body/v/3" data-fmt="num" data-value="9.6"' in svg
    assert temperature_svg([], 0, 8) == ""


# --- reads do not write; the microcache ------------------------------------------------------


def test_scans_go_to_the_buffer_and_are_written_by_its_flush(
    seeded: Seeded, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The background flush must not run between the request and the check below.
    monkeypatch.setenv("FOODTRACE_SCAN_FLUSH_SECONDS", "3600")
    # The module's shared app has its own buffer, holding earlier tests' scans of this
    # code: write them now, or its background flush lands them mid-test (CI saw 3 == 1).
    client.app.state.scan_buffer.flush()  # type: ignore[attr-defined]
    with TestClient(create_app(seeded.settings), base_url="http://127.0.0.1:8000") as own:
        buffer = own.app.state.scan_buffer  # type: ignore[attr-defined]
        assert buffer is not None, "the resolver's lifespan starts a scan buffer"
        url = path_of(seeded.codes["merchant-restaurant"])
        buffer.flush()
        shown = own.get(url, headers=JSON).json()["scans"]["count"]
        assert buffer.unwritten() >= 1
        buffer.flush()
        key = Merchant(seeded.restaurant).message().decode()
        with Session(own.app.state.engine) as session:  # type: ignore[attr-defined]
            assert scan_status(session, key).count == shown


def test_a_page_view_never_signs_a_checkpoint_newer_records_are_pending(
    seeded: Seeded,
) -> None:
    with MerkleLog(settings=seeded.settings, migrate=False) as log:
        before = log.checkpoints()
        assert before
        [new] = log.append_leaves(
            [b'{"v":1,"type":"test.unproved"}'], ("test.unproved", "t", "0" * 16, "2026")
        )
        with Session(log.engine) as session:
            out = badge.proofs(log, session, [0, new], latest_anchor(session), "")
        assert log.checkpoints() == before, "no checkpoint was issued"
    proved, pending = out["records"]
    assert proved["index"] == 0 and proved["checkpoint"] in out["checkpoints"]
    assert pending == {"index": new, "data": '{"v":1,"type":"test.unproved"}', "pending": True}


def test_microcache_keeps_values_for_the_ttl_only() -> None:
    now = [0.0]
    cache: MicroCache[str] = MicroCache(1.5, max_entries=2, clock=lambda: now[0])
    cache.put("a", "page a")
    now[0] = 1.4
    assert cache.get("a") == "page a"
    now[0] = 1.5
    assert cache.get("a") is None
    assert cache.lookup("a") == ("page a", False)  # stale: served while it is rebuilt
    now[0] = 3.0
    assert cache.lookup("a") is None  # twice the TTL: gone
    for k in "abc":
        cache.put(k, k)
    assert cache.get("a") is None and cache.get("c") == "c" and len(cache) == 2
    off: MicroCache[str] = MicroCache(0)
    off.put("a", "page a")
    assert not off.enabled and off.get("a") is None


def test_cached_pages_still_count_every_scan_and_a_new_checkpoint_refreshes_them(
    seeded: Seeded, client: TestClient
) -> None:
    url = path_of(seeded.lot_url(1))
    counts = [client.get(url, headers=JSON).json()["scans"]["count"] for _ in range(3)]
    assert counts == [counts[0], counts[0] + 1, counts[0] + 2]  # counted per request
    subject = parse_code(seeded.lot_url(1)).subject
    assert isinstance(subject, LotCode)
    lot = (Lot.gtin == subject.gtin) & (Lot.lot_code == subject.lot)
    engine = client.app.state.engine  # type: ignore[attr-defined]
    # The rows change behind the projectors' back below, which no stale mark or log-size
    # fence can see: no read-model build may be in flight meanwhile (it could store a page
    # read before the change after the rows below are dropped).
    page_refresher = client.app.state.page_refresher  # type: ignore[attr-defined]
    page_refresher.close()
    t0 = time.monotonic()
    first = client.get(url, headers=HTML).text
    with Session(engine) as session, session.begin():  # a projection row changed
        session.execute(update(Lot).where(lot).values(quantity=Lot.quantity + 1))
        # ... behind the projectors' back, so no stored page is marked stale: dropped here
        # as a rebuild of the read model from the changed tables would.
        session.execute(delete(PageView))
    try:
        stale = client.get(url, headers=HTML).text
        if time.monotonic() - t0 < ResolverSettings().resolve_cache_seconds:
            assert stale == first, "within the TTL the same page is served"
        with MerkleLog(settings=seeded.settings, migrate=False) as log:
            log.append_leaves([b'{"v":1}'], ("test.later", "t", "0" * 16, "2026"))
            log.issue_checkpoint()
        fresh = client.get(url, headers=HTML).text  # a new checkpoint: a new cache key
        assert fresh != first
        with pytest.raises(AssertionError):
            check_page(fresh)  # and the changed row is caught, as the badge would
    finally:
        with Session(engine) as session, session.begin():
            session.execute(update(Lot).where(lot).values(quantity=Lot.quantity - 1))
        page_refresher.start()
