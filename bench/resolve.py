"""Benchmark the resolver with 1M EPCIS events in the database, against a bare FastAPI app.

Run: ``.venv/bin/python bench/resolve.py [--events 1000000] [--duration 10] [--reseed]``.

Seeding (once; cached under ``var/bench/resolve-<N>/``, gitignored): ``foodtrace.demo``
seeds its realistic chain through the real API (parties, licences, lots, events, reports,
an anchor), then N synthetic ``epcis.event`` entries are appended in bulk with
``MerkleLog.append_leaves`` (real leaf hashing and tiles; the leaf data are entry-shaped JSON
but NOT signed, to keep seeding to seconds), and the same N events are inserted straight
into the EPCIS index tables (``epcis_events`` and one ``epcis_event_epcs`` row each), shaped
like the rows the capture projector writes for the demo's own events. The synthetic events
belong to 20,000 other lots of another GTIN, so the demo's lot and merchant pages are served
from indexes over a 1M-event table, not from a small one.

Serving: the real app (``create_app`` on the seeded settings) under uvicorn on 127.0.0.1 in
a subprocess, ONE worker: the machine has 2 cores and wrk needs one of them; a second worker
would only fight the load generator for the same cores and measure the scheduler. The bare
FastAPI app (one route returning a constant) is served the same way, in the same run.

Load: ``wrk -t1 -c<connections> -d<duration>s --latency`` in a second process, after a
short warm-up per URL. Each resolver request also counts a scan, as in production (into the
app's scan buffer, written in batches about every second).

The resolver is measured twice in the same run: with its page microcache (the default,
``FOODTRACE_RESOLVE_CACHE_SECONDS=1``: a page is rebuilt at most once a second per URL and
format, scans still counted per request) and without it (``=0``: every request builds the
page from the database and its proofs). The targets are judged on both rows; the table says
which row is which. A row with no successful request, or with any non-2xx/3xx response or
socket error, fails whatever its latency.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CACHE = ROOT / "var" / "bench"
PORT_APP = 8731
PORT_CONST = 8732
NOISE_LOTS = 20_000
NOISE_GTIN = "06901234999997"
CHUNK = 100_000
TARGET_P99_MS = 25.0
TARGET_RATIO = 0.5


# --- seeding ---------------------------------------------------------------------------------


def seed(events: int, reseed: bool) -> tuple[Path, dict[str, str]]:
    """The seeded data dir and the URLs to load (merchant, lot), seeding only if needed. A
    cached database is brought to the current schema (new indexes) before it is served."""
    data_dir = CACHE / f"resolve-{events}"
    marker = data_dir / "bench.json"
    if marker.exists() and not reseed:
        from foodtrace.demo import demo_settings
        from foodtrace.store.db import migrate

        migrate(demo_settings(data_dir, PORT_APP).resolved_database_url)
        return data_dir, json.loads(marker.read_text())
    from foodtrace.demo import prepare

    if data_dir.exists():
        shutil.rmtree(data_dir)
    t0 = time.perf_counter()
    summary = prepare(data_dir, port=PORT_APP, reset=True)
    t1 = time.perf_counter()
    urls = {"merchant": summary.qr[0][1], "lot": summary.qr[1][1]}
    _bulk_events(data_dir, events)
    t2 = time.perf_counter()
    print(f"seeded demo in {t1 - t0:.1f} s, {events:,} events in {t2 - t1:.1f} s", flush=True)
    marker.write_text(json.dumps(urls))
    return data_dir, urls


def _bulk_events(data_dir: Path, n: int) -> None:
    from foodtrace.demo import demo_settings
    from foodtrace.store.log import MerkleLog

    settings = demo_settings(data_dir, PORT_APP)
    db = data_dir / "foodtrace.db"
    con = sqlite3.connect(db)
    # A template: one of the demo's own ObjectEvents with a lot-class quantity.
    ev = con.execute(
        "SELECT e.id, e.type, e.action, e.event_time, e.record_time, e.biz_step, e.disposition,"
        " e.read_point, e.biz_location, e.author, e.body, c.role, c.epc, c.canonical, c.uom"
        " FROM epcis_events e JOIN epcis_event_epcs c ON c.event_pk = e.id"
        " WHERE c.is_class = 1 AND c.lot IS NOT NULL ORDER BY e.id LIMIT 1"
    ).fetchone()
    (_, etype, action, etime, rtime, step, disp, rp, loc, author, body, role, epc, canon, uom) = ev
    con.close()
    tmpl_lot = re.search(r"/10/([^/?\"]+)", epc)
    assert tmpl_lot, epc
    key = "0" * 16
    with MerkleLog(settings=settings, migrate=False) as log:
        start = log.size()
        for base in range(0, n, CHUNK):
            count = min(CHUNK, n - base)
            datas = [
                json.dumps(
                    {
                        "author": author,
                        "body": {
                            "event": {"eventID": f"urn:uuid:bench-{i}", "type": etype},
                            "hash_id": f"ni:///sha-256;bench{i}?ver=CBV2.0",
                        },
                        "issued_at": rtime,
                        "key": key,
                        "sig": "unsigned-bench-data",
                        "type": "epcis.event",
                        "v": 1,
                    },
                    separators=(",", ":"),
                ).encode()
                for i in range(base, base + count)
            ]
            log.append_leaves(datas, ("epcis.event", author, key, "2026-01-01T00:00:00Z"))
    con = sqlite3.connect(db)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=OFF")
    (next_id,) = con.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM epcis_events").fetchone()
    for base in range(0, n, CHUNK):
        count = min(CHUNK, n - base)
        rows = []
        epcs = []
        for i in range(base, base + count):
            pk = next_id + i
            lot = f"N{i % NOISE_LOTS:05d}"
            rows.append(
                (
                    pk,
                    f"ni:///sha-256;bench{i}?ver=CBV2.0",
                    f"urn:uuid:bench-{i}",
                    0,
                    etype,
                    action,
                    etime,
                    rtime,
                    step,
                    disp,
                    rp,
                    loc,
                    author,
                    start + i,
                    body.replace(tmpl_lot.group(1), lot),
                )
            )
            lot_epc = epc.replace(tmpl_lot.group(1), lot)
            epcs.append(
                (
                    pk,
                    role,
                    1,
                    lot_epc,
                    canon.replace(tmpl_lot.group(1), lot),
                    NOISE_GTIN,
                    lot,
                    10.0,
                    uom,
                )
            )
        con.executemany(
            "INSERT INTO epcis_events (id, hash_id, event_id, declares_error, type, action,"
            " event_time, record_time, biz_step, disposition, read_point, biz_location, author,"
            " entry_index, body) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            rows,
        )
        con.executemany(
            "INSERT INTO epcis_event_epcs (event_pk, role, is_class, epc, canonical, gtin, lot,"
            " quantity, uom) VALUES (?,?,?,?,?,?,?,?,?)",
            epcs,
        )
        con.commit()
    con.execute("ANALYZE")
    con.commit()
    con.close()


# --- serving ---------------------------------------------------------------------------------


def foodtrace_app():  # type: ignore[no-untyped-def]
    """uvicorn factory: the real app on the seeded data (FOODTRACE_BENCH_DIR)."""
    from foodtrace.api.app import create_app
    from foodtrace.demo import demo_settings

    return create_app(demo_settings(Path(os.environ["FOODTRACE_BENCH_DIR"]), PORT_APP))


def constant_app():  # type: ignore[no-untyped-def]
    """uvicorn factory: the framework's ceiling, one route returning a constant."""
    from fastapi import FastAPI

    app = FastAPI()

    @app.get("/constant")
    def constant() -> dict[str, str]:
        return {"status": "ok"}

    return app


