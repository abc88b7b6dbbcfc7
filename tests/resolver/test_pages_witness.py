"""The badge and witness cosignatures, in Chromium at a phone's viewport.

The demo is seeded, two witnesses run as their own processes (``python -m foodtrace.witness
serve``), the log submits each of its checkpoints to both, and the page is served with
``FOODTRACE_WITNESSES`` naming them and ``FOODTRACE_WITNESSES_REQUIRED=2``. The page must
verify both cosignatures itself (WebCrypto, or the vendored noble code without it), name the
witnesses that cosigned, and refuse to say verified when the quorum is not there.
"""

from __future__ import annotations

import base64
import sqlite3
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from browsing import PHONE, shot
from playwright.sync_api import Page, expect

from foodtrace.api.app import create_app
from foodtrace.demo import demo_settings, prepare
from foodtrace.store.log import MerkleLog
from foodtrace.witness.collect import collect, parse_endpoints

TESTS = Path(__file__).resolve().parents[1]
if str(TESTS / "witness") not in sys.path:
    sys.path.insert(0, str(TESTS / "witness"))

from witnessrun import RunningWitness, free_port, run_witness  # noqa: E402

pytestmark = pytest.mark.browser

VERIFY_TIMEOUT_MS = 10_000
NAMES = ("witness.consumers.example/w1", "witness.regulator.example/w2")
NO_SUBTLE = "Object.defineProperty(window.crypto, 'subtle', {value: undefined});"


@dataclass(frozen=True)
class WitnessedDemo:
    data_dir: Path
    urls: dict[str, str]
    witnesses: list[RunningWitness]

    def sql(self, statement: str, *params: object) -> list[tuple[object, ...]]:
        with sqlite3.connect(self.data_dir / "foodtrace.db") as db:
            return db.execute(statement, params).fetchall()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WitnessedDemo]:
    root = tmp_path_factory.mktemp("witnessed")
    data_dir, port = root / "demo", free_port()
    urls = {path.stem: url for path, url in prepare(data_dir, port).qr}
    settings = demo_settings(data_dir, port)
    with MerkleLog(settings=settings) as log:
        vkey = log.verifier_key()
    with ExitStack() as stack:
        witnesses = [
            stack.enter_context(run_witness(root / f"w{n}", name, [vkey]))
            for n, name in enumerate(NAMES, start=1)
        ]
        configured = ",".join(w.endpoint for w in witnesses)
        with MerkleLog(settings=settings) as log:
            for cp in log.checkpoints():  # every checkpoint a page may prove against
                outcomes = collect(log, parse_endpoints(configured), cp)
                assert [o.status for o in outcomes] == ["cosigned", "cosigned"], outcomes
        with pytest.MonkeyPatch.context() as env:
            env.setenv("FOODTRACE_RESOLVE_CACHE_SECONDS", "0")
            app = create_app(
                # No public chain RPC here (model_copy skips the default to /chain/rpc): the
                # page checks the log and the witnesses, and says it read no chain.
                settings.model_copy(
                    update={
                        "witnesses": configured,
                        "witnesses_required": 2,
                        "chain_public_url": "",
                    }
                )
            )
        server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 30
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                pytest.fail("uvicorn did not start")
            time.sleep(0.05)
        yield WitnessedDemo(data_dir, urls, witnesses)
        server.should_exit = True
        thread.join(10)


def verdict(page: Page) -> str:
    page.wait_for_function(
        "document.body.getAttribute('data-verify') !== null", timeout=VERIFY_TIMEOUT_MS
    )
    return str(page.evaluate("document.body.getAttribute('data-verify')"))


def body_attr(page: Page, name: str) -> str | None:
    value = page.evaluate(f"document.body.getAttribute('data-{name}')")
    return None if value is None else str(value)


@pytest.mark.parametrize("script", ["", NO_SUBTLE], ids=["webcrypto", "no-subtle"])
def test_both_witnesses_cosigned_and_the_badge_names_them(
    demo: WitnessedDemo, page: Page, script: str
) -> None:
    if script:
        page.add_init_script(script)
    page.goto(demo.urls["merchant-restaurant"])
    assert verdict(page) == "verified"
    assert body_attr(page, "witnesses") == " ".join(NAMES)
    assert body_attr(page, "witness-quorum") == "met"
    assert body_attr(page, "checks") == "log witnesses"
    assert body_attr(page, "ed25519") == ("noble" if script else "webcrypto")
    expect(page.locator("#badge")).to_have_text("✓日志已验证 · 见证 2/2")
    assert body_attr(page, "chain") is None
    expect(page.locator("#checks")).to_contain_text("本页未读取区块链")
    for name in NAMES:
        expect(page.locator("#checks li.ok", has_text=f"见证方 {name} 已联署")).to_have_count(1)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(page, f"merchant-witnessed-{'noble' if script else 'webcrypto'}")


def test_a_missing_cosignature_leaves_the_quorum_unmet(demo: WitnessedDemo, page: Page) -> None:
    w2 = NAMES[1]
    saved = demo.sql("SELECT witness, tree_size, line, created_at FROM witness_cosignatures")
    demo.sql("DELETE FROM witness_cosignatures WHERE witness = ?", w2)
    try:
        page.goto(demo.urls["merchant-restaurant"])
        assert verdict(page) == "unwitnessed"
        assert body_attr(page, "witnesses") == NAMES[0]
        assert body_attr(page, "witness-quorum") == "unmet"
        expect(page.locator("#badge")).to_contain_text("见证方签名不足")
        expect(
            page.locator("#checks li.bad", has_text="需要 2 个见证方联署,仅有 1 个")
        ).to_have_count(1)
        shot(page, "merchant-unwitnessed")
    finally:
        restore(demo, saved)


def restore(demo: WitnessedDemo, saved: list[tuple[object, ...]]) -> None:
    demo.sql("DELETE FROM witness_cosignatures")
    with sqlite3.connect(demo.data_dir / "foodtrace.db") as db:
        db.executemany("INSERT INTO witness_cosignatures VALUES (?, ?, ?, ?)", saved)


def test_a_forged_cosignature_does_not_count_without_webcrypto_either(
    demo: WitnessedDemo, page: Page
) -> None:
    saved = demo.sql("SELECT witness, tree_size, line, created_at FROM witness_cosignatures")
    for witness, size, line, _ in saved:
        if witness != NAMES[0]:
            continue
        head, _, b64 = str(line).rpartition(" ")
        blob = bytearray(base64.b64decode(b64))
        blob[-1] ^= 0x01
        forged = f"{head} {base64.b64encode(bytes(blob)).decode()}"
        demo.sql(
            "UPDATE witness_cosignatures SET line = ? WHERE witness = ? AND tree_size = ?",
            forged,
            witness,
            size,
        )
    try:
        page.add_init_script(NO_SUBTLE)
        page.goto(demo.urls["merchant-restaurant"])
        assert verdict(page) == "unwitnessed"
        assert body_attr(page, "witnesses") == NAMES[1]
        expect(
            page.locator("#checks li.neutral", has_text=f"见证方 {NAMES[0]} 未联署")
        ).to_have_count(1)
    finally:
        restore(demo, saved)
