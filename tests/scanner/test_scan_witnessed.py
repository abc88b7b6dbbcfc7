"""``foodtrace-scan --witness … --witnesses-required K`` end to end.

The demo is seeded onto anvil and served by ``foodtrace serve`` with two witnesses
configured; the witnesses run as their own processes (``python -m foodtrace.witness serve``)
and the server's background collector gets their cosignatures (nobody runs ``witness
collect``). The scanner, trusting only its pins, must pass with both witnesses, and fail with
exit 1 and a message naming the shortfall when k exceeds the valid cosignatures or a witness
key is wrong.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import stack
from anvil import DEV_KEYS, run_anvil
from typer.testing import CliRunner

from foodtrace.scanner.cli import app
from foodtrace.trace.cosignature import cosigner_vkey, require_cosignatures
from foodtrace.trace.errors import CheckpointError
from foodtrace.trace.keys import generate

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "witness"))
from witnessrun import RunningWitness, run_witness

pytestmark = pytest.mark.node

NAMES = ("witness.consumers.example/w1", "witness.regulator.example/w2")
COSIGN_WAIT_S = 60.0


@dataclass(frozen=True)
class Witnessed:
    seeded: stack.Seeded
    rpc: str
    url: str
    witnesses: list[RunningWitness]


def cosigned_note(url: str, vkeys: list[str]) -> str | None:
    note = str(httpx.get(url + "/api/v1/log/checkpoint", timeout=5).json()["checkpoint"])
    try:
        require_cosignatures(note, vkeys, len(vkeys))
    except CheckpointError:
        return None
    return note


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Witnessed]:
    root = tmp_path_factory.mktemp("scan-witnessed")
    with run_anvil() as rpc, ExitStack() as stack_:
        port = stack.free_port()
        seeded = stack.seed(root / "data", port, rpc, DEV_KEYS[0])
        witnesses = [
            stack_.enter_context(run_witness(root / f"w{n}", name, [seeded.log_key]))
            for n, name in enumerate(NAMES, start=1)
        ]
        env = {
            "FOODTRACE_WITNESSES": ",".join(w.endpoint for w in witnesses),
            "FOODTRACE_WITNESS_POLL_SECONDS": "0.2",
        }
        url = stack_.enter_context(stack.serve(root / "data", port, rpc, env))
        deadline = time.monotonic() + COSIGN_WAIT_S
        while cosigned_note(url, [w.vkey for w in witnesses]) is None:
            if time.monotonic() > deadline:
                pytest.fail("the server did not collect both cosignatures by itself")
            time.sleep(0.2)
        yield Witnessed(seeded, rpc, url, witnesses)


def scan(world: Witnessed, tmp_path: Path, *witness_args: str) -> tuple[int, str]:
    lot = next(u for _, u in world.seeded.qr if "/01/" in u)
    pins = [
        "--authority-key",
        world.seeded.authority_key,
        "--log-key",
        world.seeded.log_key,
        "--rpc",
        world.rpc,
        "--contract",
        world.seeded.contract,
        "--state",
        str(tmp_path / "state.json"),
    ]
    result = CliRunner().invoke(app, ["--text", lot, *pins, *witness_args])
    return result.exit_code, result.output


def test_both_pinned_witnesses_cosigned_so_the_scan_passes(
    world: Witnessed, tmp_path: Path
) -> None:
    w1, w2 = world.witnesses
    code, output = scan(
        world,
        tmp_path,
        "--witness",
        w1.vkey,
        "--witness",
        f"{w2.name}={w2.vkey}",
        "--witnesses-required",
        "2",
    )
    assert code == 0, output
    assert f"cosigned by {w1.name}, {w2.name}" in output.replace("\n", "")


def test_more_required_than_valid_cosignatures_fails(world: Witnessed, tmp_path: Path) -> None:
    w1, _ = world.witnesses
    absent = cosigner_vkey("witness.absent.example/w3", generate())
    code, output = scan(
        world, tmp_path, "--witness", w1.vkey, "--witness", absent, "--witnesses-required", "2"
    )
    assert code == 1, output
    text = " ".join(output.split())
    assert "✗ witnesses" in text
    assert f"1 of the 2 required witness cosignatures (valid: {w1.name})" in text


def test_a_wrong_witness_key_is_not_counted(world: Witnessed, tmp_path: Path) -> None:
    w1, w2 = world.witnesses
    wrong = cosigner_vkey(w2.name, generate())  # w2's name, someone else's key
    code, output = scan(
        world, tmp_path, "--witness", w1.vkey, "--witness", wrong, "--witnesses-required", "2"
    )
    assert code == 1, output
    assert f"1 of the 2 required witness cosignatures (valid: {w1.name})" in " ".join(
        output.split()
    )
    # The same pins with k = 1 pass: only the wrong key's cosignature is missing.
    code, output = scan(
        world, tmp_path, "--witness", w1.vkey, "--witness", wrong, "--witnesses-required", "1"
    )
    assert code == 0, output
