"""The badge and witness cosignatures, in Chromium at a phone's viewport.

The demo is seeded, two witnesses run as their own processes (``python -m foodtrace.witness
serve``), the log submits each of its checkpoints to both, and the page is served with
``FOODTRACE_WITNESSES`` naming them, so its checkpoint notes carry both cosignatures. The
page counts a cosignature only if its key was pinned by the user (the link's ``#w=…&k=``
fragment or the form kept in localStorage), verifies each itself (WebCrypto, or the vendored
noble code without it), names the witnesses that cosigned, and refuses to say witnessed when
the quorum is not there; with nothing pinned it claims nothing about witnesses.
"""

from __future__ import annotations

import base64
import sqlite3
import sys
import threading
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from browsing import PHONE, SHOTS, shot
from playwright.sync_api import Page, expect

from foodtrace import demo as demo_mod
from foodtrace.api.app import create_app
from foodtrace.demo import demo_settings, prepare, summary_lines
from foodtrace.store.log import MerkleLog
from foodtrace.trace import entry as entry_mod
from foodtrace.trace import keys
from foodtrace.trace.cosignature import cosigner_vkey
from foodtrace.trace.keys import generate
from foodtrace.witness import demo as demo_witness
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
    demo_link: str  # the page link ``foodtrace demo`` prints, its own witness pinned

    def pinned(self, name: str, vkeys: list[str], k: int | None = None) -> str:
        """The page at ``name`` with ``vkeys`` (and ``k``) pinned in the link's fragment."""
        parts = [f"w={urllib.parse.quote(v, safe='')}" for v in vkeys]
        return self.urls[name] + "#" + "&".join(parts + ([f"k={k}"] if k else []))

    @property
    def vkeys(self) -> list[str]:
        return [w.vkey for w in self.witnesses]

    def sql(self, statement: str, *params: object) -> list[tuple[object, ...]]:
        with sqlite3.connect(self.data_dir / "foodtrace.db") as db:
            return db.execute(statement, params).fetchall()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WitnessedDemo]:
    root = tmp_path_factory.mktemp("witnessed")
    data_dir, port = root / "demo", free_port()
    summary = prepare(data_dir, port)
    urls = {path.stem: url for path, url in summary.qr}
    demo_link = next(line.strip() for line in summary_lines(summary) if "#w=" in line)
    settings = demo_settings(data_dir, port)
    with MerkleLog(settings=settings) as log:
        vkey = log.verifier_key()
        # One entry after the anchor, and a checkpoint above the anchored one: pages prove
        # against the anchored checkpoint, the witnesses cosign both.
        regulator = keys.read_private(data_dir / demo_mod.REGULATOR_KEY_FILE)
        note = entry_mod.sign(regulator, type="note", author=log.entry(0).author, body={"t": 1})
        log.append([note])
        log.issue_checkpoint()
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
        # No public chain RPC here (model_copy skips the default to /chain/rpc): the page
        # checks the log and the witnesses, and says it read no chain. The demo's own
        # witness (which cosigned in prepare) is served and mounted as `foodtrace demo` does.
        served = demo_witness.configure(
            settings.model_copy(
                update={
                    "witnesses": configured,
                    "witnesses_required": 2,  # the page ignores it: only pins count
                    "chain_public_url": "",
                    # Collected above; no later pass may undo the tests' edits below.
                    "witness_poll_seconds": 3600.0,
                }
            )
        )
        with pytest.MonkeyPatch.context() as env:
            env.setenv("FOODTRACE_RESOLVE_CACHE_SECONDS", "0")
            app = create_app(served)
        demo_witness.mount(app, served)
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
        yield WitnessedDemo(data_dir, urls, witnesses, demo_link)
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
def test_both_pinned_witnesses_cosigned_and_the_badge_names_them(
    demo: WitnessedDemo, page: Page, script: str
) -> None:
    if script:
        page.add_init_script(script)
    page.goto(demo.pinned("merchant-restaurant", demo.vkeys, 2))
    assert verdict(page) == "verified"
    assert body_attr(page, "witnesses") == " ".join(NAMES)
    assert body_attr(page, "witness-quorum") == "met"
    assert body_attr(page, "witness-pin") == "link"
    assert body_attr(page, "checks") == "log witnesses"
    assert body_attr(page, "ed25519") == ("noble" if script else "webcrypto")
    expect(page.locator("#badge")).to_have_text("✓日志已验证 · 见证 2/2")
    assert body_attr(page, "chain") is None
    expect(page.locator("#checks")).to_contain_text("本页未读取区块链")
    expect(page.locator("#checks")).to_contain_text("见证方公钥来自本页链接")
    expect(page.locator("#checks li.ok", has_text="2 / 2 个您固定的见证方已联署")).to_have_count(1)
    for name in NAMES:
        expect(page.locator("#checks li.ok", has_text=f"见证方 {name} 已联署")).to_have_count(1)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(page, f"merchant-witnessed-{'noble' if script else 'webcrypto'}")


def test_nothing_pinned_claims_nothing_though_the_server_sent_cosignatures(
    demo: WitnessedDemo, page: Page
) -> None:
    page.goto(demo.urls["merchant-restaurant"])
    assert verdict(page) == "verified"
    assert body_attr(page, "witness-pin") == "none"
    assert body_attr(page, "witnesses") is None
    assert body_attr(page, "witness-quorum") is None
    assert body_attr(page, "checks") == "log"
    expect(page.locator("#badge")).to_have_text("✓日志已验证")
    expect(page.locator("#checks li.neutral", has_text="您未固定见证方公钥")).to_have_count(1)
    expect(page.locator("#checks li", has_text="已联署")).to_have_count(0)


