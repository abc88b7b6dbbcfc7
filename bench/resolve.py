"""Benchmark the resolver with 1M EPCIS events in the database, against a bare FastAPI app.

Run: ``nice -n 19 .venv/bin/python bench/resolve.py --seed-only`` once, then
``flock /tmp/bench.lock .venv/bin/python bench/resolve.py [--runs hot,cold] [--workers 1,4]
[--events 1000000] [--duration 10] [--reseed]``.

Seeding (once; cached under ``var/bench/resolve-<N>/``, gitignored): ``foodtrace.demo``
seeds its realistic chain through the real API (parties, licences, lots, events, reports,
an anchor), then N synthetic ``epcis.event`` entries are appended in bulk with
``MerkleLog.append_leaves`` (real leaf hashing and tiles; the leaf data are entry-shaped JSON
but NOT signed, to keep seeding to seconds), and the same N events are inserted straight
into the EPCIS index tables (``epcis_events`` and one ``epcis_event_epcs`` row each), shaped
like the rows the capture projector writes for the demo's own events. The synthetic events
belong to 100,000 other lots of another GTIN (ten each at 1M), which get ``lots`` rows, and
10,000 synthetic shops get ``parties`` rows (a bare shop: no licence, inspection or report),
each pointing at a synthetic leaf; a checkpoint then covers the whole log. Their signed code
paths are written to ``codes-merchant.txt`` and ``codes-lot.txt``, and every one of their
pages (merchant JSON, lot JSON and HTML) is stored in the page read model with the
refresher's own builder (``foodtrace.resolver.refresher.refresh_all``), as the refresher does
after a page's first scan.

Serving: the real app (``create_app`` on the seeded settings) under uvicorn on 127.0.0.1 in
a subprocess, one worker (and ``--workers`` for the cold run; SQLite, the seeded database:
the machine has 2 cores, and wrk needs one of them, so 4 workers mostly measure the
scheduler). The bare FastAPI app (one route returning a constant) is served the same way,
with each worker count, in the same run; each row is compared with the constant at its own
worker count.

Load: ``wrk -t1 -c<connections> -d<duration>s --latency`` in a second process, after a
short warm-up. Each resolver request also counts a scan, as in production (into the app's
scan buffer, written in batches about every second).

``hot``: the demo's merchant and lot codes, with the page microcache (the default,
``FOODTRACE_RESOLVE_CACHE_SECONDS=1``) and without it (``=0``). ``cold``: the microcache
off and every request a code drawn uniformly at random (``bench/random_codes.lua``) from the
10,000 shops or the 100,000 lots, served from the page read model; and once more on one
worker without the read model (``FOODTRACE_PAGE_VIEWS=false``: every request builds its
page), for reference. The targets (p99 <= 25 ms, >= 50% of the constant) are judged on every
row; a row with no successful request, or with any non-2xx/3xx response or socket error,
fails whatever its latency.
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
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CACHE = ROOT / "var" / "bench"
PORT_APP = 8731
PORT_CONST = 8732
NOISE_LOTS = 100_000  # lots with a lot page (ten synthetic events each at 1M events)
MERCHANTS = 10_000  # synthetic shops with a merchant page
NOISE_GTIN = "06901234999983"  # a valid check digit: codes for its lots are signed
CHUNK = 100_000
TARGET_P99_MS = 25.0
TARGET_RATIO = 0.5
STORED = {"merchant": ["json"], "lot": ["json", "html"]}  # the pages the cold run asks for


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
    _bulk_pages(data_dir, events)
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
            lot = f"N{i % NOISE_LOTS:06d}"
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


def _bulk_pages(data_dir: Path, n: int) -> None:
    """The synthetic lots and shops the cold run picks from: a product for the noise GTIN,
    a ``lots`` row for each of the NOISE_LOTS lots the events name and MERCHANTS ``parties``
    rows, each pointing at one of the synthetic leaves (so their pages prove real entries);
    then a checkpoint covering the whole log, so the pages carry inclusion proofs."""
    from foodtrace.demo import demo_settings
    from foodtrace.store.log import MerkleLog

    settings = demo_settings(data_dir, PORT_APP)
    con = sqlite3.connect(data_dir / "foodtrace.db")
    (start,) = con.execute("SELECT MIN(entry_index) FROM epcis_events WHERE hash_id LIKE "
                           "'ni:///sha-256;bench%'").fetchone()  # fmt: skip
    name, producer, spec, category, p_index = con.execute(
        "SELECT name, producer, specification, category, entry_index FROM products LIMIT 1"
    ).fetchone()
    con.execute(
        "INSERT INTO products (gtin, name, producer, specification, category, entry_index)"
        " VALUES (?,?,?,?,?,?)",
        (NOISE_GTIN, f"基准{name}", producer, spec, category, p_index),
    )
    con.executemany(
        "INSERT INTO lots (gtin, lot_code, producer, production_date, quantity, unit,"
        " entry_index) VALUES (?,?,?,?,?,?,?)",
        (
            (NOISE_GTIN, f"N{i:06d}", producer, "2026-11-01", 100.0, "kg", start + i % n)
            for i in range(NOISE_LOTS)
        ),
    )
    con.executemany(
        "INSERT INTO parties (party_id, name, kind, credit_code, gln, region, grid, address,"
        " entry_index) VALUES (?,?,?,?,?,?,?,?,?)",
        (
            (f"bench-shop-{j:05d}", f"基准餐馆{j:05d}", "restaurant", f"91BENCH{j:011d}",
             None, "北京市朝阳区", None, f"朝阳路{j}号", start + (NOISE_LOTS + j) % n)
            for j in range(MERCHANTS)
        ),
    )  # fmt: skip
    con.commit()
    con.close()
    with MerkleLog(settings=settings, migrate=False) as log:
        log.issue_checkpoint()


def cold_codes(data_dir: Path) -> dict[str, Path]:
    """Signed code paths of every synthetic shop and lot, one a line (``codes-<which>.txt``),
    for the wrk script to pick from uniformly at random; signed once and kept."""
    from foodtrace.demo import demo_settings
    from foodtrace.store.keyfiles import load_or_create_key
    from foodtrace.trace.codes import lot_code, merchant_code

    files = {w: data_dir / f"codes-{w}.txt" for w in ("merchant", "lot")}
    if all(f.exists() for f in files.values()):
        return files
    settings = demo_settings(data_dir, PORT_APP)
    key = load_or_create_key(settings.resolved_code_authority_key_file)
    base = settings.public_base_url.rstrip("/")
    shops = (merchant_code(base, f"bench-shop-{j:05d}", key) for j in range(MERCHANTS))
    lots = (lot_code(base, NOISE_GTIN, f"N{i:06d}", key) for i in range(NOISE_LOTS))
    for which, codes in (("merchant", shops), ("lot", lots)):
        files[which].write_text("".join(c.url[len(base) :] + "\n" for c in codes))
    return files


def _progress(which: str, total: int) -> Callable[[int], None]:
    t0 = time.perf_counter()

    def show(k: int) -> None:
        if k % 10_000 == 0 or k == total:
            took = time.perf_counter() - t0
            print(f"  read model: {which} {k:,}/{total:,} in {took:.0f} s", flush=True)

    return show


def fill_read_model(data_dir: Path, files: dict[str, Path], lots: int) -> dict[str, Path]:
    """Store the synthetic pages in the page read model (as the refresher would after each
    page's first scan): every shop's JSON and the first ``lots`` lots' JSON and HTML, skipping
    pages already stored. Returns the code files the cold run draws from: the shops, and
    those lots (``codes-lot-<lots>.txt``)."""
    from sqlalchemy import select

    from foodtrace.demo import demo_settings
    from foodtrace.resolver.pageviews import PageView
    from foodtrace.resolver.refresher import refresh_all
    from foodtrace.store.db import session_factory
    from foodtrace.store.log import MerkleLog
    from foodtrace.trace.codes import parse_code

    drawn = {"merchant": files["merchant"], "lot": data_dir / f"codes-lot-{lots}.txt"}
    lines = files["lot"].read_text().splitlines(keepends=True)[:lots]
    drawn["lot"].write_text("".join(lines))
    settings = demo_settings(data_dir, PORT_APP)
    base = settings.public_base_url.rstrip("/")
    with MerkleLog(settings=settings, migrate=False) as log:
        sessions = session_factory(log.engine)
        with sessions() as session:
            have = {(k, m) for k, m in session.execute(select(PageView.page_key, PageView.mode))}
        for which, wanted in STORED.items():
            paths = drawn[which].read_text().split()
            work = [
                (key, m, base + p)
                for p in paths
                for m in wanted
                if ((key := parse_code(base + p).subject.path()), m) not in have
            ]
            stored = refresh_all(
                sessions, log, settings, (0.0, 8.0), work, _progress(which, len(work))
            )
            print(f"stored {stored:,} {which} pages", flush=True)
    return drawn


# --- serving ---------------------------------------------------------------------------------


def foodtrace_app():  # type: ignore[no-untyped-def]
    """uvicorn factory: the real app on the seeded data (FOODTRACE_BENCH_DIR), with the
    interpreter tuned and the heap settled as ``foodtrace serve`` does."""
    from foodtrace.api.app import create_app
    from foodtrace.api.worker import settle_heap, tune_interpreter
    from foodtrace.demo import demo_settings

    settings = demo_settings(Path(os.environ["FOODTRACE_BENCH_DIR"]), PORT_APP)
    tune_interpreter(settings)
    app = create_app(settings)
    settle_heap()
    return app


def constant_app():  # type: ignore[no-untyped-def]
    """uvicorn factory: the framework's ceiling, one route returning a constant."""
    from fastapi import FastAPI

    app = FastAPI()

    @app.get("/constant")
    def constant() -> dict[str, str]:
        return {"status": "ok"}

    return app


def serve(
    factory: str,
    port: int,
    data_dir: Path,
    cache_seconds: float = 1.0,
    workers: int = 1,
    page_views: bool = True,
) -> subprocess.Popen[bytes]:
    env = dict(
        os.environ,
        FOODTRACE_BENCH_DIR=str(data_dir),
        FOODTRACE_RESOLVE_CACHE_SECONDS=str(cache_seconds),
        FOODTRACE_PAGE_VIEWS=str(page_views).lower(),
    )
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "uvicorn", "--factory", f"resolve:{factory}",
            "--app-dir", str(ROOT / "bench"), "--host", "127.0.0.1", "--port", str(port),
            "--workers", str(workers), "--no-access-log", "--log-level", "warning",
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


def wrk(
    name: str, url: str, accept: str, duration: int, connections: int, codes: Path | None = None
) -> Result:
    """One wrk run (after a 2 s warm-up) and its requests/s, p50 and p99; with ``codes``,
    each request asks for a code picked at random from that file (random_codes.lua)."""
    first = url if codes is None else url + codes.read_text().split("\n", 1)[0]
    check = urllib.request.Request(first, headers={"Accept": accept})
    with urllib.request.urlopen(check, timeout=30) as r:
        assert r.status == 200, (first, r.status)
    base = ["wrk", "-t1", f"-c{connections}", "-H", f"Accept: {accept}", "--latency"]
    if codes is not None:
        base += ["-s", str(ROOT / "bench" / "random_codes.lua"), url, "--", str(codes)]
    else:
        base += [url]
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


COLD_ENDPOINTS = (
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
    parser.add_argument(
        "--seed-only", action="store_true", help="seed and fill the read model, then stop"
    )
    parser.add_argument(
        "--lots-stored",
        type=int,
        default=NOISE_LOTS,
        help="lots whose pages are stored and drawn from (all by default; storing one costs"
        " a page build)",
    )
    parser.add_argument("--runs", default="hot,cold", help="hot (the demo's codes), cold")
    parser.add_argument("--workers", default="1,4", help="uvicorn workers for the cold run")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (Debian package wrk)")

    data_dir, urls = seed(args.events, args.reseed)
    files = fill_read_model(data_dir, cold_codes(data_dir), args.lots_stored)
    if args.seed_only:
        return
    runs = args.runs.split(",")
    workers = [int(w) for w in args.workers.split(",")] if "cold" in runs else [1]

    def load(name: str, url: str, accept: str, codes: Path | None = None) -> Result:
        return wrk(name, url, accept, args.duration, args.connections, codes)

    ceilings: dict[int, Result] = {}
    for n in sorted({1, *workers}):
        const = serve("constant_app", PORT_CONST, data_dir, workers=n)
        try:
            ceilings[n] = load(
                "constant (bare FastAPI)",
                f"http://127.0.0.1:{PORT_CONST}/constant",
                "application/json",
            )
        finally:
            stop(const)
    rows: list[tuple[str, int, Result]] = [("", n, c) for n, c in ceilings.items()]
    hot = (("cached (1 s microcache)", 1.0), ("uncached", 0.0)) if "hot" in runs else ()
    for label, ttl in hot:
        app = serve("foodtrace_app", PORT_APP, data_dir, cache_seconds=ttl)
        try:
            for name, which, accept in ENDPOINTS:
                rows.append((f"demo code, {label}", 1, load(name, urls[which], accept)))
        finally:
            stop(app)
    cold = [(n, True) for n in workers] + [(1, False)] if "cold" in runs else []
    base = f"http://127.0.0.1:{PORT_APP}"
    for n, stored in cold:
        app = serve("foodtrace_app", PORT_APP, data_dir, 0.0, workers=n, page_views=stored)
        label = "random codes, uncached, " + ("read model" if stored else "no read model")
        try:
            for name, which, accept in COLD_ENDPOINTS:
                rows.append((label, n, load(name, base, accept, files[which])))
        finally:
            stop(app)
    print(
        f"\nresolver with {args.events:,} EPCIS events; cold: codes drawn at random from "
        f"{MERCHANTS:,} shops and {args.lots_stored:,} of the {NOISE_LOTS:,} lots; "
        f"wrk -t1 -c{args.connections} -d{args.duration}s on 127.0.0.1\n"
    )
    print(
        "| endpoint | codes, page cache | workers | req/s | p50 ms | p99 ms | vs constant "
        "| p99 <= 25 ms | >= 50% | requests | errors |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for label, n, r in rows:
        ceiling = ceilings[n]
        p99_ok, rps_ok = r.passes(ceiling)
        judged = r is not ceiling
        print(
            f"| {r.name} | {label} | {n} | {r.rps:,.0f} | {r.p50_ms:.2f} | {r.p99_ms:.2f} "
            f"| {r.rps / ceiling.rps:.0%} | {('yes' if p99_ok else 'NO') if judged else ''} "
            f"| {('yes' if rps_ok else 'NO') if judged else ''} | {r.requests:,} | {r.errors} |"
        )


if __name__ == "__main__":
    main()
