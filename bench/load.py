"""The mixed load run: FoodTrace on PostgreSQL with 4 uvicorn workers over a province's
dataset (``bench/dataset.py``), for N minutes, beside a bare FastAPI route in the same run.

Run (after ``bench/dataset.py --db URL --out DIR``)::

    nice -n 19 .venv/bin/python bench/load.py --db URL --out DIR --prepare-only
    flock /tmp/bench.lock .venv/bin/python bench/load.py --db URL --out DIR --minutes 3

Preparing (once per dataset, cached in ``DIR/load.json``): 32 farms get a server-held
(custodial) signing key, registered by a ``party.key.register`` entry the regulator signs,
and a producer token; 食安码 are signed with the code authority's key for 5,000 lots drawn
uniformly from every lot of the dataset and for every shop and restaurant (merchant codes).

Serving: ``uvicorn --factory --workers 4 foodtrace.api.worker:app`` on 127.0.0.1 with
``FOODTRACE_SEQUENCER=candidate`` (one worker is elected sequencer) and ``foodtrace anchor``
beside it (elected anchorer, the embedded chain).

Load: ``--clients`` concurrent closed-loop clients (asyncio, one process), each picking per
request by weight: **ingest** (``POST /epcis/capture``, one ObjectEvent commissioning a new
lot, by one of the 32 farms' tokens: signed by the server with the farm's key), **scan**
(``GET`` a lot or merchant code, uniformly random, JSON), **trace** (``GET
/api/v1/lots/{gtin}/{lot}/trace`` of a random lot, upstream or downstream, depth 5, by the
regulator's token). Reported per operation: count, throughput, p50/p99 latency, errors (any
non-2xx or transport error). Reference, same run, same clients: the bare route under 4
workers for 20 s. Afterwards every acknowledged capture's entries are read back from the log
(type, author, hash id) and the log is audited.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import httpx  # noqa: E402
from load_serve import environment, free_port, start, stop, uvicorn  # noqa: E402

PORT = 0  # free loopback ports, chosen when the run starts
PORT_CONST = 0
INGEST_PARTIES = 32
LOT_CODES = 5_000
TRACE_DEPTH = 5
# Lot scans are not in the mix yet: the dataset's lots are commissioned by EPCIS events and
# have no ``lot.create`` record, for which the resolver answers 404 (see the README).
WEIGHTS = {"ingest": 2, "scan merchant": 8, "trace": 2}


def settings_for(url: str, out: Path) -> Any:
    from foodtrace.config import Settings

    return Settings(
        data_dir=out / "var",
        database_url=url,
        log_origin="province.foodtrace/log",
        log_key_file=out / "log.key",
    )


def prepare(url: str, out: Path) -> dict[str, Any]:
    """Tokens, custodial keys and signed codes for the run (cached in ``out/load.json``)."""
    cache = out / "load.json"
    if cache.exists():
        return dict(json.loads(cache.read_text()))
    from sqlalchemy import text
    from sqlalchemy.orm import Session

    from foodtrace.auth import Role, issue_token
    from foodtrace.labels.service import authority_key
    from foodtrace.record import registry
    from foodtrace.record.custody import create_custodial_key
    from foodtrace.store.log import MerkleLog
    from foodtrace.trace import codes, keys
    from foodtrace.trace import entry as entry_mod

    province = json.loads((out / "province.json").read_text())
    settings = settings_for(url, out)
    rng = random.Random(province["seed"])
    farms = [p for p, kind, _ in province["party_list"] if kind == "farm"][:INGEST_PARTIES]
    regulator = keys.read_private(out / "regulator.key")
    registry.load_types()
    tokens = {}
    with MerkleLog(url, settings=settings, migrate=False) as log:
        for farm in farms:
            with Session(log.engine) as session, session.begin():
                public = create_custodial_key(session, farm, settings)
                tokens[farm] = issue_token(session, farm, Role.PRODUCER)
            body = {"party_id": farm, "public_key": public}
            e = entry_mod.sign(
                regulator, type="party.key.register", author=province["regulator"]["party_id"],
                body=body,
            )  # fmt: skip
            log.append([e], projectors=[registry.project])
        with log.engine.connect() as conn:
            lots = conn.execute(
                text("SELECT gtin, lot_code FROM lineage_nodes WHERE kind = 'lot' ORDER BY id")
            ).all()
    key = authority_key(settings)
    base = settings.public_base_url
    drawn = rng.sample(lots, min(LOT_CODES, len(lots)))
    merchants = [p for p, kind, _ in province["party_list"] if kind in ("retailer", "restaurant")]
    prepared = {
        "tokens": tokens,
        "regulator_token": province["regulator"]["token"],
        "lots": [[g, lot, _path(codes.lot_code(base, g, lot, key).url, base)] for g, lot in drawn],
        "merchants": [_path(codes.merchant_code(base, m, key).url, base) for m in merchants],
        "farm_gtins": {f: _farm_gtin(f) for f in farms},
    }
    cache.write_text(json.dumps(prepared))
    return prepared


def _path(url: str, base: str) -> str:
    """The code's path and signature (the port changes from run to run)."""
    assert url.startswith(base), (url, base)
    return url[len(base.rstrip("/")) :]


