"""Benchmark the log as static tlog-tiles: exporting it, and proving from the exported files.

Run: ``.venv/bin/python bench/tiles.py [--size 100000] [--full]`` (``--full``: 1,000,000
entries). Prints one table, every number measured in this run on this machine.

- export: ``foodtrace tlog export`` of a fresh SQLite log (entries/s; files, MB/s), which
  reads runs of neighbouring tiles in one query; vs reading the same tiles and bundles out
  of the database one query each, without writing them.
- proof: inclusion proofs/s at random indices, each built by reading the exported tile files
  a tiles client would fetch (bottom hashes only: the levels inside a tile are re-hashed) and
  verified against the checkpoint; vs the same proofs from the database's stored tiles
  (``MerkleLog.inclusion_proof``, inner levels stored, one query per proof).
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rich.console import Console
from rich.table import Table

from foodtrace.config import Settings
from foodtrace.store.log import MerkleLog
from foodtrace.tlog import service
from foodtrace.tlog.export import export
from foodtrace.trace import layout, tlog_tiles
from foodtrace.trace.checkpoint import verify_checkpoint
from foodtrace.trace.merkle import (
    Node,
    NodeReader,
    inclusion_proof,
    node_hash,
    verify_inclusion,
)

META = ("event", "farm-1", "k1", "2026-01-01T00:00:00Z")
PROOFS = 2_000


def file_reader(root: Path, size: int) -> tuple[list[int], NodeReader]:
    """A node reader over exported tile files (no cache across proofs: each proof reads the
    files of its tiles, as a tiles client without a cache fetches them)."""
    reads = [0]

    def read(nodes: Sequence[Node]) -> list[bytes]:
        out: list[bytes] = []
        tiles: dict[tuple[int, int], bytes] = {}  # one proof reads each of its tiles once
        for level, index in nodes:
            tile_level, r = divmod(level, layout.TILE_HEIGHT)
            first = index << r
            n = first // layout.TILE_WIDTH
            width = layout.tile_width(size, tile_level, n)
            if (tile_level, n) not in tiles:
                path = root / tlog_tiles.TileRef(tile_level, n, width).path
                tiles[(tile_level, n)] = path.read_bytes()
                reads[0] += 1
            blob = tiles[(tile_level, n)]
            start = first % layout.TILE_WIDTH
            hashes = layout.bottom_of(blob, width)[start : start + (1 << r)]
            while len(hashes) > 1:
                hashes = [node_hash(hashes[i], hashes[i + 1]) for i in range(0, len(hashes), 2)]
            out.append(hashes[0])
        return out

    return reads, read


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--full", action="store_true", help="1,000,000 entries")
    args = parser.parse_args()
    size = 1_000_000 if args.full else args.size
    console = Console()
    table = Table(title=f"tlog-tiles, {size:,} entries (SQLite)")
    for col in ("measure", "ours", "reference", "reference is"):
        table.add_column(col)
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp) / "var")
        with MerkleLog(f"sqlite:///{tmp}/bench.db", settings=settings) as log:
            datas = [f'{{"n":{i},"pad":"{"z" * (i % 97)}"}}'.encode() for i in range(size)]
            log.append_leaves(datas, META)
            cp = log.issue_checkpoint()

            t = time.perf_counter()
            report = export(log, Path(tmp) / "tiles")
            export_s = time.perf_counter() - t
            files = list((Path(tmp) / "tiles").rglob("*"))
            mb = sum(p.stat().st_size for p in files if p.is_file()) / 1e6
            t = time.perf_counter()
            for ref in tlog_tiles.tiles_for(cp.size):
                service.read(log, ref, cp)
            read_s = time.perf_counter() - t
            table.add_row(
                "export entries/s",
                f"{size / export_s:,.0f} ({report.written:,} files, {mb / export_s:,.1f} MB/s)",
                f"{size / read_s:,.0f}",
                "reading the same tiles from the database only, one query each",
            )

            note = (Path(tmp) / "tiles" / "checkpoint").read_text()
            checked = verify_checkpoint(note, [log.verifier_key()])
            rng = random.Random(1)
            indices = [rng.randrange(size) for _ in range(PROOFS)]
            reads, read = file_reader(Path(tmp) / "tiles", checked.size)
            t = time.perf_counter()
            for i in indices:
                proof = inclusion_proof(i, checked.size, read)
                verify_inclusion(i, checked.size, read([(0, i)])[0], proof, checked.root)
            files_s = time.perf_counter() - t
            t = time.perf_counter()
            for i in indices:
                log.inclusion_proof(i, checked.size)
            db_s = time.perf_counter() - t
            table.add_row(
                "inclusion proofs/s",
                f"{PROOFS / files_s:,.0f} ({reads[0] / PROOFS:.1f} tile reads each)",
                f"{PROOFS / db_s:,.0f}",
                "the same proofs from the database",
            )
    console.print(table)


if __name__ == "__main__":
    main()
