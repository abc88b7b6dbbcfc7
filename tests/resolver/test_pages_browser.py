"""The shopper's pages in a real headless Chromium at a phone's viewport (390×844).

A real uvicorn server on 127.0.0.1 serves the demo chain seeded by ``foodtrace.demo``
(``--no-serve`` into a temporary directory). The pages must render in Chinese, the badge must
turn verified, a record altered in the database must turn it into a warning, and the
complaint form must return a tracking number. Screenshots go to ``artifacts/screenshots``.
An environment problem (no chromium, no fonts) fails these tests; it never skips them.
"""

from __future__ import annotations

import base64
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from browsing import PHONE, shot
from playwright.sync_api import Page, expect

from foodtrace.api.app import create_app
from foodtrace.demo import BY_KEY, demo_settings, prepare

pytestmark = pytest.mark.browser

VERIFY_TIMEOUT_MS = 10_000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Demo:
    def __init__(self, data_dir: Path, port: int, urls: dict[str, str]) -> None:
        self.data_dir, self.port, self.urls = data_dir, port, urls

    def sql(self, statement: str, *params: object) -> None:
        with sqlite3.connect(self.data_dir / "foodtrace.db") as db:
            db.execute(statement, params)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    data_dir = tmp_path_factory.mktemp("browser") / "demo"
    port = free_port()
    summary = prepare(data_dir, port)
    urls = {path.stem: url for path, url in summary.qr}
    # No page microcache and no page read model here: the tamper tests change the database's
    # rows behind the projectors' back and reload at once (tests/resolver/test_pageviews.py
    # tampers a stored page instead).
    with pytest.MonkeyPatch.context() as env:
        env.setenv("FOODTRACE_RESOLVE_CACHE_SECONDS", "0")
        env.setenv("FOODTRACE_PAGE_VIEWS", "false")
        app = create_app(demo_settings(data_dir, port))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("uvicorn did not start")
        time.sleep(0.05)
    yield Demo(data_dir, port, urls)
    server.should_exit = True
    thread.join(10)


def wait_verdict(page: Page) -> str:
    page.wait_for_function(
        "document.body.getAttribute('data-verify') !== null", timeout=VERIFY_TIMEOUT_MS
    )
    return str(page.evaluate("document.body.getAttribute('data-verify')"))


def test_merchant_page_renders_and_verifies(demo: Demo, page: Page) -> None:
    page.goto(demo.urls["merchant-restaurant"])
    for text in (
        "北京朝阳小满餐厅有限公司",
        "食品经营许可证",
        "有效",
        "从业人员健康证",
        "李**",
        "监督检查",
        "信用等级",
        "投诉举报",
    ):
        expect(page.get_by_text(text).first).to_be_visible()
    assert wait_verdict(page) == "verified"
    # The demo's embedded chain is read through this same server's /chain/rpc: checked,
    # and said to be this site's own node, not an independent one.
    expect(page.locator("#badge")).to_contain_text("已与区块链核对(本站节点)")
    assert page.evaluate("document.body.getAttribute('data-rpc')") == "same-site"
    expect(page.locator("#checks")).to_contain_text("区块链节点由本站提供")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(page, "merchant")


def test_lot_page_renders_timeline_chart_recall_and_verifies(demo: Demo, page: Page) -> None:
    url = next(u for k, u in demo.urls.items() if k.startswith("lot-JG"))
    page.goto(url)
    for text in ("鲜切蔬菜沙拉", "从农田到餐桌", "冷链温度", "召回警示", "检验报告"):
        expect(page.get_by_text(text).first).to_be_visible()
    expect(page.locator("svg.chart circle.bad")).to_have_count(1)
    assert wait_verdict(page) == "verified"
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(page, "lot")