def serve(
    factory: str, port: int, data_dir: Path, cache_seconds: float = 1.0
) -> subprocess.Popen[bytes]:
    env = dict(
        os.environ,
        FOODTRACE_BENCH_DIR=str(data_dir),
        FOODTRACE_RESOLVE_CACHE_SECONDS=str(cache_seconds),
    )
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "uvicorn", "--factory", f"resolve:{factory}",
            "--app-dir", str(ROOT / "bench"), "--host", "127.0.0.1", "--port", str(port),
            "--workers", "1", "--no-access-log", "--log-level", "warning",
        ],
        cwd=ROOT,
        env=env,
    )  # fmt: skip
    deadline = time.time() + 60
    while time.time() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return proc
        if proc.poll() is not None:
            raise RuntimeError(f"{factory} exited with {proc.returncode}")
        time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"{factory} did not start on port {port}")


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


# --- load ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    name: str
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int  # non-2xx/3xx responses plus socket errors (connect, read, write, timeout)

    def passes(self, ceiling: Result) -> tuple[bool, bool]:
        """(p99 target met, throughput target met); both False for a row that failed."""
        ok = self.requests > 0 and self.errors == 0
        return (
            ok and self.p99_ms <= TARGET_P99_MS,
            ok and self.rps >= TARGET_RATIO * ceiling.rps,
        )


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def parse_wrk(name: str, out: str) -> Result:
    """A wrk ``--latency`` report as a Result. Missing figures (no request completed) read
    as zero requests, which fails the row rather than passing it."""

    def find(pattern: str) -> re.Match[str] | None:
        return re.search(pattern, out)

    done = find(r"(\d+) requests in")
    rps = find(r"Requests/sec:\s+([\d.]+)")
    p50 = find(r"\s50%\s+(\S+)")
    p99 = find(r"\s99%\s+(\S+)")
    bad = find(r"Non-2xx or 3xx responses: (\d+)")
    sock = find(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")
    errors = (int(bad.group(1)) if bad else 0) + (sum(map(int, sock.groups())) if sock else 0)
    return Result(
        name,
        float(rps.group(1)) if rps else 0.0,
        _ms(p50.group(1)) if p50 else 0.0,
        _ms(p99.group(1)) if p99 else 0.0,
        int(done.group(1)) if done else 0,
        errors,
    )


def wrk(name: str, url: str, accept: str, duration: int, connections: int) -> Result:
    """One wrk run (after a 2 s warm-up) and its requests/s, p50 and p99."""
    check = urllib.request.Request(url, headers={"Accept": accept})
    with urllib.request.urlopen(check, timeout=30) as r:
        assert r.status == 200, (url, r.status)
    base = ["wrk", "-t1", f"-c{connections}", "-H", f"Accept: {accept}", "--latency", url]
    subprocess.run([*base[:3], "-d2s", *base[3:]], capture_output=True, check=True)
    out = subprocess.run(
        [*base[:3], f"-d{duration}s", *base[3:]], capture_output=True, check=True, text=True
    ).stdout
    return parse_wrk(name, out)


ENDPOINTS = (
    ("merchant JSON  /M/{id}", "merchant", "application/json"),
    ("lot JSON       /01/…/10/…", "lot", "application/json"),
    ("lot HTML page  /01/…/10/…", "lot", "text/html"),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--reseed", action="store_true")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (Debian package wrk)")

    data_dir, urls = seed(args.events, args.reseed)
    const = serve("constant_app", PORT_CONST, data_dir)
    try:
        ceiling = wrk(
            "constant (bare FastAPI)",
            f"http://127.0.0.1:{PORT_CONST}/constant",
            "application/json",
            args.duration,
            args.connections,
        )
    finally:
        stop(const)
    runs: dict[str, list[Result]] = {}
    for label, ttl in (("cached (1 s microcache)", 1.0), ("uncached", 0.0)):
        app = serve("foodtrace_app", PORT_APP, data_dir, cache_seconds=ttl)
        try:
            runs[label] = [
                wrk(name, urls[which], accept, args.duration, args.connections)
                for name, which, accept in ENDPOINTS
            ]
        finally:
            stop(app)

    print(
        f"\nresolver with {args.events:,} EPCIS events; uvicorn 1 worker; wrk -t1 "
        f"-c{args.connections} -d{args.duration}s on 127.0.0.1\n"
    )
    print(
        "| endpoint | page cache | req/s | p50 ms | p99 ms | vs constant "
        "| p99 <= 25 ms | >= 50% | requests | errors |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    print(
        f"| {ceiling.name} | | {ceiling.rps:,.0f} | {ceiling.p50_ms:.2f} "
        f"| {ceiling.p99_ms:.2f} | 100% | | | {ceiling.requests:,} | {ceiling.errors} |"
    )
    for i in range(len(ENDPOINTS)):
        for label, results in runs.items():
            r = results[i]
            p99_ok, rps_ok = r.passes(ceiling)
            print(
                f"| {r.name} | {label} | {r.rps:,.0f} | {r.p50_ms:.2f} | {r.p99_ms:.2f} "
                f"| {r.rps / ceiling.rps:.0%} | {'yes' if p99_ok else 'NO'} "
                f"| {'yes' if rps_ok else 'NO'} | {r.requests:,} | {r.errors} |"
            )


if __name__ == "__main__":
    main()
