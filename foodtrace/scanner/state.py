"""What the scanner remembers between runs: its pinned trust anchors and the checkpoints seen.

The pins (authority keys for codes, the log's verifier key, the chain RPC URL and contract)
are the only things a scan trusts; they can be given on the command line each time or saved
here once. The last checkpoint seen per log is what catches a split view: a server that
shows this client one history and someone else (or this client, later) another cannot give
a consistency proof between them.

One small JSON file, written atomically (temporary file, then rename), so a crash mid-write
never leaves a state that would make the next scan fail for the wrong reason.
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from foodtrace.trace.checkpoint import Checkpoint

STATE_DIR = Path("~/.foodtrace-scan")
STATE_FILE = "state.json"
FORMAT = 1


class StateError(ValueError):
    """The state file is not one this scanner wrote."""


def default_state_path() -> Path:
    return (STATE_DIR / STATE_FILE).expanduser()


@dataclass(frozen=True)
class SeenCheckpoint:
    """The largest verified checkpoint of a log this client has seen."""

    size: int
    root: bytes
    note: str

    @classmethod
    def of(cls, cp: Checkpoint, note: str) -> SeenCheckpoint:
        return cls(cp.size, cp.root, note)


@dataclass
class ScanState:
    authority_keys: list[str] = field(default_factory=list)
    log_key: str = ""
    rpc: str = ""
    contract: str = ""
    checkpoints: dict[str, SeenCheckpoint] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "authority_keys": self.authority_keys,
            "log_key": self.log_key,
            "rpc": self.rpc,
            "contract": self.contract,
            "checkpoints": {
                origin: {
                    "size": seen.size,
                    "root": base64.b64encode(seen.root).decode(),
                    "note": seen.note,
                }
                for origin, seen in sorted(self.checkpoints.items())
            },
        }


def load_state(path: Path) -> ScanState:
    """The state at ``path``, or an empty one if there is no file yet."""
    if not path.exists():
        return ScanState()
    try:
        data = json.loads(path.read_text("utf-8"))
        if data.get("format") != FORMAT:
            raise StateError(f"{path}: expected format {FORMAT}, got {data.get('format')!r}")
        return ScanState(
            authority_keys=[str(k) for k in data.get("authority_keys", [])],
            log_key=str(data.get("log_key", "")),
            rpc=str(data.get("rpc", "")),
            contract=str(data.get("contract", "")),
            checkpoints={
                str(origin): SeenCheckpoint(
                    int(seen["size"]), base64.b64decode(seen["root"]), str(seen["note"])
                )
                for origin, seen in data.get("checkpoints", {}).items()
            },
        )
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        if isinstance(exc, StateError):
            raise
        raise StateError(f"{path}: not a scanner state file: {exc}") from exc


def save_state(path: Path, state: ScanState) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(state.to_json(), ensure_ascii=False, indent=2) + "\n", "utf-8")
    os.replace(tmp, path)
