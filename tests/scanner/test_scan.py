"""``foodtrace-scan`` against a running server on loopback and anvil.

One module fixture seeds the demo onto anvil, forks the data directory (same log key, two
different histories: a note appended to each copy) and serves both copies with
``foodtrace serve``. Each attack is then staged and must be caught by the right step with
exit code 1; genuine codes, also from photo-like images, must verify with exit code 0.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import photos
import pytest
import rfc8785
import stack
from anvil import DEV_KEYS, run_anvil
from PIL import Image
from typer.testing import CliRunner

from foodtrace.cli import app as main_app
from foodtrace.ledger.chain import connect_rpc
from foodtrace.ledger.contract import TraceAnchor, deploy, log_id
from foodtrace.qr.render import render_png
from foodtrace.scanner.cli import app
from foodtrace.scanner.verify import RECORD_STEPS
from foodtrace.trace import keys
from foodtrace.trace.checkpoint import verifier_key
from foodtrace.trace.codes import Code, Lot, parse_code
from foodtrace.trace.logkey import log_key_hash
from foodtrace.trace.merkle import verify_consistency

pytestmark = pytest.mark.node


@dataclass(frozen=True)
class World:
    seeded: stack.Seeded
    rpc: str
    url_a: str
    url_b: str
    root: Path

    @property
    def codes(self) -> list[str]:
        return [url for _, url in self.seeded.qr]

    def lot_url(self) -> str:
        return next(u for u in self.codes if "/01/" in u)

    @property
    def merchant(self) -> str:
        return self.merchant_url().split("/M/")[1].split("?")[0]

    def merchant_url(self) -> str:
        return next(u for u in self.codes if "/M/" in u)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("scan")
    with run_anvil() as rpc:
        port_a, port_b = stack.free_port(), stack.free_port()
        seeded = stack.seed(root / "a", port_a, rpc, DEV_KEYS[0])
        stack.fork(root / "a", root / "b")
        stack.append_note(root / "a", rpc, "history A")
        stack.append_note(root / "b", rpc, "history B")
        with (
            stack.serve(root / "a", port_a, rpc) as url_a,
            stack.serve(root / "b", port_b, rpc) as url_b,
        ):
            yield World(seeded, rpc, url_a, url_b, root)


def scan(
    world: World, *args: str, state: Path, log_key: str = "", contract: str = ""
) -> tuple[int, dict[str, Any]]:
    pins = [
        "--authority-key",
        world.seeded.authority_key,
        "--log-key",
        log_key or world.seeded.log_key,
        "--rpc",
        world.rpc,
        "--contract",
        contract or world.seeded.contract,
        "--state",
        str(state),
        "--json",
    ]
    result = CliRunner().invoke(app, [*args, *pins])
    try:
        data = json.loads(result.stdout)
    except ValueError:
        data = {"output": result.output}
    return result.exit_code, data


def failures(data: dict[str, Any]) -> list[str]:
    return [f for code in data["codes"] for f in code["failures"]]


def test_genuine_codes_from_the_demo_pngs_verify(world: World, tmp_path: Path) -> None:
    pngs = [str(p) for p, _ in world.seeded.qr]
    code, data = scan(world, *pngs, state=tmp_path / "state.json")
    assert code == 0, failures(data)
    assert data["summary"]["verified"] == len(pngs) and data["summary"]["failed"] == 0
    for c in data["codes"]:
        assert [s["step"] for s in c["steps"]] == ["code", "log key", "fetch", "subject"]
        assert c["records"], c["source"]
        for r in c["records"]:
            assert [s["step"] for s in r["steps"]] == list(RECORD_STEPS)
            assert {s["status"] for s in r["steps"]} == {"ok"}
    saved = json.loads((tmp_path / "state.json").read_text())
    assert saved["checkpoints"]["foodtrace.example/log"]["size"] == world.seeded.anchored_size + 1


def test_photo_like_images_and_a_shelf_decode_and_verify(world: World, tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    symbols = [
        Image.open(__import__("io").BytesIO(render_png(parse_code(u).qr_text))) for u in world.codes
    ]
    worst = photos.Degradation(
        rotation_deg=15, blur_px=1.2, noise_sigma=8, symbol_px=200, jpeg_quality=40
    )
    for i, symbol in enumerate(symbols[:2]):
        (folder / f"photo{i}.jpg").write_bytes(photos.photo_bytes(symbol, worst, seed=i))
    photos.shelf_photo(symbols[:3], seed=7).save(folder / "shelf.jpg", quality=60)
    result = CliRunner().invoke(
        app,
        [
            str(folder),
            "--min-codes",
            "1",
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
        ],
    )
    assert result.exit_code == 0, result.output
    assert "summary" in result.output
    code, data = scan(world, str(folder), "--min-codes", "3", state=tmp_path / "state.json")
    assert code == 0, failures(data)
    assert data["summary"] == {
        "codes": 5,
        "verified": 5,
        "failed": 0,
        "unreadable": 0,
        "records": data["summary"]["records"],
    }


def test_a_forged_code_is_caught_offline(world: World, tmp_path: Path) -> None:
    genuine = parse_code(world.lot_url())
    assert isinstance(genuine.subject, Lot)
    forged = Code(
        genuine.base_url, Lot(genuine.subject.gtin, "FAKE001"), genuine.key_id, genuine.signature
    )
    png = tmp_path / "forged.png"
    png.write_bytes(render_png(forged.qr_text))
    code, data = scan(world, str(png), state=tmp_path / "state.json")
    assert code == 1
    assert failures(data) == [
        f"code: lot code signature does not match (01){genuine.subject.gtin}(10)FAKE001 under "
        f"authority key {genuine.key_id.hex()}"
    ]


def _until_served(world: World, index: int, data: str) -> None:
    """Until the resolver's answer for the lot code carries ``data`` as entry ``index``: it
    keeps a built page for about a second (and serves it stale while it rebuilds)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        answer = httpx.get(world.lot_url(), headers={"Accept": "application/json"}).json()
        if any(r["index"] == index and r["data"] == data for r in answer["proofs"]["records"]):
            return
        time.sleep(0.2)
    raise AssertionError(f"the resolver never served the altered entry {index}")


