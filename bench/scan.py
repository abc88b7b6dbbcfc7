"""The scanner's speed: images decoded per second, full verifications per second, beside the
time of the chain read alone (``read_root`` over JSON-RPC) in the same run.

Runs the demo data anchored on anvil and served by ``foodtrace serve`` on loopback (the
stack the scanner tests use). A full verification is one code: authority signature, the
server's records, each through entry → leaf → inclusion → checkpoint → chain, the author's
key registration (itself verified to the chain), and consistency with the state. "Cold"
starts each code with a new scanner (no cached author keys); "warm" reuses one.

    .venv/bin/python bench/scan.py    (~30 s)
"""

from __future__ import annotations

import io
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "tests" / "scanner"), str(REPO / "tests" / "ledger")]

import photos  # noqa: E402
import stack  # noqa: E402
from anvil import DEV_KEYS, run_anvil  # noqa: E402
from PIL import Image  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402
from web3 import Web3  # noqa: E402

from foodtrace.ledger.contract import log_id, read_root  # noqa: E402
from foodtrace.qr.render import render_png  # noqa: E402
from foodtrace.scanner.client import Server  # noqa: E402
from foodtrace.scanner.decode import decode_image  # noqa: E402
from foodtrace.scanner.state import ScanState  # noqa: E402
from foodtrace.scanner.verify import Scanner, Trust  # noqa: E402
from foodtrace.trace import keys  # noqa: E402
from foodtrace.trace.codes import parse_code  # noqa: E402

SECONDS = 3.0


def rate(fn: Callable[[], int], seconds: float = SECONDS) -> tuple[float, float]:
    """(operations per second, mean ms per operation) running ``fn`` for ``seconds``."""
    fn()  # warm up
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        done += fn()
    elapsed = time.perf_counter() - start
    return done / elapsed, elapsed / done * 1000


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, run_anvil() as rpc:
        port = stack.free_port()
        seeded = stack.seed(Path(tmp) / "a", port, rpc, DEV_KEYS[0])
        with stack.serve(seeded.data_dir, port, rpc):
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

            w3 = Web3(Web3.HTTPProvider(rpc))
            trust = Trust(
                [keys.public_from_b64(seeded.authority_key)], seeded.log_key, w3, seeded.contract
            )
            server = Server(f"http://127.0.0.1:{port}")
            lot_url = next(u for u in urls if "/01/" in u)
            merchant_url = next(u for u in urls if "/M/" in u)
            warm = Scanner(trust, ScanState(), lambda _c: server)
            records = {u: len(warm.check_text(u, "bench").records) for u in (lot_url, merchant_url)}

            def verify(url: str, cold: bool) -> Callable[[], int]:
                def run() -> int:
                    scanner = Scanner(trust, ScanState(), lambda _c: server) if cold else warm
                    check = scanner.check_text(url, "bench")
                    assert check.ok, check.failures()
                    return 1

                return run

            log = log_id(seeded.log_key.split("+", 1)[0])

            def chain_read() -> int:
                assert read_root(w3, seeded.contract, log, seeded.anchored_size) is not None
                return 1

            rows = [
                ("decode, clean label PNGs (images/s)", rate(decode_all(clean))),
                (
                    "decode, photos: 15°, blur 1.2 px, noise 8, 200 px, JPEG q40 (images/s)",
                    rate(decode_all(shots)),
                ),
                (
                    f"decode, shelf photo with {len(symbols)} codes (images/s)",
                    rate(decode_all([shelf.getvalue()], len(symbols))),
                ),
                (
                    f"verify lot code, cold ({records[lot_url]} records) (codes/s)",
                    rate(verify(lot_url, True)),
                ),
                ("verify lot code, warm key cache (codes/s)", rate(verify(lot_url, False))),
                (
                    f"verify merchant code, cold ({records[merchant_url]} records) (codes/s)",
                    rate(verify(merchant_url, True)),
                ),
                ("chain read alone: read_root over JSON-RPC (reads/s)", rate(chain_read)),
            ]
            server.close()
    table = Table("metric", "per second", "ms each", title="foodtrace-scan (loopback + anvil)")
    for name, (per_s, ms) in rows:
        table.add_row(name, f"{per_s:,.1f}", f"{ms:.2f}")
    Console().print(table)


if __name__ == "__main__":
    main()
