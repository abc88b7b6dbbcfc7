"""``/healthz`` and ``/metrics`` while the app's own anchorer anchors on the embedded chain."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from foodtrace.api.app import create_app
from foodtrace.config import Settings
from foodtrace.store import db

DEADLINE_S = 90.0


def wait_for(client: TestClient, done: Any) -> dict[str, Any]:
    deadline = time.monotonic() + DEADLINE_S
    while True:
        body: dict[str, Any] = client.get("/healthz").json()
        if done(body):
            return body
        assert time.monotonic() < deadline, body
        time.sleep(0.5)


@pytest.mark.slow  # ~20 s: py-evm deploys and anchors on a loaded machine
def test_health_follows_a_real_anchorer(db_url: str, tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path / "var",
        anchor_every_entries=16,
        anchor_align_bits=0,
        anchor_poll_seconds=0.1,
    )
    db.migrate(db_url)
    engine = db.make_engine(db_url)
    app = create_app(settings, engine=engine, run_anchorer=True)
    with TestClient(app) as client:
        app.state.log.append_leaves([b'{"n":%d}' % i for i in range(20)], ("e", "a", "k", "t"))
        body = wait_for(
            client,
            # The chain's block number is cached a few seconds: wait for one after an anchor.
            lambda b: b["anchor_lag"]["entries"] < 20 and b["chain"].get("block_number", 0) >= 1,
        )
        assert body["status"] == "ok"
        assert body["chain"]["kind"] == "embedded" and body["chain"]["reachable"] is True
        assert body["sequencer"]["anchoring"] == "this process holds the anchoring lock"
        lag = body["anchor_lag"]
        assert lag["entries"] in (0, 4) and lag["seconds"] is not None  # anchored at 16 or 20
        metrics = client.get("/metrics").text
        assert f"foodtrace_anchor_lag_entries {float(lag['entries'])}" in metrics
    engine.dispose()
