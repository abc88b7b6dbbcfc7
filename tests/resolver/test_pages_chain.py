"""The badge reads the anchored root back from the TraceAnchor contract, in a real Chromium.

With ``FOODTRACE_CHAIN_PUBLIC_URL`` set, ``verify.js`` calls ``anchorAt(logId, treeSize)`` on
that RPC with ``eth_call`` from the shopper's browser and compares the root with the signed
checkpoint's. Here the demo is anchored on anvil (``tests/scanner/stack.py``), served with
the public URL pointing at the same anvil (anvil answers CORS preflights by default), and the
lot and merchant pages must say the contract's root matched. Then the contract's stored root
is overwritten with ``anvil_setStorageAt`` (a chain that disagrees with the log: the only
thing changed is the word on chain) and the badge must turn into a warning. A missing
chromium or anvil fails these tests; it never skips them.
"""

from __future__ import annotations

import base64
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from browsing import PHONE, shot
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from eth_utils.crypto import keccak
from playwright.sync_api import Page, Route, expect

from foodtrace.trace import checkpoint

TESTS = Path(__file__).resolve().parents[1]
for folder in ("scanner", "ledger"):  # stack.py and anvil.py: helpers, not packages
    if str(TESTS / folder) not in sys.path:
        sys.path.insert(0, str(TESTS / folder))

import stack  # noqa: E402
from anvil import DEV_KEYS, run_anvil  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.node]

VERIFY_TIMEOUT_MS = 10_000
ANCHORS_SLOT = 3  # TraceAnchor storage: _owner, _logs, _anchorers, _anchors
BOGUS_ROOT = "0x" + "ba" * 32
ANVIL_CHAIN_ID = 31337


@dataclass(frozen=True)
class ChainDemo:
    rpc: str
    contract: str
    urls: dict[str, str]

    def rpc_call(self, method: str, *params: object) -> object:
        body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}
        answer = httpx.post(self.rpc, json=body, timeout=5.0).json()
        assert "result" in answer, f"{method}: {answer}"
        return answer["result"]


@pytest.fixture(scope="module")
def chain_demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChainDemo]:
    root = tmp_path_factory.mktemp("chain-pages")
    with run_anvil() as rpc:
        port = stack.free_port()
        seeded = stack.seed(root / "data", port, rpc, DEV_KEYS[0])
        with pytest.MonkeyPatch.context() as env:
            env.setenv("FOODTRACE_CHAIN_PUBLIC_URL", rpc)
            with stack.serve(root / "data", port, rpc):
                urls = {path.stem: url for path, url in seeded.qr}
                yield ChainDemo(rpc, seeded.contract, urls)


def verdict(page: Page) -> tuple[str, str | None]:
    """The badge's state and what the contract said (``data-chain``), once it has decided."""
    page.wait_for_function(
        "document.body.getAttribute('data-verify') !== null", timeout=VERIFY_TIMEOUT_MS
    )
    state, chain = page.evaluate(
        "[document.body.getAttribute('data-verify'), document.body.getAttribute('data-chain')]"
    )
    return str(state), chain


def root_slot(log_id: str, tree_size: int) -> str:
    """Storage slot of ``_anchors[logId][treeSize].root`` (Solidity mapping layout)."""
    inner = keccak(bytes.fromhex(log_id[2:]) + ANCHORS_SLOT.to_bytes(32, "big"))
    return "0x" + keccak(tree_size.to_bytes(32, "big") + inner).hex()


def anchor_of(page: Page) -> dict[str, object]:
    anchor = page.evaluate("JSON.parse(document.getElementById('ft-proofs').textContent).anchor")
    assert isinstance(anchor, dict), "the page carries no anchor to read back"
    return anchor