def test_a_projection_row_changed_in_the_database_turns_the_badge_into_a_warning(
    demo: Demo, page: Page
) -> None:
    demo.sql("UPDATE licences SET valid_until = '2099-12-31' WHERE number = 'JY21101050038216'")
    try:
        page.goto(demo.urls["merchant-restaurant"])
        assert wait_verdict(page) == "tampered"
        expect(page.locator("#badge")).to_contain_text("警告")
        expect(page.locator(".fact.tampered")).to_have_count(1)
        expect(page.locator(".fact.tampered")).to_have_text("2099-12-31")
        shot(page, "merchant-tampered-projection")
    finally:
        restore_licence(demo)


def restore_licence(demo: Demo) -> None:
    import json

    with sqlite3.connect(demo.data_dir / "foodtrace.db") as db:
        (index,) = db.execute(
            "SELECT entry_index FROM licences WHERE number = 'JY21101050038216'"
        ).fetchone()
        (data,) = db.execute("SELECT data FROM entries WHERE leaf_index = ?", (index,)).fetchone()
        until = json.loads(data)["body"]["valid_until"]
        db.execute(
            "UPDATE licences SET valid_until = ? WHERE number = 'JY21101050038216'", (until,)
        )


def test_an_entry_changed_in_the_log_turns_the_badge_into_a_warning(demo: Demo, page: Page) -> None:
    with sqlite3.connect(demo.data_dir / "foodtrace.db") as db:
        (index, data) = db.execute(
            "SELECT leaf_index, data FROM entries WHERE type = 'inspection.record'"
        ).fetchone()
    forged = bytes(data).replace("合格".encode(), "优秀".encode())
    assert forged != bytes(data)
    demo.sql("UPDATE entries SET data = ? WHERE leaf_index = ?", forged, index)
    try:
        page.goto(demo.urls["merchant-restaurant"])
        assert wait_verdict(page) == "tampered"
        expect(page.locator("#checks")).to_contain_text(f"记录 #{index}")
        shot(page, "merchant-tampered-entry")
    finally:
        demo.sql("UPDATE entries SET data = ? WHERE leaf_index = ?", bytes(data), index)


def test_records_newer_than_every_checkpoint_show_pending_and_no_checkpoint_is_signed(
    demo: Demo, page: Page
) -> None:
    db = demo.data_dir / "foodtrace.db"
    with sqlite3.connect(db) as con:
        saved = con.execute("SELECT size, root, note, created_at FROM checkpoints").fetchall()
    assert saved
    demo.sql("DELETE FROM checkpoints")  # as if every record were newer than any checkpoint
    try:
        page.goto(demo.urls["merchant-restaurant"])
        assert wait_verdict(page) == "pending"
        expect(page.locator("#badge")).to_contain_text("待验证")
        expect(page.locator("#checks")).to_contain_text("晚于最新的日志检查点")
        with sqlite3.connect(db) as con:
            (issued,) = con.execute("SELECT COUNT(*) FROM checkpoints").fetchone()
        assert issued == 0, "a page view signed a checkpoint"
        shot(page, "merchant-pending")
    finally:
        with sqlite3.connect(db) as con:
            con.executemany("INSERT INTO checkpoints VALUES (?, ?, ?, ?)", saved)


def test_complaint_form_returns_a_tracking_number(demo: Demo, page: Page) -> None:
    page.goto(demo.urls["merchant-restaurant"])
    page.select_option("select[name=category]", label="异物")
    page.fill("textarea[name=description]", "凉菜里吃出一根头发,店员态度冷淡。")
    page.fill("input[name=contact]", "13800138000")
    page.click("#complaint-form button")
    expect(page.locator("#tracking-number")).to_be_visible(timeout=VERIFY_TIMEOUT_MS)
    assert page.locator("#tracking-number").inner_text().strip()
    page.locator("#complaint").scroll_into_view_if_needed()
    shot(page, "merchant-complaint")
    assert BY_KEY["restaurant"].credit_code in page.url


