"""Benchmark the inspector's workbench pages on the demo city, beside a bare FastAPI route.

Run: ``.venv/bin/python bench/workbench.py [--duration 10] [--connections 4] [--reseed]``.

Seeding (once; cached under ``var/bench/workbench/``, gitignored): ``foodtrace demo``'s
``prepare`` seeds the demo chain and the demo city (3 grids, 198 businesses, a year of
visits, complaints, grades). Serving: the real app under uvicorn on 127.0.0.1 in a
subprocess, one worker, and the bare FastAPI app (one route returning a constant) the same
way, in the same run (``bench/resolve.py``'s ``serve``). The benchmark logs in as the first
grid's officer through ``POST /workbench/login`` (with the form's CSRF token) and sends the
session cookie with every request; the 扫街纳管 page, a regulator's, with the demo
regulator's session. Load: ``wrk -t1 -c<connections> -d<duration>s --latency``
per page after a 2 s warm-up. The target is p99 <= 50 ms per page; a page with no successful
request, or any non-2xx/3xx response or socket error, fails whatever its latency.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import re
import shutil
import subprocess
import sys
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from resolve import PORT_APP, PORT_CONST, Result, parse_wrk, serve, stop  # noqa: E402

DATA = ROOT / "var" / "bench" / "workbench"
TARGET_P99_MS = 50.0
PAGES = (
    ("my grid's businesses  /workbench/", "/workbench/"),
    ("alerts               /workbench/alerts", "/workbench/alerts"),
    ("complaints           /workbench/complaints", "/workbench/complaints"),
    ("schedule and draw    /workbench/schedule", "/workbench/schedule"),
    ("trace and recall     /workbench/trace", "/workbench/trace"),
)
REGULATOR_PAGES = (("扫街纳管 form + latest /workbench/street", "/workbench/street"),)


def seed(reseed: bool) -> tuple[str, str]:
    """The demo city's data dir, seeded once; the officer's and the regulator's tokens."""
    from foodtrace.demo import prepare

    if reseed and DATA.exists():
        shutil.rmtree(DATA)
    prepare(DATA, PORT_APP)
    state = json.loads((DATA / "demo.json").read_text("utf-8"))
    regulator = next(t for who, t in state["tokens"].items() if who.endswith("(regulator)"))
    return str(next(iter(state["workbench"].values()))), str(regulator)


def login(base: str, token: str) -> str:
    """The session cookie (``name=value``) of a workbench login."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{base}/workbench/login", timeout=30).read().decode()
    csrf = re.search(r'name="csrf" value="([^"]+)"', page)
    assert csrf, "no CSRF field on the login page"
    data = urllib.parse.urlencode({"token": token, "csrf": csrf.group(1)}).encode()
    opener.open(f"{base}/workbench/login", data=data, timeout=30)  # follows to /workbench/
    cookie = next((c for c in jar if c.name == "ft_wb"), None)
    assert cookie is not None, "login gave no session cookie"
    return f"{cookie.name}={cookie.value}"


def run(name: str, url: str, duration: int, connections: int, cookie: str = "") -> Result:
    headers = ["-H", f"Cookie: {cookie}"] if cookie else []
    check = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    with urllib.request.urlopen(check, timeout=30) as r:
        assert r.status == 200 and r.url == url, (url, r.status, r.url)  # not sent to login
    base = ["wrk", "-t1", f"-c{connections}", *headers, "--latency", url]
    subprocess.run([*base[:3], "-d2s", *base[3:]], capture_output=True, check=True)
    out = subprocess.run(
        [*base[:3], f"-d{duration}s", *base[3:]], capture_output=True, check=True, text=True
    ).stdout
    return parse_wrk(name, out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--reseed", action="store_true")
    args = parser.parse_args()
    token, regulator = seed(args.reseed)
    results: list[Result] = []
    const = serve("constant_app", PORT_CONST, DATA)
    try:
        ceiling = run(
            "constant (bare FastAPI)",
            f"http://127.0.0.1:{PORT_CONST}/constant",
            args.duration,
            args.connections,
        )
    finally:
        stop(const)
    app = serve("foodtrace_app", PORT_APP, DATA)
    try:
        base = f"http://127.0.0.1:{PORT_APP}"
        cookie = login(base, token)
        for name, path in PAGES:
            results.append(run(name, base + path, args.duration, args.connections, cookie))
        cookie = login(base, regulator)
        for name, path in REGULATOR_PAGES:
            results.append(run(name, base + path, args.duration, args.connections, cookie))
    finally:
        stop(app)
    print(f"wrk -t1 -c{args.connections} -d{args.duration}s; target p99 <= {TARGET_P99_MS} ms\n")
    print("| endpoint | req/s | p50 ms | p99 ms | p99 <= 50 ms | requests | errors |")
    print("|---|---:|---:|---:|---|---:|---:|")
    print(
        f"| {ceiling.name} | {ceiling.rps:,.0f} | {ceiling.p50_ms:.2f} | {ceiling.p99_ms:.2f} "
        f"| | {ceiling.requests:,} | {ceiling.errors} |"
    )
    failed = False
    for r in results:
        ok = r.requests > 0 and r.errors == 0 and r.p99_ms <= TARGET_P99_MS
        failed |= not ok
        print(
            f"| {r.name} | {r.rps:,.0f} | {r.p50_ms:.2f} | {r.p99_ms:.2f} "
            f"| {'yes' if ok else 'NO'} | {r.requests:,} | {r.errors} |"
        )
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
