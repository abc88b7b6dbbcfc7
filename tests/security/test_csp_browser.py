"""The pages under their Content-Security-Policy in a real Chromium at a phone's viewport:
no violation is reported (no inline script, handler or style) and the badge still verifies.
The server is the real app on uvicorn, so the header is the one production sends."""

from __future__ import annotations

import socket
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Page

from foodtrace.api.app import create_app
from foodtrace.demo import demo_settings, prepare

pytestmark = pytest.mark.browser

LISTEN = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__csp.push(
    e.violatedDirective + ' ' + e.blockedURI + ' ' + e.sourceFile + ':' + e.lineNumber);
});
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    data_dir = tmp_path_factory.mktemp("csp") / "demo"
    port = _free_port()
    summary = prepare(data_dir, port)
    app = create_app(demo_settings(data_dir, port))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("uvicorn did not start")
        time.sleep(0.05)
    yield {Path(path).stem: url for path, url in summary.qr}
    server.should_exit = True
    thread.join(10)


@pytest.mark.parametrize("code", ["merchant-restaurant", "lot-JG"])
def test_page_under_csp_reports_no_violation_and_verifies(
    demo: dict[str, str], page: Page, code: str
) -> None:
    url = next(u for k, u in sorted(demo.items()) if k.startswith(code))
    with urllib.request.urlopen(urllib.request.Request(url, headers={"accept": "text/html"})) as r:
        csp = r.headers["content-security-policy"]
    assert "script-src 'self';" in csp and "unsafe-inline" not in csp
    console: list[str] = []
    page.on("console", lambda m: console.append(m.text))
    page.add_init_script(LISTEN)
    page.goto(url)
    page.wait_for_function("document.body.getAttribute('data-verify') !== null", timeout=10_000)
    assert page.evaluate("document.body.getAttribute('data-verify')") == "verified"
    assert page.evaluate("window.__csp") == []
    assert not [m for m in console if "Content Security Policy" in m], console
    # the listener is live: an injected inline script is refused and reported
    page.evaluate(
        "() => { const s = document.createElement('script');"
        " s.textContent = 'window.__ran = 1'; document.body.append(s); }"
    )
    page.wait_for_function("window.__csp.length > 0", timeout=5_000)
    assert page.evaluate("window.__ran") is None
    assert page.evaluate("window.__csp")[0].startswith("script-src")