def test_lot_page_reads_the_matching_root_from_the_contract(
    chain_demo: ChainDemo, page: Page
) -> None:
    url = next(u for k, u in chain_demo.urls.items() if k.startswith("lot-JG"))
    rpc_calls: list[str] = []
    page.on(
        "request",
        lambda r: rpc_calls.append(r.method) if r.url.startswith(chain_demo.rpc) else None,
    )
    page.goto(url)
    assert verdict(page) == ("verified", "match")
    expect(page.locator("#checks li.ok", has_text="已从区块链合约读取根哈希,一致")).to_have_count(1)
    # The badge names the chain, the block it read at and the RPC it used.
    host = chain_demo.rpc.split("//")[1].rstrip("/")
    expect(page.locator("#badge")).to_contain_text(f"已与区块链核对:链 {ANVIL_CHAIN_ID} · 区块 ")
    expect(page.locator("#badge")).to_contain_text(f"节点 {host}")
    # The log key the page verified checkpoints with is the one pinned on chain.
    assert page.evaluate("document.body.getAttribute('data-key')") == "match"
    assert page.evaluate("document.body.getAttribute('data-checks')") == "log chain"
    assert "POST" in rpc_calls, "the root was not read from the chain's RPC"
    assert anchor_of(page)["contract_address"] == chain_demo.contract
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(page, "lot-chain-match")


def test_merchant_page_reads_the_matching_root_from_the_contract(
    chain_demo: ChainDemo, page: Page
) -> None:
    page.goto(chain_demo.urls["merchant-restaurant"])
    assert verdict(page) == ("verified", "match")
    expect(page.locator("#badge")).to_contain_text("已与区块链核对")
    expect(page.locator("#checks")).to_contain_text("已从区块链合约读取根哈希,一致")
    shot(page, "merchant-chain-match")


def test_a_root_on_chain_that_differs_from_the_log_turns_the_badge_into_a_warning(
    chain_demo: ChainDemo, page: Page
) -> None:
    page.goto(chain_demo.urls["merchant-restaurant"])
    assert verdict(page) == ("verified", "match")
    anchor = anchor_of(page)
    contract, slot = (
        str(anchor["contract_address"]),
        root_slot(str(anchor["log_id"]), int(str(anchor["tree_size"]))),
    )
    stored = chain_demo.rpc_call("eth_getStorageAt", contract, slot, "latest")
    # The slot really holds the anchored root: this is the word the page reads.
    assert stored == "0x" + base64.b64decode(str(anchor["root"])).hex()
    chain_demo.rpc_call("anvil_setStorageAt", contract, slot, BOGUS_ROOT)
    try:
        page.reload()
        assert verdict(page) == ("tampered", "mismatch")
        expect(page.locator("#badge")).to_contain_text("警告")
        expect(
            page.locator("#checks li.bad", has_text="区块链合约中的根哈希与日志不一致")
        ).to_have_count(1)
        shot(page, "merchant-chain-mismatch")
    finally:
        chain_demo.rpc_call("anvil_setStorageAt", contract, slot, stored)


def test_an_rpc_the_user_picks_that_does_not_answer_reads_as_unreachable(
    chain_demo: ChainDemo, page: Page
) -> None:
    page.goto(chain_demo.urls["merchant-restaurant"])
    assert verdict(page) == ("verified", "match")
    dead = f"http://127.0.0.1:{stack.free_port()}/"
    page.locator("#badge-details").evaluate("d => d.open = true")
    page.fill("#rpc-form input[name=rpc]", dead)
    with page.expect_navigation():
        page.click("#rpc-form button")
    assert verdict(page) == ("verified", "unreachable")
    assert page.evaluate("localStorage.getItem('foodtrace.rpc')") == dead
    expect(page.locator("#badge")).to_have_text("ⓘ日志已验证 · 无法连接区块链")
    expect(page.locator("#checks")).to_contain_text(dead)
    assert page.evaluate("document.body.getAttribute('data-checks')") == "log"
    shot(page, "merchant-chain-unreachable")