def test_vendored_sha256_matches_webcrypto(demo: Demo, page: Page) -> None:
    """Phones on plain HTTP have no crypto.subtle: the vendored noble SHA-256 must agree."""
    page.goto(demo.urls["merchant-restaurant"])
    results = page.evaluate(
        """async () => {
            const out = [];
            for (const n of [0, 1, 55, 56, 63, 64, 65, 119, 1000, 70000]) {
                const data = new Uint8Array(n).map((_, i) => (i * 31 + n) & 255);
                const a = new Uint8Array(await crypto.subtle.digest("SHA-256", data));
                const b = window.ftNoble.sha256(data);
                out.push(a.every((x, i) => x === b[i]) && b.length === 32);
            }
            return out;
        }"""
    )
    assert results == [True] * 10


# In-app browsers (WeChat, Alipay) and old Android WebViews: no WebCrypto, or no Ed25519 in it.
NO_SUBTLE = "Object.defineProperty(window.crypto, 'subtle', {value: undefined});"
NO_WEBCRYPTO_ED25519 = """
(() => {
  const importKey = crypto.subtle.importKey.bind(crypto.subtle);
  crypto.subtle.importKey = (format, key, alg, ...rest) =>
    (alg && (alg === "Ed25519" || alg.name === "Ed25519"))
      ? Promise.reject(new DOMException("Unrecognized name.", "NotSupportedError"))
      : importKey(format, key, alg, ...rest);
})();
"""


@pytest.mark.parametrize(
    "script", [NO_SUBTLE, NO_WEBCRYPTO_ED25519], ids=["no-subtle", "no-ed25519"]
)
def test_without_webcrypto_ed25519_the_vendored_library_verifies_the_log(
    demo: Demo, page: Page, script: str
) -> None:
    page.add_init_script(script)
    page.goto(demo.urls["merchant-restaurant"])
    assert wait_verdict(page) == "verified"
    assert page.evaluate("document.body.getAttribute('data-ed25519')") == "noble"
    # SHA-256 of the log key (for logKeyHash) comes from noble too: the chain check still runs.
    assert page.evaluate("document.body.getAttribute('data-checks')") == "log chain"
    assert page.evaluate("document.body.getAttribute('data-key')") == "match"
    expect(page.locator("#badge")).to_contain_text("已与区块链核对")
    expect(page.locator("#checks li.ok", has_text="日志检查点签名有效")).not_to_have_count(0)
    shot(page, "merchant-noble")


def test_with_webcrypto_ed25519_the_browser_verifies_natively(demo: Demo, page: Page) -> None:
    page.goto(demo.urls["merchant-restaurant"])
    assert wait_verdict(page) == "verified"
    assert page.evaluate("document.body.getAttribute('data-ed25519')") == "webcrypto"
    assert page.evaluate("document.body.getAttribute('data-chain')") == "match"


@pytest.mark.parametrize("script", ["", NO_SUBTLE], ids=["webcrypto", "no-subtle"])
def test_a_tampered_checkpoint_signature_fails_the_badge(
    demo: Demo, page: Page, script: str
) -> None:
    db = demo.data_dir / "foodtrace.db"
    with sqlite3.connect(db) as con:
        saved = con.execute("SELECT size, note FROM checkpoints").fetchall()
    for size, text in saved:
        head, _, line = text.rstrip("\n").rpartition("\n")
        name, _, blob = line.rpartition(" ")
        raw = bytearray(base64.b64decode(blob))
        raw[-1] ^= 0x01  # one bit of the Ed25519 signature
        forged = f"{head}\n{name} {base64.b64encode(bytes(raw)).decode()}\n"
        demo.sql("UPDATE checkpoints SET note = ? WHERE size = ?", forged, size)
    try:
        if script:
            page.add_init_script(script)
        page.goto(demo.urls["merchant-restaurant"])
        assert wait_verdict(page) == "tampered"
        expect(page.locator("#checks li.bad", has_text="日志检查点签名无效")).not_to_have_count(0)
        expect(page.locator("#badge")).to_contain_text("警告")
        shot(page, f"merchant-bad-signature-{'noble' if script else 'webcrypto'}")
    finally:
        with sqlite3.connect(db) as con:
            con.executemany(
                "UPDATE checkpoints SET note = ? WHERE size = ?", [(n, s) for s, n in saved]
            )
