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
from browsing import PHONE
from playwright.sync_api import Browser, Page

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


@pytest.fixture
def strict_page(browser: Browser) -> Iterator[Page]:
    """A phone-sized page that keeps the page's CSP (the shared ``page`` bypasses it)."""
    context = browser.new_context(viewport=PHONE, locale="zh-CN", device_scale_factor=2)
    p = context.new_page()
    errors: list[str] = []
    p.on("pageerror", lambda e: errors.append(str(e)))
    yield p
    context.close()
    assert not errors, f"script errors on the page: {errors}"


def _wait_until(page: Page, expression: str, timeout_s: float) -> None:
    """Poll ``expression`` from outside the page: Playwright's ``wait_for_function`` would
    evaluate its predicate with ``eval``, which this CSP rightly refuses."""
    deadline = time.monotonic() + timeout_s
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {expression}")
        time.sleep(0.05)


@pytest.mark.parametrize("code", ["merchant-restaurant", "lot-JG"])
def test_page_under_csp_reports_no_violation_and_verifies(
    demo: dict[str, str], strict_page: Page, code: str
) -> None:
    page = strict_page
    url = next(u for k, u in sorted(demo.items()) if k.startswith(code))
    with urllib.request.urlopen(urllib.request.Request(url, headers={"accept": "text/html"})) as r:
        csp = r.headers["content-security-policy"]
    assert "script-src 'self';" in csp and "unsafe-inline" not in csp
    console: list[str] = []
    page.on("console", lambda m: console.append(m.text))
    page.add_init_script(LISTEN)
    page.goto(url)
    _wait_until(page, "document.body.getAttribute('data-verify') !== null", 30)
    assert page.evaluate("document.body.getAttribute('data-verify')") == "verified"
    assert page.evaluate("window.__csp") == []
    assert not [m for m in console if "Content Security Policy" in m], console
    # the listener is live: an injected inline script is refused and reported
    page.evaluate(
        "() => { const s = document.createElement('script');"
        " s.textContent = 'window.__ran = 1'; document.body.append(s); }"
    )
    _wait_until(page, "window.__csp.length > 0", 5)
    assert page.evaluate("window.__ran") is None
    assert page.evaluate("window.__csp")[0].startswith("script-src")
