"""A seeded demo chain (foodtrace.demo) on either backend, shared by a module's tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from browsing import ARGS, CHROMIUM, PHONE
from databases import database
from demo_seed import Seeded, seed_demo
from playwright.sync_api import Browser, Page, sync_playwright


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def seeded(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Seeded]:
    tmp = tmp_path_factory.mktemp(f"resolver-{request.param}")
    with database(request.param, tmp) as url:
        yield seed_demo(tmp / "data", url)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A phone-sized page; any script error on it fails the test. The page's CSP is
    bypassed so Playwright's own waits can evaluate their predicates; the CSP itself is
    tested with a context that keeps it (tests/security/test_csp_browser.py)."""
    context = browser.new_context(
        viewport=PHONE, locale="zh-CN", device_scale_factor=2, bypass_csp=True
    )
    p = context.new_page()
    errors: list[str] = []
    p.on("pageerror", lambda e: errors.append(str(e)))
    yield p
    context.close()
    assert not errors, f"script errors on the page: {errors}"
