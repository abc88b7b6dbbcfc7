"""The resolver as clone detection sees it: networks from the connection (X-Forwarded-For
only from trusted proxies), client headers ignored, a per-network scan rate, and bounded
work (unknown parameters make no cache entries; a full build queue answers 503)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from demo_seed import Seeded
from fastapi.testclient import TestClient

from foodtrace.api.app import create_app
from foodtrace.demo import AUTHORITY_KEY_FILE, lots
from foodtrace.store.keyfiles import load_or_create_key
from foodtrace.trace.codes import serial_code

JSON = {"accept": "application/json"}
BASE = "http://127.0.0.1:8000"
PROXY = ("10.0.0.7", 40000)


def _serial(seeded: Seeded, serial: str) -> str:
    key = load_or_create_key(seeded.settings.data_dir / AUTHORITY_KEY_FILE)
    url = serial_code(BASE, lots(seeded.today)[0].gtin, serial, key).url
    return url.split("127.0.0.1:8000", 1)[1]


@pytest.fixture
def client(seeded: Seeded, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    """Behind a proxy at 10.0.0.7 that the resolver trusts; scans written at once."""
    monkeypatch.setenv("FOODTRACE_RESOLVE_CACHE_SECONDS", "0")
    settings = seeded.settings.model_copy(update={"trusted_proxies": "10.0.0.0/8"})
    with TestClient(create_app(settings), base_url=BASE, client=PROXY) as c:
        yield c


def _scans(client: TestClient, url: str, **headers: str) -> dict[str, object]:
    r = client.get(url, headers={**JSON, **headers})
    assert r.status_code == 200, r.text
    scans: dict[str, object] = r.json()["scans"]
    return scans


def test_region_headers_and_spoofed_forwarding_do_not_make_places(
    seeded: Seeded, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FOODTRACE_RESOLVE_CACHE_SECONDS", "0")
    url = _serial(seeded, "SPOOF-1")
    # no trusted proxy: the connection is the client, whatever it claims
    with TestClient(create_app(seeded.settings), base_url=BASE, client=("192.0.2.5", 1)) as c:
        for i in range(6):
            scans = _scans(
                c, url, **{"X-FoodTrace-Region": f"31010{i}", "X-Forwarded-For": f"198.51.{i}.9"}
            )
        assert scans["suspect"] is False and scans["places"] == 1 and scans["count"] == 6


def test_six_networks_behind_a_trusted_proxy_flag_the_serial(
    seeded: Seeded, client: TestClient
) -> None:
    url = _serial(seeded, "CLONE-1")
    for i in range(5):
        scans = _scans(client, url, **{"X-Forwarded-For": f"1.2.3.4, 198.51.{i}.9"})
        assert scans["suspect"] is False
    # two addresses in one /24, and two in one IPv6 /48, are one place each
    _scans(client, url, **{"X-Forwarded-For": "198.51.0.200"})
    assert _scans(client, url, **{"X-Forwarded-For": "2001:db8:7:1::1"})["places"] == 6
    scans = _scans(client, url, **{"X-Forwarded-For": "2001:db8:7:ffff::2"})
    assert (
        scans["places"] == 6 and scans["suspect"] is True and "6个不同网络" in str(scans["reason"])
    )
    page = client.get(url)
    assert page.status_code == 200 and "疑似仿冒码" in page.text


def test_scans_over_a_networks_rate_are_served_but_not_counted(
    seeded: Seeded, client: TestClient
) -> None:
    url = _serial(seeded, "RATE-1")
    rate = seeded.settings.scan_rate_per_minute
    for _ in range(rate + 5):
        scans = _scans(client, url, **{"X-Forwarded-For": "203.0.113.8"})
    assert scans["count"] == rate
    other = _scans(client, url, **{"X-Forwarded-For": "203.0.114.8"})  # another network
    assert other["count"] == rate + 1


def test_unknown_query_parameters_make_no_cache_entries(seeded: Seeded) -> None:
    with TestClient(create_app(seeded.settings), base_url=BASE) as c:
        url = seeded.lot_url(0).split("127.0.0.1:8000", 1)[1]
        assert c.get(url, headers=JSON).status_code == 200
        cache = c.app.state.page_cache  # type: ignore[attr-defined]
        held = len(cache)
        for i in range(20):
            assert c.get(f"{url}&x={i}", headers=JSON).status_code == 200
        assert len(cache) == held


def test_a_full_build_queue_answers_503_with_retry_after(
    seeded: Seeded, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FOODTRACE_RESOLVE_BUILD_QUEUE", "0")
    with TestClient(create_app(seeded.settings), base_url=BASE) as c:
        r = c.get(seeded.lot_url(1).split("127.0.0.1:8000", 1)[1], headers=JSON)
    assert r.status_code == 503 and r.headers["content-type"] == "application/problem+json"
    assert int(r.headers["Retry-After"]) >= 1