def test_a_chain_without_the_contract_reads_as_unreachable_not_tampered(
    chain_demo: ChainDemo, page: Page
) -> None:
    with run_anvil() as empty:  # same chain id, nothing deployed: the wrong node, not a forgery
        page.add_init_script(f"localStorage.setItem('foodtrace.rpc', {empty!r});")
        page.goto(chain_demo.urls["merchant-restaurant"])
        assert verdict(page) == ("verified", "unreachable")
    expect(page.locator("#checks")).to_contain_text("没有合约")
    expect(page.locator("#badge")).to_contain_text("无法连接区块链")


def test_an_rpc_of_another_network_reads_as_unreachable(chain_demo: ChainDemo, page: Page) -> None:
    fake = "http://rpc.other-network.test/"
    page.route(
        fake + "**",
        lambda route: route.fulfill(
            status=200,
            content_type="application/json",
            headers={"access-control-allow-origin": "*"},
            body='{"jsonrpc":"2.0","id":1,"result":"0x1"}',
        ),
    )
    page.add_init_script(f"localStorage.setItem('foodtrace.rpc', {fake!r});")
    page.goto(chain_demo.urls["merchant-restaurant"])
    assert verdict(page) == ("verified", "unreachable")
    expect(page.locator("#checks")).to_contain_text(f"此节点是链 1,锚定在链 {ANVIL_CHAIN_ID}")


def swap_log_key(html: str) -> tuple[str, str]:
    """The page as an operator with another log key would serve it: every checkpoint
    re-signed with the new key, and that key sent as the log's. Log-only checks still pass."""
    start = html.index('<script type="application/json" id="ft-proofs">')
    begin = html.index(">", start) + 1
    end = html.index("</script>", begin)
    proofs = json.loads(html[begin:end])
    origin = proofs["verifier_key"].split("+", 1)[0]
    key = Ed25519PrivateKey.generate()
    for size, text in proofs["checkpoints"].items():
        body = checkpoint.parse_body(text.split("\n\n")[0] + "\n")
        proofs["checkpoints"][size] = checkpoint.sign_checkpoint(body, origin, key)
    proofs["verifier_key"] = checkpoint.verifier_key(origin, key)
    data = json.dumps(proofs, ensure_ascii=False).replace("<", "\\u003c")
    return html[:begin] + data + html[end:], proofs["verifier_key"]


def test_a_swapped_log_key_is_caught_against_the_key_pinned_on_chain(
    chain_demo: ChainDemo, page: Page
) -> None:
    swapped: list[str] = []

    def serve_swapped(route: Route) -> None:
        original = route.fetch()
        html, vkey = swap_log_key(original.text())
        swapped.append(vkey)
        route.fulfill(status=200, content_type="text/html; charset=utf-8", body=html)

    def relay_rpc(route: Route) -> None:
        # Playwright's interception (needed for the swap) breaks CORS to anvil, so its
        # answers are relayed through it: still the real chain's words.
        cors = {"access-control-allow-origin": "*", "access-control-allow-headers": "*"}
        if route.request.method == "OPTIONS":
            route.fulfill(status=204, headers=cors)
            return
        answer = route.fetch()
        route.fulfill(status=answer.status, body=answer.body(), headers=cors)

    url = chain_demo.urls["merchant-restaurant"]
    page.route(url.split("?")[0] + "*", serve_swapped)
    page.route(chain_demo.rpc + "**", relay_rpc)
    page.goto(url)
    v = verdict(page)
    assert v == ("tampered", "match")  # the root is right; the key is not
    assert swapped, "the page was not served through the swap"
    assert page.evaluate("document.body.getAttribute('data-key')") == "mismatch"
    expect(page.locator("#checks li.ok", has_text="日志检查点签名有效")).not_to_have_count(0)
    expect(page.locator("#key-mismatch")).to_contain_text(swapped[0])
    expect(page.locator("#badge")).to_contain_text("日志公钥与区块链登记的不符")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(page, "merchant-log-key-swapped")
