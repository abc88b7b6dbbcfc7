"""``foodtrace tlog export DIR``: the tiles a server would serve, as files.

Any static file server or object store serving ``DIR`` at ``<prefix>/`` is then a complete
tlog-tiles log: a client needs neither our database nor our code. Files are written to a
temporary name and renamed, full tiles that already exist are left alone (they are
immutable), and the checkpoint is written last, so a reader that sees a checkpoint finds
every tile it needs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from foodtrace.store.log import MerkleLog
from foodtrace.tlog import service
from foodtrace.trace import layout, tlog_tiles
from foodtrace.trace.tlog_tiles import TileRef


@dataclass(frozen=True)
class ExportReport:
    size: int
    written: int
    kept: int


def export(log: MerkleLog, directory: Path) -> ExportReport:
    """Write the checkpoint, every tile and bundle it covers, and the partial tiles of
    earlier checkpoints whose full tile does not exist yet (tlog-tiles asks that partial
    tiles of every checkpointed size stay available until then)."""
    cp = service.current_checkpoint(log)
    refs = tlog_tiles.tiles_for(cp.size)
    wanted = {r.path for r in refs}
    for earlier in log.checkpoints():
        for (level, index), width in layout.edge_tiles(earlier.size):  # its partial tiles
            partial = [TileRef(level, index, width)]
            if level == 0:
                partial.append(TileRef(None, index, width))
            for ref in partial:
                still_partial = tlog_tiles.covered_width(cp.size, ref) < layout.TILE_WIDTH
                if still_partial and ref.path not in wanted:
                    refs.append(ref)
                    wanted.add(ref.path)
    # Same name, same bytes: a resource never changes once served, so existing files stay.
    missing = [ref for ref in refs if not (directory / ref.path).exists()]
    missing.sort(key=lambda r: (r.is_entries, r.hash_level, r.index, r.width))  # runs of neighbours
    for ref, content in service.read_many(log, missing, cp):
        _write(directory / ref.path, content)
    _write(directory / "checkpoint", cp.note.encode())
    return ExportReport(cp.size, len(missing), len(refs) - len(missing))


def _write(target: Path, content: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    tmp.write_bytes(content)
    os.replace(tmp, target)
