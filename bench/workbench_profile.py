"""Profile the workbench pages in process: timings, SQL statement counts, cProfile, HTML.

Run: ``.venv/bin/python bench/workbench_profile.py [--requests 200] [--profile] [--html DIR]``
on the demo city ``bench/workbench.py`` seeds (``var/bench/workbench/``). Each page is
requested through the ASGI app (Starlette's TestClient) with the first grid's officer's
session; ``--html DIR`` writes each page's HTML with the CSRF field masked (to compare two
checkouts byte for byte), ``--profile`` prints the top functions by cumulative time.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = ROOT / "var" / "bench" / "workbench"
PAGES = ("/workbench/", "/workbench/alerts", "/workbench/complaints", "/workbench/schedule")
CSRF = re.compile(r'name="csrf" value="[^"]+"')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--html", type=Path)
    args = parser.parse_args()
    from fastapi.testclient import TestClient
    from sqlalchemy import event

    from foodtrace.api.app import create_app
    from foodtrace.demo import demo_settings

    state = json.loads((DATA / "demo.json").read_text("utf-8"))
    token = str(next(iter(state["workbench"].values())))
    app = create_app(demo_settings(DATA, 8799))
    with TestClient(app, base_url="http://127.0.0.1:8799") as client:
        form = client.get("/workbench/login").text
        csrf = re.search(r'name="csrf" value="([^"]+)"', form)
        assert csrf
        r = client.post("/workbench/login", data={"token": token, "csrf": csrf.group(1)})
        assert r.status_code == 200, r.status_code
        engine = app.state.engine if hasattr(app.state, "engine") else None
        counter = [0]
        if engine is not None:
            event.listen(engine, "before_cursor_execute", lambda *a, **k: counter.__setitem__(0, counter[0] + 1))
        for path in PAGES:
            r = client.get(path)
            assert r.status_code == 200 and r.url.path == path, (path, r.status_code, r.url)
            if args.html:
                args.html.mkdir(parents=True, exist_ok=True)
                name = path.strip("/").replace("/", "_") or "root"
                (args.html / f"{name}.html").write_text(CSRF.sub('name="csrf" value="-"', r.text))
            counter[0] = 0
            client.get(path)
            statements = counter[0]
            times = []
            prof = cProfile.Profile() if args.profile else None
            for _ in range(args.requests):
                t = time.perf_counter()
                if prof:
                    prof.enable()
                client.get(path)
                if prof:
                    prof.disable()
                times.append((time.perf_counter() - t) * 1000)
            times.sort()
            p99 = times[int(len(times) * 0.99) - 1]
            print(
                f"{path:24} sql={statements:3} median={statistics.median(times):7.2f} ms "
                f"p99={p99:7.2f} ms max={times[-1]:7.2f} ms"
            )
            if prof:
                pstats.Stats(prof).sort_stats("cumulative").print_stats(45)


if __name__ == "__main__":
    main()