def _farm_gtin(farm: str) -> str:
    from province import prefix_of
    from stdnum import ean

    body = "0" + prefix_of("farm", int(farm.rsplit("-", 1)[1]))
    return body + ean.calc_check_digit(body)


# --- load --------------------------------------------------------------------------------


@dataclass
class Op:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    samples: list[str] = field(default_factory=list)


@dataclass
class Run:
    prepared: dict[str, Any]
    seed: int
    ops: dict[str, Op] = field(default_factory=lambda: {k: Op() for k in WEIGHTS})
    acked: list[tuple[str, list[int], list[str]]] = field(default_factory=list)


def _document(farm: str, gtin: str, lot: str) -> str:
    now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    event = {
        "type": "ObjectEvent",
        "eventTime": now,
        "eventTimeZoneOffset": "+08:00",
        "action": "ADD",
        "bizStep": "commissioning",
        "disposition": "active",
        "epcList": [],
        "quantityList": [{"epcClass": f"https://id.gs1.org/01/{gtin}/10/{lot}",
                          "quantity": 500, "uom": "KGM"}],
    }  # fmt: skip
    return json.dumps(
        {
            "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
            "type": "EPCISDocument",
            "schemaVersion": "2.0",
            "creationDate": now,
            "epcisBody": {"eventList": [event]},
        }
    )


async def client(n: int, http: httpx.AsyncClient, run: Run, until: float) -> None:
    rng = random.Random(run.seed * 1000 + n)
    p = run.prepared
    farms = sorted(p["tokens"])
    names, weights = list(WEIGHTS), list(WEIGHTS.values())
    seq = 0
    while time.monotonic() < until:
        op = rng.choices(names, weights)[0]
        headers: dict[str, str] = {"Accept": "application/json"}
        farm = ""
        if op == "ingest":
            seq += 1
            farm = rng.choice(farms)
            lot = f"LD{int(time.time())}C{n}N{seq}"
            headers |= {"Authorization": f"Bearer {p['tokens'][farm]}",
                        "Content-Type": "application/ld+json"}  # fmt: skip
            req = http.build_request(
                "POST", "/epcis/capture", headers=headers,
                content=_document(farm, p["farm_gtins"][farm], lot),
            )  # fmt: skip
        elif op == "scan lot":
            req = http.build_request("GET", rng.choice(p["lots"])[2], headers=headers)
        elif op == "scan merchant":
            req = http.build_request("GET", rng.choice(p["merchants"]), headers=headers)
        else:
            gtin, lot, _ = rng.choice(p["lots"])
            direction = rng.choice(("upstream", "downstream"))
            headers["Authorization"] = f"Bearer {p['regulator_token']}"
            path = f"/api/v1/lots/{gtin}/{lot}/trace"
            params = {"direction": direction, "depth": str(TRACE_DEPTH)}
            req = http.build_request("GET", path, headers=headers, params=params)
        t0 = time.perf_counter()
        try:
            r = await http.send(req)
            ok = 200 <= r.status_code < 300
            body = r.content
        except httpx.HTTPError as exc:
            ok, body = False, repr(exc).encode()
        ms = (time.perf_counter() - t0) * 1000
        stat = run.ops[op]
        if ok:
            stat.latencies.append(ms)
            if op == "ingest":
                job = json.loads(body)
                if job.get("success"):
                    run.acked.append((farm, job["entryIndices"], job["eventIDs"]))
                else:
                    stat.errors += 1
                    stat.samples.append(body[:300].decode(errors="replace"))
        else:
            stat.errors += 1
            if len(stat.samples) < 3:
                stat.samples.append(body[:300].decode(errors="replace"))


async def drive(base: str, run: Run, seconds: float, clients: int) -> float:
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as http:
        t0 = time.monotonic()
        until = t0 + seconds
        await asyncio.gather(*(client(i, http, run, until) for i in range(clients)))
        return time.monotonic() - t0


