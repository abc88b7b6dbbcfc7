"""The scanner's speed: images decoded per second, and full verifications of a lot code per
second beside the physical floor measured in the same run.

Runs the demo data served by ``foodtrace serve`` on loopback, anchored on anvil and on the
embedded chain (read through the server's ``/chain/rpc``). A full verification is one code:
authority signature, the pinned log key against the chain, the server's records, each
through entry → leaf → inclusion → checkpoint → chain, the author's key registration
(itself verified to the chain, up to the regulator's self-signed one), and consistency with
the state. The resolver answers all of it in one response (records, proofs, checkpoints, the
authors' key registrations with theirs, the latest checkpoint with a consistency proof), and
the chain step is one batched JSON-RPC request (``logKeyHash`` and every ``anchorAt``).

"Cold" is a code nobody in this run has verified: each is checked by a new scanner with a new
state file, and every record of it in full (entry, leaf hash, inclusion proof, checkpoint
signature, chain root, the author's signature, consistency); nothing about a code's records
is ever kept, so verifying the same code again stands for a new one. What a cold scanner
reuses is what other codes of the run verified under the same pins
(:mod:`foodtrace.scanner.facts`): the log key's hash on chain, anchored roots, checkpoint
signatures, author keys verified to the chain. "Fresh" is the same with nothing of the run
(a new store of facts per code, as a new process starts): its chain step is one batched
round trip, and the authors' key registrations are verified again. "Warm" reuses one
scanner. Single-stream rows verify one code after another; the threads row runs cold
verifications concurrently, as a folder scan does.
Rows "from text" start from the code's URL; "from label PNG" decode the label first (image
decoding is also measured alone above). The floor is what no scanner can skip for a code:
the code and checkpoint signatures, one HTTP round trip to the resolver and one chain round
trip (with and without decoding the label); each verification row shows its rate as a
fraction of the floor measured in the same run. The chain round trip is a fresh code's: a
cold code whose checkpoints and authors the run already verified reads nothing from the
chain, so a cold row may pass the floor. The first row is the server building the
resolver's answer once (it then keeps it about a second per checkpoint size).

    .venv/bin/python bench/scan.py            (~2 min: both chains)
    .venv/bin/python bench/scan.py --seconds 10 --chain anvil
"""

from __future__ import annotations

import argparse
import gc
import io
import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "tests" / "scanner"), str(REPO / "tests" / "ledger")]

import httpx  # noqa: E402
import photos  # noqa: E402
import stack  # noqa: E402
from anvil import DEV_KEYS, run_anvil  # noqa: E402
from PIL import Image  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from foodtrace.config import CHAIN_RPC_PATH  # noqa: E402
from foodtrace.qr.render import render_png  # noqa: E402
from foodtrace.scanner.chain import ContractReader, RpcClient  # noqa: E402
from foodtrace.scanner.client import Server  # noqa: E402
from foodtrace.scanner.decode import decode_image  # noqa: E402
from foodtrace.scanner.facts import Facts  # noqa: E402
from foodtrace.scanner.state import ScanState  # noqa: E402
from foodtrace.scanner.verify import Scanner, Trust  # noqa: E402
from foodtrace.trace import keys  # noqa: E402
from foodtrace.trace.checkpoint import verify_checkpoint  # noqa: E402
from foodtrace.trace.codes import parse_code, verify_code  # noqa: E402
from foodtrace.trace.logkey import log_id  # noqa: E402

SECONDS = 3.0
THREADS = 4  # concurrent cold verifications, as a folder scan runs them
LEGEND = (
    "cold: a new scanner and state per code, every record checked in full, reusing only what "
    "other codes of this run verified under the same pins (log key on chain, anchored roots, "
    "checkpoint signatures, author keys); fresh: the same with nothing of the run, as a new "
    "process; warm: one scanner for every code"
)


def rate(fn: Callable[[], int], seconds: float = SECONDS) -> tuple[float, float]:
    """(operations per second, mean ms per operation) running ``fn`` for ``seconds``."""
    fn()  # warm up
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        done += fn()
    elapsed = time.perf_counter() - start
    return done / elapsed, elapsed / done * 1000


