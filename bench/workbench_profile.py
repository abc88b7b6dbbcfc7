"""Profile the workbench pages in process: timings, SQL statement counts, cProfile, HTML.

Run: ``.venv/bin/python bench/workbench_profile.py [--requests 200] [--profile] [--html DIR]``
on the demo city ``bench/workbench.py`` seeds (``var/bench/workbench/``). Each page is
requested through the ASGI app (Starlette's TestClient) with the first grid's officer's
session (``--regulator``: the demo regulator's, for ``/workbench/street``; wall-clock
times, and the process's CPU time per request, which a machine shared with other work
inflates less); ``--html DIR`` writes each page's HTML with the CSRF field masked (to
compare two checkouts byte for byte), ``--profile`` prints the top functions by
cumulative time.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import pstats
import re
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = ROOT / "var" / "bench" / "workbench"
PAGES = ("/workbench/", "/workbench/alerts", "/workbench/complaints", "/workbench/schedule")
CSRF = re.compile(r'name="csrf" value="[^"]+"')


def profile(app: Any, path: str, cookies: Any, requests: int) -> None:
    """cProfile over ``requests`` GETs, the app driven in this thread (the thread pool's
    work run inline, so the profile sees the route's own work too)."""
    import fastapi.routing
    import httpx

    async def inline(func: Any, *args: Any, **kwargs: Any) -> Any:
        return func(*args, **kwargs)

    async def drive() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://127.0.0.1:8799", cookies=cookies
        ) as c:
            await c.get(path)
            prof = cProfile.Profile()
            prof.enable()
            for _ in range(requests):
                r = await c.get(path)
            prof.disable()
            assert r.status_code == 200, r.status_code
            pstats.Stats(prof).sort_stats("cumulative").print_stats(60)
            pstats.Stats(prof).sort_stats("tottime").print_stats(30)

    saved = fastapi.routing.run_in_threadpool
    fastapi.routing.run_in_threadpool = inline  # type: ignore[assignment]
    try:
        asyncio.run(drive())
    finally:
        fastapi.routing.run_in_threadpool = saved  # type: ignore[assignment]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--html", type=Path)
    parser.add_argument("--pages", nargs="*", default=list(PAGES))
    parser.add_argument(
        "--regulator", action="store_true", help="as the demo regulator (/workbench/street)"
    )
    args = parser.parse_args()
    from fastapi.testclient import TestClient
    from sqlalchemy import event

    from foodtrace.api.app import create_app
    from foodtrace.demo import demo_settings

    state = json.loads((DATA / "demo.json").read_text("utf-8"))
    token = str(next(iter(state["workbench"].values())))
    if args.regulator:
        token = next(t for who, t in state["tokens"].items() if who.endswith("(regulator)"))
    app = create_app(demo_settings(DATA, 8799))
    with TestClient(app, base_url="http://127.0.0.1:8799") as client:
        form = client.get("/workbench/login").text
        csrf = re.search(r'name="csrf" value="([^"]+)"', form)
        assert csrf
        r = client.post("/workbench/login", data={"token": token, "csrf": csrf.group(1)})
        assert r.status_code == 200, r.status_code
        engine = app.state.engine if hasattr(app.state, "engine") else None
        counter = [0]

        def count(*_: Any, **__: Any) -> None:
            counter[0] += 1

        if engine is not None:
            event.listen(engine, "before_cursor_execute", count)
        for path in args.pages:
            r = client.get(path)
            assert r.status_code == 200 and r.url.path == path, (path, r.status_code, r.url)
            if args.html:
                args.html.mkdir(parents=True, exist_ok=True)
                name = path.strip("/").replace("/", "_") or "root"
                (args.html / f"{name}.html").write_text(CSRF.sub('name="csrf" value="-"', r.text))
            counter[0] = 0
            client.get(path)
            statements = counter[0]
            times, cpu = [], []
            for _ in range(args.requests):
                t, c = time.perf_counter(), time.process_time()
                client.get(path)
                times.append((time.perf_counter() - t) * 1000)
                cpu.append((time.process_time() - c) * 1000)
            times.sort()
            p99 = times[int(len(times) * 0.99) - 1]
            print(
                f"{path:24} sql={statements:3} median={statistics.median(times):7.2f} ms "
                f"p99={p99:7.2f} ms max={times[-1]:7.2f} ms cpu median="
                f"{statistics.median(cpu):6.2f} ms"
            )
            if args.profile:
                profile(app, path, client.cookies, args.requests)


if __name__ == "__main__":
    main()