async def constant_rate(base: str, seconds: float, clients: int) -> tuple[list[float], int]:
    latencies: list[float] = []
    errors = 0

    async def one(http: httpx.AsyncClient, until: float) -> None:
        nonlocal errors
        while time.monotonic() < until:
            t0 = time.perf_counter()
            try:
                r = await http.get("/constant")
                if r.status_code != 200:
                    errors += 1
                    continue
            except httpx.HTTPError:
                errors += 1
                continue
            latencies.append((time.perf_counter() - t0) * 1000)

    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        until = time.monotonic() + seconds
        await asyncio.gather(*(one(http, until) for _ in range(clients)))
    return latencies, errors


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def verify(url: str, out: Path, acked: list[tuple[str, list[int], list[str]]]) -> str:
    """Every acknowledged capture's entries in the log as acknowledged; the log audited."""
    from foodtrace.store.log import MerkleLog

    with MerkleLog(url, settings=settings_for(url, out), migrate=False) as log:
        for farm, indices, hash_ids in acked:
            for index, hash_id in zip(indices, hash_ids, strict=True):
                e = log.entry(index)
                assert e.type == "epcis.event" and e.author == farm, (index, e.type, e.author)
                assert e.body["hash_id"] == hash_id, (index, hash_id)
        t = time.perf_counter()
        report = log.audit()
        size = log.size()
    if not report.ok:
        raise SystemExit(f"audit found {report.problems[:3]}")
    took = time.perf_counter() - t
    return (
        f"{len(acked):,} acknowledged captures in the log; audit of {size:,} clean ({took:.0f} s)"
    )


def _row(name: str, ms: list[float], errors: int, seconds: float, reference: float) -> None:
    rate = (len(ms) + errors) / seconds
    cells = [f"{len(ms) + errors:,}", f"{rate:,.1f}", f"{pct(ms, 0.5):.1f}", f"{pct(ms, 0.99):.1f}"]
    print(f"| {name} | {' | '.join(cells)} | {errors} | {rate / reference:.1%} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", required=True)
    ap.add_argument("--out", type=Path, required=True, help="the dataset's --out folder")
    ap.add_argument("--minutes", type=float, default=3.0)
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--prepare-only", action="store_true")
    a = ap.parse_args()
    prepared = prepare(a.db, a.out)
    if a.prepare_only:
        lots, shops = len(prepared["lots"]), len(prepared["merchants"])
        print(f"prepared: {lots} lot codes, {shops} merchant codes")
        return
    global PORT, PORT_CONST
    PORT, PORT_CONST = free_port(), free_port()
    env = environment(a.db, a.out, PORT)
    logs = a.out / "load-logs"
    logs.mkdir(exist_ok=True)
    print(f"load average before: {os.getloadavg()}", flush=True)
    const = uvicorn("load_serve:constant_app", PORT_CONST, a.workers, env, logs / "constant.log")
    try:
        base = f"http://127.0.0.1:{PORT_CONST}"
        ref, ref_errors = asyncio.run(constant_rate(base, 20, a.clients))
    finally:
        stop(const)
    ref_rate = len(ref) / 20
    app = uvicorn("foodtrace.api.worker:app", PORT, a.workers, env, logs / "workers.log")
    anchor = start([sys.executable, "-m", "foodtrace.cli", "anchor"], env, logs / "anchor.log")
    run = Run(prepared, a.seed)
    try:
        elapsed = asyncio.run(drive(f"http://127.0.0.1:{PORT}", run, a.minutes * 60, a.clients))
        load_after = os.getloadavg()
    finally:
        stop(anchor)
        stop(app)
    print(f"\n{a.minutes:g} min, {a.clients} clients, {a.workers} workers")
    print(f"load average at the end: {load_after}")
    print("| operation | requests | req/s | p50 ms | p99 ms | errors | vs constant |")
    print("|---|---|---|---|---|---|---|")
    _row("constant (bare FastAPI, 20 s)", ref, ref_errors, 20, ref_rate)
    for name, op in run.ops.items():
        _row(name, op.latencies, op.errors, elapsed, ref_rate)
    every = [ms for op in run.ops.values() for ms in op.latencies]
    _row("all", every, sum(o.errors for o in run.ops.values()), elapsed, ref_rate)
    for name, op in run.ops.items():
        for s in op.samples[:2]:
            print(f"error sample, {name}: {s}")
    print(verify(a.db, a.out, run.acked))
    if any(o.errors for o in run.ops.values()):
        raise SystemExit("errors during the run: the target is zero")


if __name__ == "__main__":
    main()
