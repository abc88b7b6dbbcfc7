"""The recall case in a phone-sized headless Chromium, on the demo: the restaurant that
received the recalled tomatoes (in its salad) and the salad lot show the case banner, whose
level and reason the badge verifies, and the case page shows its clocks and progress."""

from __future__ import annotations

import httpx
import pytest
from browsing import PHONE, shot
from playwright.sync_api import Page, expect
from test_pages_browser import Demo, demo, wait_verdict  # noqa: F401  (the demo server)

pytestmark = pytest.mark.browser


def _case(demo: Demo) -> dict[str, object]:  # noqa: F811
    [case] = httpx.get(f"http://127.0.0.1:{demo.port}/api/v1/recalls").json()
    assert isinstance(case, dict)
    return case


def test_shop_and_lot_pages_show_the_case_banner(demo: Demo, page: Page) -> None:  # noqa: F811
    case = _case(demo)
    salad = next(u for k, u in demo.urls.items() if k.startswith("lot-JG"))
    for name, url in (("merchant", demo.urls["merchant-restaurant"]), ("lot", salad)):
        page.goto(url)
        banner = page.locator("#recall-cases")
        expect(banner).to_be_visible()
        expect(banner).to_contain_text("二级召回")
        expect(banner).to_contain_text("抽检发现腐霉利残留超标")
        expect(banner.get_by_role("link")).to_contain_text(str(case["id"]))
        assert wait_verdict(page) == "verified"  # the banner's facts verified with the rest
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        shot(page, f"recall-banner-{name}")
    cucumber = next(u for k, u in demo.urls.items() if k.startswith("lot-SG") and k.endswith("A"))
    page.goto(cucumber)
    expect(page.locator("#recall-cases")).to_have_count(0)  # not downstream of the tomatoes


def test_case_page_shows_level_clocks_and_progress(demo: Demo, page: Page) -> None:  # noqa: F811
    case = _case(demo)
    progress = case["progress"]
    assert isinstance(progress, dict)
    page.goto(demo.urls["merchant-restaurant"])
    page.locator("#recall-cases a").first.click()
    page.wait_for_url(f"**/recalls/{case['id']}")
    expect(page.locator("#case-banner")).to_contain_text("二级召回")
    expect(page.locator("#case-banner")).to_contain_text("责令召回")
    expect(page.locator("#start-due")).to_be_visible()
    expect(page.locator("#done-due")).to_contain_text("工作日")
    ack = f"{progress['acknowledged']}/{progress['parties']} 家"
    expect(page.locator("#ack")).to_contain_text(ack)
    assert progress["acknowledged"] == 1  # the processor acknowledged in the demo
    expect(page.locator("#progress")).to_contain_text("已追回/销毁")
    expect(page.locator("#overdue")).to_have_text("无")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(page, "recall-case")
