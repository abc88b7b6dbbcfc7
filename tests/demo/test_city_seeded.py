"""``foodtrace demo`` seeds the demo city (SQLite, as the command does): every workbench page
has something real to show to the first grid's officer, whose token the summary prints."""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

from foodtrace.demo import demo_settings, prepare, summary_lines

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from foodtrace.api.app import create_app


def test_the_city_fills_every_workbench_page(tmp_path: Path) -> None:
    data_dir = tmp_path / "demo"
    summary = prepare(data_dir, 8123)
    lines = "\n".join(summary_lines(summary))
    assert "/workbench/login" in lines
    [officer, worker] = summary.workbench.items()
    assert "监管员" in officer[0] and "网格员" in worker[0]
    assert officer[1] in lines  # the token to paste
    state = json.loads((data_dir / "demo.json").read_text("utf-8"))
    assert state["workbench"] == summary.workbench
    app = create_app(demo_settings(data_dir, 8123), run_anchorer=False)
    with TestClient(app, follow_redirects=False) as client:
        page = client.get("/workbench/login").text
        csrf = re.search(r'name="csrf" value="([^"]+)"', page)
        assert csrf
        r = client.post("/workbench/login", data={"token": officer[1], "csrf": csrf.group(1)})
        assert r.status_code == 303, r.text
        home = client.get("/workbench/").text
        assert home.count('class="business"') == 66  # a third of the 198
        assert re.search(r'class="grade grade-[ABCD]"', home) and "face-较差" in home
        alerts = client.get("/workbench/alerts").text
        for kind in ("licence_expiring", "inspection_unacknowledged"):
            assert f"alert-{kind}" in alerts, kind
        complaints = client.get("/workbench/complaints").text
        assert "已办结" in complaints and ("办理中" in complaints or "已超时" in complaints)
        schedule = client.get("/workbench/schedule").text
        assert 'class="due due-' in schedule
        trace = client.get("/workbench/trace").text
        assert "二级召回" in trace  # the chain's recall
