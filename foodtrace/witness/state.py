"""A witness's memory: its config, its key, and the latest checkpoint it cosigned per origin.

Everything lives in one directory the witness operator owns (``witness init`` creates it):
``witness.key`` (Ed25519, 0600), ``config.json`` (its name and the logs it serves, each an
origin with the log verifier keys it trusts) and ``state.json`` (per origin: size, root and
the note it cosigned). The check "old size equals what I cosigned" and the write of the new
latest must be one atomic step (the spec's rollback race), so :meth:`WitnessState.update`
holds a process-wide lock and an exclusive ``flock`` on the directory's lock file, and the
state is replaced with an fsynced temporary file and ``os.replace``.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from foodtrace.trace import keys
from foodtrace.trace.checkpoint import parse_verifier_key
from foodtrace.trace.cosignature import cosigner_vkey
from foodtrace.trace.witnessing import Seen

KEY_FILE = "witness.key"
CONFIG_FILE = "config.json"
STATE_FILE = "state.json"
LOCK_FILE = "state.lock"
T = TypeVar("T")


@dataclass(frozen=True)
class WitnessConfig:
    name: str
    logs: dict[str, list[str]]  # origin -> trusted log verifier keys

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "logs": self.logs}


def init(directory: Path, name: str, log_vkeys: list[str]) -> str:
    """Create a witness in ``directory`` (never overwriting a key); return its verifier key."""
    logs: dict[str, list[str]] = {}
    for vkey in log_vkeys:
        logs.setdefault(parse_verifier_key(vkey).name, []).append(vkey.strip())
    cosigner_vkey(name, keys.generate())  # validates the name before anything is written
    directory.mkdir(parents=True, exist_ok=True)
    key = keys.generate()
    keys.write_private(directory / KEY_FILE, key)
    _write_json(directory / CONFIG_FILE, WitnessConfig(name, logs).to_json())
    return cosigner_vkey(name, key)


def _write_json(path: Path, data: Any) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(data, fh, ensure_ascii=False, indent=2, sort_keys=True)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


class WitnessState:
    """One witness directory: config, key and the per-origin latest cosigned checkpoint."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        raw = json.loads((directory / CONFIG_FILE).read_text())
        self.config = WitnessConfig(str(raw["name"]), {k: list(v) for k, v in raw["logs"].items()})
        self.key: Ed25519PrivateKey = keys.read_private(directory / KEY_FILE)
        self._lock = threading.Lock()

    @property
    def vkey(self) -> str:
        return cosigner_vkey(self.config.name, self.key)

    def _read(self) -> dict[str, Any]:
        path = self.directory / STATE_FILE
        return json.loads(path.read_text()) if path.exists() else {}

    @contextmanager
    def _locked(self) -> Iterator[None]:
        with self._lock, (self.directory / LOCK_FILE).open("a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def update(self, origin: str, decide: Callable[[Seen | None], tuple[Seen, str, T]]) -> T:
        """Atomically: read what was cosigned for ``origin``, let ``decide`` accept (returning
        the new latest, its note, and a result) or raise, and persist the new latest."""
        with self._locked():
            state = self._read()
            item = state.get(origin)
            seen = None if item is None else Seen(int(item["size"]), base64.b64decode(item["root"]))
            new, note, result = decide(seen)
            state[origin] = {
                "size": new.size,
                "root": base64.b64encode(new.root).decode(),
                "note": note,
            }
            _write_json(self.directory / STATE_FILE, state)
            return result