def test_a_tampered_record_fails_inclusion(world: World, tmp_path: Path) -> None:
    lot = parse_code(world.lot_url()).subject
    assert isinstance(lot, Lot)
    index = httpx.get(f"{world.url_a}/api/v1/lots/{lot.gtin}/{lot.lot}").json()["entry_index"]
    db = sqlite3.connect(world.root / "a" / "foodtrace.db")
    [original] = db.execute("SELECT data FROM entries WHERE leaf_index = ?", (index,)).fetchone()
    tampered = json.loads(original)
    tampered["body"]["quantity"] = {"value": 999999, "uom": "KGM"}
    try:
        db.execute(
            "UPDATE entries SET data = ? WHERE leaf_index = ?", (rfc8785.dumps(tampered), index)
        )
        db.commit()
        _until_served(world, index, rfc8785.dumps(tampered).decode())
        code, data = scan(world, "--text", world.lot_url(), state=tmp_path / "state.json")
    finally:
        db.execute("UPDATE entries SET data = ? WHERE leaf_index = ?", (original, index))
        db.commit()
        db.close()
        # the module's later tests scan this lot: wait out the page built from the tampered row
        _until_served(world, index, original if isinstance(original, str) else original.decode())
    assert code == 1
    [record] = [r for c in data["codes"] for r in c["records"] if r["index"] == index]
    status = {s["step"]: (s["status"], s["detail"]) for s in record["steps"]}
    assert status["entry"][0] == status["leaf"][0] == "ok"
    assert status["inclusion"][0] == "failed"
    assert "root mismatch" in status["inclusion"][1]
    assert status["author"][0] == "failed" and "does not verify" in status["author"][1]


def test_a_checkpoint_signed_by_another_key_is_caught(world: World, tmp_path: Path) -> None:
    impostor = verifier_key("foodtrace.example/log", keys.generate())
    code, data = scan(
        world, "--text", world.merchant_url(), state=tmp_path / "s.json", log_key=impostor
    )
    assert code == 1
    found = failures(data)
    assert found[0].startswith("log key: log key mismatch: the chain pins key hash ")
    assert found[1:] and all(
        "checkpoint: no signature by a trusted key" in f or "subject:" in f for f in found[1:]
    ), found


def test_a_swapped_log_key_is_caught_by_the_chain(world: World, tmp_path: Path) -> None:
    """An operator who re-signs a history with a new key and gets clients to pin it (say, by
    printing it on the page) is caught: the chain still pins the log's registered key."""
    swapped = keys.generate()
    other = connect_rpc(world.rpc, DEV_KEYS[1])
    anchor = TraceAnchor(other, deploy(other))
    log = log_id("foodtrace.example/log")
    anchor.register_log(log, log_key_hash(world.seeded.log_key))
    code, data = scan(
        world,
        "--text",
        world.lot_url(),
        state=tmp_path / "s.json",
        log_key=verifier_key("foodtrace.example/log", swapped),
        contract=anchor.address,
    )
    assert code == 1
    (check,) = data["codes"]
    step = {s["step"]: s for s in check["steps"]}["log key"]
    assert step["status"] == "failed"
    assert log_key_hash(swapped).hex() in step["detail"]
    assert log_key_hash(world.seeded.log_key).hex() in step["detail"]
    # with the right key pinned, the same contract's key check passes
    code, data = scan(
        world, "--text", world.lot_url(), state=tmp_path / "t.json", contract=anchor.address
    )
    step = {s["step"]: s for s in data["codes"][0]["steps"]}["log key"]
    assert step["status"] == "ok", step


