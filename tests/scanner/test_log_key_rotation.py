"""The scanner follows the log key through the chain's ``LogKeyRotated`` history.

The demo is seeded on anvil, then its owner rotates the log key on chain (``rotateLogKey``),
the log signs its next checkpoint with the new key and anchors it. A scanner still pinned to
the original key verifies the codes against the new checkpoint (the chain links the keys);
a server that then signs with a key the chain never announced is refused.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import stack
from anvil import DEV_KEYS, run_anvil
from typer.testing import CliRunner

from foodtrace.ledger.anchorer import Anchorer
from foodtrace.ledger.chain import connect_rpc
from foodtrace.ledger.contract import TraceAnchor
from foodtrace.scanner.chain import ContractReader, RpcClient
from foodtrace.scanner.cli import app
from foodtrace.scanner.logkeys import LogKeys
from foodtrace.store.log import MerkleLog
from foodtrace.trace import keys
from foodtrace.trace.checkpoint import parse_verifier_key, verifier_key
from foodtrace.trace.errors import CheckpointError
from foodtrace.trace.logkey import log_id, log_key_hash

pytestmark = pytest.mark.node


@dataclass(frozen=True)
class Rotated:
    seeded: stack.Seeded
    rpc: str
    data_dir: Path
    new_key: str  # the verifier key the chain rotated to
    size: int  # the checkpoint signed by the new key, anchored

    @property
    def origin(self) -> str:
        return parse_verifier_key(self.seeded.log_key).name


def _replace_log_key(data_dir: Path) -> str:
    """A new log key file (the operator restores or replaces the key); its verifier key."""
    path = data_dir / "log.key"
    path.unlink()
    key = keys.generate()
    keys.write_private(path, key)
    return verifier_key(parse_verifier_key(_old_vkey(data_dir)).name, key)


def _old_vkey(data_dir: Path) -> str:
    return (data_dir / "scan-pins.vkey").read_text().strip()


def scan(world: Rotated, url: str, state: Path) -> tuple[int, dict[str, Any]]:
    pins = [
        *("--authority-key", world.seeded.authority_key),
        *("--log-key", world.seeded.log_key),  # the ORIGINAL key, pinned before the rotation
        *("--rpc", world.rpc, "--contract", world.seeded.contract),
        *("--state", str(state), "--json", "--server", url),
    ]
    result = CliRunner().invoke(app, ["--text", world_code(world), *pins])
    return result.exit_code, json.loads(result.stdout)


def world_code(world: Rotated) -> str:
    return next(u for _, u in world.seeded.qr if "/01/" in u)


@pytest.fixture(scope="module")
def rotated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rotated]:
    root = tmp_path_factory.mktemp("rotate")
    with run_anvil() as rpc:
        port = stack.free_port()
        seeded = stack.seed(root / "a", port, rpc, DEV_KEYS[0])
        data_dir = seeded.data_dir
        (data_dir / "scan-pins.vkey").write_text(seeded.log_key)
        new_key = _replace_log_key(data_dir)
        owner = connect_rpc(rpc, DEV_KEYS[0])
        TraceAnchor(owner, seeded.contract).rotate_log_key(
            log_id(parse_verifier_key(seeded.log_key).name), log_key_hash(new_key)
        )
        size = stack.append_note(data_dir, rpc, "signed after the rotation")
        settings = stack.settings_for(data_dir, port, rpc)
        with MerkleLog(settings=settings, migrate=False) as log:
            assert log.verifier_key() == new_key
            result = Anchorer(log, settings).run_once(force=True)
            assert result.anchored == size, result
        yield Rotated(seeded, rpc, data_dir, new_key, size)


def test_an_old_pin_verifies_checkpoints_signed_by_the_key_the_chain_rotated_to(
    rotated: Rotated, tmp_path: Path
) -> None:
    with stack.serve(rotated.data_dir, rotated.seeded.port, rotated.rpc) as url:
        code, data = scan(rotated, url, tmp_path / "s.json")
    (check,) = data["codes"]
    assert code == 0, check["failures"]
    step = {s["step"]: s for s in check["steps"]}["log key"]
    assert step["status"] == "ok" and "LogKeyRotated" in step["detail"], step
    # the records were proved in the checkpoint the new key signed, anchored at its size
    chain_steps = [s for r in check["records"] for s in r["steps"] if s["step"] == "chain"]
    assert chain_steps and all(f"size {rotated.size}" in s["detail"] for s in chain_steps)


def test_a_key_the_chain_never_announced_is_refused(rotated: Rotated, tmp_path: Path) -> None:
    """The server now signs with a third key; the chain still pins the rotated-to one."""
    rpc = RpcClient(rotated.rpc)
    log = log_id(rotated.origin)
    try:
        reader = ContractReader(rpc, rotated.seeded.contract, log)
        assert reader.key_rotations() == [
            (log_key_hash(rotated.seeded.log_key), log_key_hash(rotated.new_key))
        ]
        unannounced = verifier_key(rotated.origin, keys.generate())
        with pytest.raises(CheckpointError, match="never announced"):
            LogKeys(rotated.seeded.log_key, reader).check(unannounced)
        # a pin the chain never held is refused even when the server offers the chain's key
        stranger = verifier_key(rotated.origin, keys.generate())
        with pytest.raises(CheckpointError, match="never pinned"):
            LogKeys(stranger, ContractReader(rpc, rotated.seeded.contract, log)).check(
                rotated.new_key
            )
    finally:
        rpc.close()
    # end to end: the served log key swapped for an unannounced one fails the scan
    swapped = tmp_path / "swapped"
    stack.fork(rotated.data_dir, swapped)
    _replace_log_key(swapped)
    stack.append_note(swapped, rotated.rpc, "signed by a key nobody announced")
    port = stack.free_port()
    with stack.serve(swapped, port, rotated.rpc) as url:
        code, data = scan(rotated, url, tmp_path / "t.json")
    (check,) = data["codes"]
    assert code == 1
    step = {s["step"]: s for s in check["steps"]}["log key"]
    assert step["status"] == "failed" and "never announced" in step["detail"], step