@contextmanager
def running(chain: str, tmp: Path) -> Iterator[tuple[stack.Seeded, str, str]]:
    """The demo served on loopback, anchored on ``chain`` ("anvil" or "embedded"); yields
    (seeded, server URL, RPC URL the scanner reads)."""
    port = stack.free_port()
    if chain == "anvil":
        with run_anvil() as rpc:
            seeded = stack.seed(tmp / chain, port, rpc, DEV_KEYS[0])
            with stack.serve(seeded.data_dir, port, rpc) as url:
                yield seeded, url, rpc
    else:
        seeded = stack.seed(tmp / chain, port, "", DEV_KEYS[0])
        with stack.serve(seeded.data_dir, port, "") as url:
            yield seeded, url, url + CHAIN_RPC_PATH


def verifications(
    seeded: stack.Seeded, url: str, rpc_url: str, seconds: float
) -> list[tuple[str, tuple[float, float]]]:
    urls = [u for _, u in seeded.qr]
    lot_url = next(u for u in urls if "/01/" in u)
    lot = parse_code(lot_url)
    label = render_png(lot.qr_text)
    authority = [keys.public_from_b64(seeded.authority_key)]
    sent: Counter[str] = Counter()

    def count(request: httpx.Request) -> None:
        sent["chain" if str(request.url).startswith(rpc_url) else "server"] += 1

    def client() -> httpx.Client:
        return httpx.Client(timeout=10.0, event_hooks={"request": [count]})

    rpc = RpcClient(rpc_url, client=client())
    server = Server(url, client=client())
    log = log_id(seeded.log_key.split("+", 1)[0])

    start = time.perf_counter()
    server.resolve(lot)  # the server builds the answer (then keeps it ~1 s, per checkpoint size)
    first_ms = (time.perf_counter() - start) * 1000

    run_facts = Facts()  # what this run's codes verified

    def scanner(facts: Facts | None = None) -> Scanner:
        """A new scanner and reader with a new state; ``facts``: the run's (cold), or by
        default a new store of its own (fresh)."""
        anchors = ContractReader(rpc, seeded.contract, log)
        trust = Trust(authority, seeded.log_key, anchors)
        return Scanner(trust, ScanState(), lambda _c: server, facts=facts or Facts())

    warm = scanner()
    records = len(warm.check_text(lot_url, "bench").records)

    def round_trips(new: Callable[[], Scanner]) -> str:
        sent.clear()
        assert new().check_text(lot_url, "bench").ok
        return f"{sent['server']} HTTP + {sent['chain']} chain round trips"

    fresh_trips = round_trips(scanner)
    round_trips(lambda: scanner(run_facts))  # an earlier code of the run
    cold_trips = round_trips(lambda: scanner(run_facts))

    def verify(new: Callable[[], Scanner]) -> Callable[[], int]:
        def run() -> int:
            check = new().check_text(lot_url, "bench")
            assert check.ok, check.failures()
            return 1

        return run

    def cold() -> Scanner:
        return scanner(run_facts)

    def from_label() -> int:
        (decoded,) = decode_image(label)
        check = cold().check_text(decoded.text, "bench")
        assert check.ok, check.failures()
        return 1

    def concurrent(threads: int) -> Callable[[], int]:
        pool = ThreadPoolExecutor(threads)
        batch = threads * 4

        def run() -> int:
            assert all(pool.map(lambda _i: verify(cold)(), range(batch)))
            return batch

        run.pool = pool  # type: ignore[attr-defined]
        return run

    resolved = server.resolve(lot)
    note = resolved.records[0]["proof"]["checkpoint"]
    size = int(note.split("\n")[1])

    def floor(decode: bool) -> Callable[[], int]:
        def run() -> int:
            text = decode_image(label)[0].text if decode else lot_url
            verify_code(parse_code(text), authority)
            server.resolve(lot)
            verify_checkpoint(note, [seeded.log_key])
            ContractReader(rpc, seeded.contract, log).prefetch([size])  # key + root, one batch
            return 1

        return run

    parallel = concurrent(THREADS)
    rows = [
        (
            f"resolver answer, first build ({records} records + key evidence; 1 sample)",
            (1000 / first_ms, first_ms),
        ),
        (
            "verify lot code from text, cold: new scanner, the run's facts, 1 stream "
            f"({cold_trips}) (codes/s)",
            rate(verify(cold), seconds),
        ),
        (
            "verify lot code from text, fresh: new scanner, no facts of the run, 1 stream "
            f"({fresh_trips}) (codes/s)",
            rate(verify(scanner), seconds),
        ),
        (f"verify lot code from text, cold, {THREADS} threads (codes/s)", rate(parallel, seconds)),
        (
            "verify lot code from label PNG, cold, 1 stream: decode + verify (codes/s)",
            rate(from_label, seconds),
        ),
        (
            "verify lot code from text, warm: one scanner (codes/s)",
            rate(verify(lambda: warm), seconds),
        ),
        (
            "floor from text: 2 signatures + 1 HTTP + 1 chain round trip (codes/s)",
            rate(floor(False), seconds),
        ),
        ("floor from label PNG: decode + the same (codes/s)", rate(floor(True), seconds)),
    ]
    parallel.pool.shutdown()  # type: ignore[attr-defined]
    server.close()
    rpc.close()
    return rows