def test_a_root_that_differs_from_the_chain_is_caught(world: World, tmp_path: Path) -> None:
    other = connect_rpc(world.rpc, DEV_KEYS[1])
    anchor = TraceAnchor(other, deploy(other))
    log = log_id("foodtrace.example/log")
    anchor.register_log(log, log_key_hash(world.seeded.log_key))  # the right key, a wrong root
    anchor.set_anchorer(log, other.address)
    served_size = world.seeded.anchored_size + 1
    anchor.anchor(log, served_size, b"\x42" * 32, [])
    code, data = scan(
        world, "--text", world.lot_url(), state=tmp_path / "s.json", contract=anchor.address
    )
    assert code == 1
    chain = [f for f in failures(data) if " chain: " in f]
    # the records are proved in the log's anchored checkpoint, which this contract lacks;
    # tied to its latest anchor instead, they do not extend the wrong root
    assert chain and all(
        f"is not consistent with the root anchored at size {served_size}" in f for f in chain
    ), chain


def test_a_server_that_rewrites_history_is_caught_by_the_state(
    world: World, tmp_path: Path
) -> None:
    state = tmp_path / "state.json"
    code, data = scan(world, "--text", world.merchant_url(), "--server", world.url_a, state=state)
    assert code == 0, failures(data)
    # The fork is a valid extension of the anchored root: alone, nothing can tell...
    code, data = scan(
        world, "--text", world.merchant_url(), "--server", world.url_b, state=tmp_path / "new"
    )
    assert code == 0, failures(data)
    # ...but a client that saw history A catches history B.
    code, data = scan(world, "--text", world.merchant_url(), "--server", world.url_b, state=state)
    assert code == 1
    found = failures(data)
    forks = [f for f in found if " consistency: the server's tree of size " in f]
    assert forks and all("two histories" in f for f in forks), found
    assert set(found) - set(forks) == {f"subject: no verified record is about {world.merchant}"}


def test_usage_and_decoding_errors_exit_2(world: World, tmp_path: Path) -> None:
    state = tmp_path / "s.json"
    result = CliRunner().invoke(app, ["--text", world.lot_url(), "--state", str(state)])
    assert result.exit_code == 2 and "missing pins" in result.output
    garbage = tmp_path / "garbage.png"
    garbage.write_bytes(b"not an image")
    blank = tmp_path / "blank.png"
    Image.new("L", (200, 200), 255).save(blank)
    for args, reason in (
        ([str(garbage)], "cannot read"),
        ([str(blank)], "no QR code found"),
        (["--text", "https://example.com/menu"], "not a 食安码"),
    ):
        code, data = scan(world, *args, state=state)
        assert code == 2, args
        assert reason in data["codes"][0]["decode_error"]


def test_saved_pins_and_the_main_cli(world: World, tmp_path: Path) -> None:
    state = tmp_path / "s.json"
    code, _ = scan(world, "--text", world.lot_url(), "--save", state=state)
    assert code == 0
    result = CliRunner().invoke(
        main_app, ["scan", "--text", world.lot_url(), "--state", str(state)]
    )
    assert result.exit_code == 0, result.output
    assert "verified" in result.output


def test_log_api_serves_verifiable_consistency_proofs(world: World) -> None:
    cp = httpx.get(f"{world.url_a}/api/v1/log/checkpoint").json()
    size = cp["size"]
    answer = httpx.get(f"{world.url_a}/api/v1/log/consistency", params={"from": 3, "to": size})
    assert answer.status_code == 200
    import base64

    proof = [base64.b64decode(h) for h in answer.json()["proof"]]
    root3 = bytes.fromhex(httpx.get(f"{world.url_a}/api/v1/records/0").json()["leaf_hash"])
    assert proof  # shape checked by verifying against the roots below
    from foodtrace.trace.checkpoint import verify_checkpoint

    full = verify_checkpoint(cp["checkpoint"], [world.seeded.log_key])
    from foodtrace.store.log import MerkleLog

    with MerkleLog(f"sqlite:///{world.root / 'a' / 'foodtrace.db'}", migrate=False) as log:
        root3 = log.root(3)
    verify_consistency(3, size, proof, root3, full.root)
    bad = httpx.get(f"{world.url_a}/api/v1/log/consistency", params={"from": size, "to": 3})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["pointer"] == "/query/from"
