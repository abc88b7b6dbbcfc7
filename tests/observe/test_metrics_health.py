"""``/metrics`` and ``/healthz`` over a real log, on both databases."""

from __future__ import annotations

import io
import json
import logging
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from fastapi.testclient import TestClient
from observed import RpcNode, make_client
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.orm import Session

from foodtrace.config import Settings
from foodtrace.ledger.models import FINAL, SUBMITTED, Anchor, Deployment
from foodtrace.observe import logs
from foodtrace.observe.health import CHAIN_PROBE_TTL_S, ChainProbe, anchor_lag

META = ("event", "farm-1", "k1", "2026-01-01T00:00:00Z")


def scrape(client: TestClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    r = client.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    out: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for family in text_string_to_metric_families(r.text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def value(samples: dict[Any, float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def append(client: TestClient, count: int) -> None:
    log = client.app.state.log  # type: ignore[attr-defined]
    log.append_leaves([f'{{"n":{i}}}'.encode() for i in range(count)], META)


def test_ingest_and_integration_latency(client: TestClient) -> None:
    before = scrape(client)
    append(client, 40)
    after = scrape(client)
    appended = "foodtrace_entries_appended_total"
    assert value(after, appended) - value(before, appended) == 40
    waits = "foodtrace_integration_seconds_count"
    assert value(after, waits) - value(before, waits) >= 1
    assert value(after, "foodtrace_log_entries") == 40


def test_http_requests_errors_and_proof_latency_by_route_template(client: TestClient) -> None:
    append(client, 10)
    before = scrape(client)
    client.get("/tlog/checkpoint")
    client.get("/tlog/tile/0/000.p/10")
    client.get("/tlog/tile/0/000.p/11")  # 404: beyond the checkpoint
    client.get("/M/no-such-merchant")
    client.get("/no/such/route/13800138000")
    after = scrape(client)
    tile = "/tlog/tile/{path:path}"
    requests = "foodtrace_http_requests_total"
    assert (
        value(after, requests, method="GET", route=tile, status="200")
        - value(before, requests, method="GET", route=tile, status="200")
        == 1
    )
    errors = "foodtrace_http_errors_total"
    assert (
        value(after, errors, method="GET", route=tile, status="404")
        - value(before, errors, method="GET", route=tile, status="404")
        == 1
    )
    unmatched = value(after, errors, method="GET", route="(unmatched)", status="404")
    assert unmatched >= 1
    assert not any("13800138000" in str(k) for k in after)  # raw paths never become labels
    proofs = "foodtrace_proof_seconds_count"
    assert value(after, proofs, route=tile) - value(before, proofs, route=tile) == 2
    pages = "foodtrace_page_seconds_count"
    page = "/M/{merchant_id}"
    assert value(after, pages, route=page) - value(before, pages, route=page) == 1


def _anchor(client: TestClient, size: int, status: str, final_at: datetime | None) -> None:
    with Session(client.app.state.engine) as session:  # type: ignore[attr-defined]
        dep = session.query(Deployment).first()
        if dep is None:
            dep = Deployment(chain_id=1, contract_address="0x" + "00" * 20, log_id=b"\0" * 32)
            session.add(dep)
            session.flush()
        session.add(
            Anchor(
                deployment_id=dep.id,
                tree_size=size,
                root=b"\1" * 32,
                status=status,
                submissions=1,
                final_at=final_at,
            )
        )
        session.commit()


def test_anchor_lag_in_entries_and_seconds(client: TestClient) -> None:
    append(client, 30)
    lag = client.get("/healthz").json()["anchor_lag"]
    assert lag == {"entries": 30, "seconds": None}  # nothing anchored yet
    _anchor(client, 20, FINAL, datetime.now(UTC) - timedelta(seconds=90))
    _anchor(client, 25, SUBMITTED, None)  # not final: does not count
    lag = client.get("/healthz").json()["anchor_lag"]
    assert lag["entries"] == 10 and 89 <= lag["seconds"] < 200
    samples = scrape(client)
    assert value(samples, "foodtrace_anchor_lag_entries") == 10
    assert 89 <= value(samples, "foodtrace_anchor_lag_seconds") < 200
    _anchor(client, 30, FINAL, datetime.now(UTC))
    assert client.get("/healthz").json()["anchor_lag"] == {"entries": 0, "seconds": 0.0}


def test_anchor_lag_arithmetic() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert anchor_lag(0, 0, None, now).as_json() == {"entries": 0, "seconds": 0.0}
    assert anchor_lag(5, 0, None, now).as_json() == {"entries": 5, "seconds": None}
    at = now - timedelta(seconds=7.5)
    assert anchor_lag(12, 10, at, now).as_json() == {"entries": 2, "seconds": 7.5}


def test_healthz_reports_every_part(client: TestClient) -> None:
    append(client, 3)
    body = client.get("/healthz").json()
    assert set(body) == {"status", "database", "chain", "sequencer", "anchor_lag"}
    assert body["status"] == "ok" and body["database"]["reachable"] is True
    assert body["chain"] == {
        "kind": "embedded",
        "reachable": None,
        "detail": "the embedded chain is not open in this process",
    }
    seq = body["sequencer"]
    assert seq["writer"] == "this process" and seq["writer_running"] is True
    assert seq["queued"] == 0 and seq["anchoring"] == "not run by this process"


def test_healthz_asks_an_rpc_chain_at_most_once_per_ttl(
    db_url: str, tmp_path: Path, rpc_node: tuple[RpcNode, str]
) -> None:
    node, url = rpc_node
    with make_client(db_url, tmp_path, chain_url=url) as client:
        start = time.monotonic()
        for _ in range(5):
            chain = client.get("/healthz").json()["chain"]
        elapsed = time.monotonic() - start
        assert chain == {"kind": "rpc", "reachable": True, "block_number": 42}
        assert 1 <= node.calls <= 1 + int(elapsed / CHAIN_PROBE_TTL_S)  # a loaded machine is slow


def test_an_unreachable_chain_degrades_without_leaking_its_password(
    db_url: str, tmp_path: Path
) -> None:
    dead = "http://operator:hunter2@127.0.0.1:1/"
    with make_client(db_url, tmp_path, chain_url=dead) as client:
        r = client.get("/healthz")
    assert r.status_code == 200 and r.json()["status"] == "degraded"
    assert r.json()["chain"]["reachable"] is False and "hunter2" not in r.text


def test_chain_probe_cache_and_anchorer_state() -> None:
    now = [0.0]
    calls: list[int] = []

    class Eth:
        @property
        def block_number(self) -> int:
            calls.append(1)
            return 7 + len(calls)

    chain = SimpleNamespace(w3=SimpleNamespace(eth=Eth()))
    anchorer: Any = SimpleNamespace(chain=chain, failures=0, last_error=None)
    probe = ChainProbe(Settings(), anchorer, clock=lambda: now[0])
    assert probe.status() == {"kind": "embedded", "reachable": True, "block_number": 8}
    now[0] = CHAIN_PROBE_TTL_S - 0.1
    assert probe.status()["block_number"] == 8 and len(calls) == 1
    now[0] = CHAIN_PROBE_TTL_S
    anchorer.failures, anchorer.last_error = 2, RuntimeError("rpc http://a:b@x/ down")
    status = probe.status()
    assert status["block_number"] == 9 and status["anchor_failures"] == 2
    assert status["anchor_error"] == "rpc http://a:***@x/ down"


def test_each_request_logs_one_json_line_and_echoes_its_id(client: TestClient) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.JsonFormatter())
    http_log = logging.getLogger("foodtrace.http")
    http_log.addHandler(handler)
    http_log.setLevel(logging.INFO)
    try:
        r = client.get("/healthz?phone=13800138000&probe=1", headers={"X-Request-ID": "abc-1"})
        bad = client.get("/tlog/tile/0/1", headers={"X-Request-ID": "no\nnewlines"})
    finally:
        http_log.removeHandler(handler)
    assert r.headers["x-request-id"] == "abc-1"
    assert bad.headers["x-request-id"] != "no\nnewlines" and len(bad.headers["x-request-id"]) == 32
    first, second = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert first["request_id"] == "abc-1" and first["route"] == "/healthz"
    assert first["status"] == 200 and first["duration_ms"] > 0
    assert first["path"] == "/healthz?phone=***&probe=1"
    assert "13800138000" not in stream.getvalue()
    assert second["route"] == "/tlog/tile/{path:path}" and second["status"] == 404
    assert set(first) >= {"time", "level", "logger", "message", "method"}