def decoding(seeded: stack.Seeded, seconds: float) -> list[tuple[str, tuple[float, float]]]:
    urls = [u for _, u in seeded.qr]
    symbols = [Image.open(io.BytesIO(render_png(parse_code(u).qr_text))) for u in urls]
    clean = [render_png(parse_code(u).qr_text) for u in urls]
    worst = photos.Degradation(
        rotation_deg=15, blur_px=1.2, noise_sigma=8, symbol_px=200, jpeg_quality=40
    )
    shots = [photos.photo_bytes(s, worst, seed=i) for i, s in enumerate(symbols * 4)]
    shelf = io.BytesIO()
    photos.shelf_photo(symbols, seed=1).save(shelf, format="JPEG", quality=60)

    def decode_all(images: list[bytes], expect: int = 1) -> Callable[[], int]:
        def run() -> int:
            for image in images:
                assert len(decode_image(image, min_codes=expect)) >= expect
            return len(images)

        return run

    return [
        ("decode, clean label PNGs (images/s)", rate(decode_all(clean), seconds)),
        (
            "decode, photos: 15°, blur 1.2 px, noise 8, 200 px, JPEG q40 (images/s)",
            rate(decode_all(shots), seconds),
        ),
        (
            f"decode, shelf photo with {len(symbols)} codes (images/s)",
            rate(decode_all([shelf.getvalue()], len(symbols)), seconds),
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=SECONDS, help="per measurement")
    parser.add_argument("--chain", choices=["anvil", "embedded", "both"], default="both")
    args = parser.parse_args()
    chains = ["anvil", "embedded"] if args.chain == "both" else [args.chain]
    rows: list[tuple[str, tuple[float, float]]] = []
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        for i, chain in enumerate(chains):
            with running(chain, Path(tmp)) as (seeded, url, rpc_url):
                # Seeding ran in this process and left ~350k objects no scanner has: one full
                # collection of them paused a row for ~0.3 s. Keep them out of the collector.
                gc.collect()
                gc.freeze()
                if i == 0:
                    rows += decoding(seeded, args.seconds)
                rows += [
                    (f"{chain}: {n}", r)
                    for n, r in verifications(seeded, url, rpc_url, args.seconds)
                ]
    table = Table(
        "metric", "per second", "ms each", "of the floor", title="foodtrace-scan (loopback)"
    )
    for name, (per_s, ms) in rows:
        floor = _floor_of(name, rows)
        table.add_row(name, f"{per_s:,.1f}", f"{ms:.2f}", f"{per_s / floor:.2f}" if floor else "")
    load = f"load average (1 min) {load_before:.2f} before, {os.getloadavg()[0]:.2f} after"
    table.caption = f"{LEGEND}\n{load}"
    Console().print(table)


def _floor_of(name: str, rows: list[tuple[str, tuple[float, float]]]) -> float:
    """The floor a verification row is held against (same chain, same start: text or PNG),
    measured in the same run; 0 for rows that are not verifications."""
    chain, _, metric = name.partition(": ")
    if not metric.startswith("verify lot code"):
        return 0.0
    start = "floor from label PNG" if "label PNG" in metric else "floor from text"
    return next((r[0] for n, r in rows if n.startswith(f"{chain}: {start}")), 0.0)


if __name__ == "__main__":
    main()