def test_the_link_foodtrace_demo_prints_pins_its_own_witness(
    demo: WitnessedDemo, page: Page
) -> None:
    page.goto(demo.demo_link)
    assert verdict(page) == "verified"
    assert body_attr(page, "witness-pin") == "link"
    assert body_attr(page, "witnesses") == demo_witness.NAME
    expect(page.locator("#badge")).to_have_text("✓日志已验证 · 见证 1/1")
    # The form shows the pin from the link, decoded, for the shopper to check and save.
    assert page.locator("#witness-form textarea").input_value().startswith(demo_witness.NAME + "+")


def test_keys_pinned_in_the_form_are_kept_for_the_next_page(
    demo: WitnessedDemo, page: Page
) -> None:
    page.goto(demo.urls["merchant-restaurant"])
    assert verdict(page) == "verified"
    page.locator("#badge-details summary").click()
    page.locator("#witness-form textarea[name=witnesses]").fill("\n".join(demo.vkeys))
    page.locator("#witness-form input[name=k]").fill("2")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.locator("#witness-form").screenshot(path=str(SHOTS / "witness-form-filled.png"))
    with page.expect_navigation():
        page.locator("#witness-form button").click()
    assert verdict(page) == "verified"
    assert body_attr(page, "witness-pin") == "saved"
    assert body_attr(page, "witness-quorum") == "met"
    expect(page.locator("#badge")).to_have_text("✓日志已验证 · 见证 2/2")
    other = next(u for n, u in demo.urls.items() if n != "merchant-restaurant")
    page.goto(other)
    assert verdict(page) == "verified"
    assert body_attr(page, "witness-pin") == "saved"
    assert body_attr(page, "witnesses") == " ".join(NAMES)
    shot(page, "witnesses-pinned-in-form")


def test_a_cosignature_by_an_unpinned_key_is_not_counted(demo: WitnessedDemo, page: Page) -> None:
    w1, w2 = demo.vkeys
    absent = cosigner_vkey("witness.absent.example/w3", generate())
    page.goto(demo.pinned("merchant-restaurant", [w1, absent], 2))
    assert verdict(page) == "unwitnessed"  # w2 cosigned, but w2 is not pinned
    assert body_attr(page, "witnesses") == NAMES[0]
    expect(page.locator("#badge")).to_contain_text("见证方签名不足 · 见证 1/2")
    expect(page.locator("#checks li", has_text=NAMES[1])).to_have_count(0)
    # w2's name with another key: its line does not match the key, so it is not counted.
    impostor = cosigner_vkey(NAMES[1], generate())
    page.goto(demo.pinned("merchant-restaurant", [w1, impostor], 2))
    page.reload()
    assert verdict(page) == "unwitnessed"
    assert body_attr(page, "witnesses") == NAMES[0]
    expect(page.locator("#checks li.neutral", has_text=f"见证方 {NAMES[1]} 未联署")).to_have_count(
        1
    )
    # One pinned witness, k = 1: met, and the unpinned w2 is no part of the count.
    page.goto(demo.pinned("merchant-restaurant", [w2], 1))
    page.reload()
    assert verdict(page) == "verified"
    expect(page.locator("#badge")).to_have_text("✓日志已验证 · 见证 1/1")


def test_a_checkpoint_without_cosignatures_is_witnessed_through_a_larger_one(
    demo: WitnessedDemo, page: Page
) -> None:
    url = demo.pinned("merchant-restaurant", demo.vkeys, 2)
    page.goto(url)
    assert verdict(page) == "verified"
    shown = page.evaluate(
        "Object.keys(JSON.parse(document.getElementById('ft-proofs').textContent).checkpoints)"
    )
    [(largest,)] = demo.sql("SELECT max(tree_size) FROM witness_cosignatures")
    assert shown and all(int(s) < int(str(largest)) for s in shown)
    expect(page.locator("#checks li", has_text="一致性证明有效")).to_have_count(0)
    saved = demo.sql("SELECT witness, tree_size, line, created_at FROM witness_cosignatures")
    demo.sql("DELETE FROM witness_cosignatures WHERE tree_size < ?", largest)
    try:
        page.reload()
        assert verdict(page) == "verified"
        assert body_attr(page, "witnesses") == " ".join(NAMES)
        expect(page.locator("#badge")).to_have_text("✓日志已验证 · 见证 2/2")
        expect(
            page.locator("#checks li.ok", has_text=f"见证方联署的检查点(树大小 {largest})中")
        ).to_have_count(len(shown))
        # The larger checkpoint cosigned by w1 only: the shown one is witnessed by w1 only.
        demo.sql(
            "DELETE FROM witness_cosignatures WHERE witness = ? AND tree_size = ?",
            NAMES[1],
            largest,
        )
        page.reload()
        assert verdict(page) == "unwitnessed"
        assert body_attr(page, "witnesses") == NAMES[0]
    finally:
        restore(demo, saved)


def test_a_missing_cosignature_leaves_the_quorum_unmet(demo: WitnessedDemo, page: Page) -> None:
    w2 = NAMES[1]
    saved = demo.sql("SELECT witness, tree_size, line, created_at FROM witness_cosignatures")
    demo.sql("DELETE FROM witness_cosignatures WHERE witness = ?", w2)
    try:
        page.goto(demo.pinned("merchant-restaurant", demo.vkeys, 2))
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
        page.goto(demo.pinned("merchant-restaurant", demo.vkeys, 2))
        assert verdict(page) == "unwitnessed"
        assert body_attr(page, "witnesses") == NAMES[1]
        expect(
            page.locator("#checks li.neutral", has_text=f"见证方 {NAMES[0]} 未联署")
        ).to_have_count(1)
    finally:
        restore(demo, saved)
