"""The workbench in a phone-sized headless Chromium (390×844) against a real uvicorn server
on 127.0.0.1, with the page CSP kept (the pages need no inline script or style): an inspector
logs in, records a visit with a photo, the merchant confirms it by code on its own phone (双签),
the inspector answers and confirms a complaint, the grid worker confirms it, the complainant
rates it and it shows closed; the alerts page lists the visit nobody signed; a regulator
registers a shop found on the street with its position and shopfront photo (扫街纳管) and
finds it listed with both. Screenshots go to ``artifacts/screenshots``. A missing browser
fails these tests; it never skips them."""

from __future__ import annotations

import io
import re
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
import uvicorn
from benchharness import PNG, Grid, make_grid
from browsing import ARGS, CHROMIUM, PHONE, shot
from databases import database
from PIL import Image, ImageDraw
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright
from recordharness import Actor, Env, credit_code

from foodtrace.api.app import create_app
from foodtrace.config import Settings
from foodtrace.party.service import init_regulator
from foodtrace.store.db import migrate
from foodtrace.trace import keys

pytestmark = pytest.mark.browser


LOADED = (
    "i => i.complete ? i.naturalWidth > 0 : new Promise(done => {"
    " i.onload = () => done(i.naturalWidth > 0); i.onerror = () => done(false); })"
)
"""True once an image has loaded with pixels, false if it failed: waits for one still
loading (a loaded machine can be slower than the assertion; a refused one fails)."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class World:
    def __init__(self, base: str, env: Env, grid: Grid, tracking: str) -> None:
        self.base, self.env, self.grid, self.tracking = base, env, grid, tracking


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("workbench-browser")
    with database("sqlite", tmp) as url:
        migrate(url, "heads")
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        settings = Settings(
            data_dir=tmp / "var",
            database_url=url,
            log_origin="test.foodtrace/log",
            public_base_url=base,
            batch_max_wait_s=0.001,
        )
        app = create_app(settings)
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 15
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                pytest.fail("uvicorn did not start")
            time.sleep(0.05)
        boot = init_regulator(
            app.state.log,
            party_id="gov-sh",
            name="上海市市场监督管理局",
            credit_code=credit_code(0),
            key_file=tmp / "regulator.key",
        )
        with httpx.Client(base_url=base, timeout=30) as client:
            regulator = Actor(
                client,  # type: ignore[arg-type]  (Actor only posts and gets)
                boot.party_id,
                "regulator",
                boot.token,
                keys.read_private(boot.key_file),
            )
            env = Env(client, app.state.log, settings, regulator)  # type: ignore[arg-type]
            grid = make_grid(env, "wb-browser", shops=2)
            # a visit of the second shop nobody acknowledges: an alert
            r = client.post(
                "/api/v1/inspections",
                json={
                    "party_id": grid.shops[1].party_id,
                    "inspected_on": datetime.now(UTC).date().isoformat(),
                    "result": "合格",
                },
                headers=grid.officer.headers,
            )
            assert r.status_code == 201, r.text
            r = client.post(
                "/api/v1/complaints",
                json={
                    "merchant_id": grid.shops[0].party_id,
                    "category": "hygiene",
                    "description": "餐具不洁",
                },
            )
            assert r.status_code == 201, r.text
            yield World(base, env, grid, r.json()["tracking_number"])
        server.should_exit = True
        thread.join(10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


def _phone(browser: Browser) -> tuple[BrowserContext, Page, list[str]]:
    """A phone-sized page that keeps the CSP; console errors (a CSP refusal) are collected."""
    context = browser.new_context(viewport=PHONE, locale="zh-CN", device_scale_factor=2)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return context, page, errors


def _login(page: Page, base: str, token: str) -> None:
    page.goto(f"{base}/workbench/login")
    page.fill("input[name=token]", token)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/workbench/")


def _fits(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_inspection_with_photo_confirmed_by_the_merchant(world: World, browser: Browser) -> None:
    context, page, errors = _phone(browser)
    shop = world.grid.shops[0]
    _login(page, world.base, world.grid.officer.token)
    expect(page.locator(f"#b-{shop.party_id}")).to_contain_text("小吃店0")
    _fits(page)
    shot(page, "workbench-home")
    page.locator(f"#b-{shop.party_id} a.action").click()
    page.wait_for_url(re.compile(r".*/workbench/inspections/new\?party_id=.*"))
    page.select_option("select[name=item3]", "不符合")
    page.select_option("select[name=result]", "基本合格")
    page.fill("textarea[name=findings]", "冷藏柜温度记录不完整")
    page.fill("input[name=action]", "补全冷藏温度记录")
    page.fill("input[name=deadline]", "2099-01-01")
    page.set_input_files(
        "input[name=photos]", files=[{"name": "现场.png", "mimeType": "image/png", "buffer": PNG}]
    )
    _fits(page)
    shot(page, "workbench-inspect-form")
    page.click("#inspect-form button[type=submit]")
    expect(page.locator("#code")).to_have_text(re.compile(r"^\d{6}$"))
    expect(page.locator("#photos")).to_have_text("1")
    expect(page.locator("#double-signed")).to_contain_text("待商户确认")
    code = page.locator("#code").inner_text()
    confirm_url = page.locator("#confirm-url").inner_text()
    shot(page, "workbench-inspect-code")

    m_context, merchant, m_errors = _phone(browser)  # the merchant's own phone, not logged in
    merchant.goto(world.base + confirm_url)
    merchant.fill("input[name=code]", code)
    merchant.click("button[type=submit]")
    expect(merchant.locator("#confirmed")).to_contain_text("双签")
    _fits(merchant)
    shot(merchant, "workbench-merchant-confirmed")
    m_context.close()

    page.click("text=刷新确认状态")
    expect(page.locator("#double-signed")).to_contain_text("双签:检查员与商户均已签名")
    index = int(confirm_url.rsplit("/", 1)[1])
    visit = httpx.get(f"{world.base}/api/v1/inspections/{index}").json()["record"]
    assert visit["double_signed"] and len(visit["photos"]) == 1
    context.close()
    assert not errors and not m_errors, errors + m_errors


def test_alerts_show_the_visit_nobody_signed(world: World, browser: Browser) -> None:
    context, page, errors = _phone(browser)
    _login(page, world.base, world.grid.worker.token)
    page.click("nav >> text=预警")
    section = page.locator("#alerts-wb-browser")
    expect(section.locator(".alert-inspection_unacknowledged")).to_contain_text(
        world.grid.shops[1].party_id
    )
    _fits(page)
    shot(page, "workbench-alerts")
    context.close()
    assert not errors, errors


def test_complaint_answered_confirmed_by_both_and_closed(world: World, browser: Browser) -> None:
    tracking = world.tracking
    context, page, errors = _phone(browser)
    _login(page, world.base, world.grid.officer.token)
    page.click("nav >> text=投诉")
    card = page.locator(f"#c-{tracking}")
    expect(card).to_contain_text("餐具不洁")
    card.locator("textarea[name=note]").fill("已致电商户,要求立即整改")
    card.locator("form.answer button").click()
    expect(card).to_contain_text("回应(30分钟内):")
    expect(card).not_to_contain_text("未回应")
    card.locator("select[name=stage]").select_option("feedback")
    card.locator("textarea[name=note]").fill("商户已整改,餐具消毒记录齐全")
    card.locator("form.answer button").click()
    expect(card).not_to_contain_text("未反馈")
    card.locator("form.confirm button").click()
    expect(card).to_contain_text("监管员确认:已确认")

    w_context, worker, w_errors = _phone(browser)
    _login(worker, world.base, world.grid.worker.token)
    worker.click("nav >> text=投诉")
    worker.locator(f"#c-{tracking} form.confirm button").click()
    expect(worker.locator(f"#c-{tracking}")).to_contain_text("网格员确认:已确认")
    w_context.close()

    r = httpx.post(f"{world.base}/api/v1/complaints/{tracking}/rating", json={"rating": 5})
    assert r.status_code == 201, r.text
    page.reload()
    expect(card.locator(".status")).to_have_text("已办结")
    expect(card).to_contain_text("投诉人评价:5/5")
    _fits(page)
    shot(page, "workbench-complaint-closed")
    page.click("text=退出")
    page.wait_for_url(f"{world.base}/workbench/login")
    context.close()
    assert not errors and not w_errors, errors + w_errors


def _shopfront_png() -> bytes:
    """A small photo-like PNG (a shop sign over a door), so the screenshots show it."""
    image = Image.new("RGB", (160, 100), (236, 240, 238))
    draw = ImageDraw.Draw(image)
    draw.rectangle((10, 8, 150, 34), fill=(198, 40, 40))
    draw.rectangle((55, 44, 105, 100), fill=(90, 70, 50))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def test_street_registration_with_position_and_photo(world: World, browser: Browser) -> None:
    regulator = world.env.regulator
    r = httpx.post(  # the workbench signs the regulator's entries with its server-held key
        f"{world.base}/api/v1/custodial-keys",
        json={"party_id": "gov-sh"},
        headers=regulator.headers,
    )
    assert r.status_code == 201, r.text
    key = regulator.sign(
        "party.key.register", {"party_id": "gov-sh", "public_key": r.json()["public_key"]}
    )
    r = httpx.post(
        f"{world.base}/api/v1/party-keys", json={"entry": key}, headers=regulator.headers
    )
    assert r.status_code == 201, r.text
    context, page, errors = _phone(browser)
    _login(page, world.base, regulator.token)
    page.click("nav >> text=扫街")
    page.wait_for_url(f"{world.base}/workbench/street")
    code = credit_code()
    page.select_option("select[name=small]", "小食杂")
    page.fill("input[name=name]", "八一路便民小卖部")
    page.fill("input[name=credit_code]", code)
    page.fill("input[name=address]", "城桥镇八一路8号")
    page.fill("input[name=lat]", "31.62712")
    page.fill("input[name=lng]", "121.40233")
    page.select_option("select[name=grid_id]", world.grid.grid_id)
    page.set_input_files(
        "input[name=photo]",
        files=[{"name": "门头.png", "mimeType": "image/png", "buffer": _shopfront_png()}],
    )
    _fits(page)
    shot(page, "workbench-street-form")
    page.click("#street-form button[type=submit]")
    expect(page.locator("#registered h1")).to_have_text("已登记:八一路便民小卖部")
    expect(page.locator("#position")).to_have_text("纬度 31.62712,经度 121.40233")
    expect(page.locator("#enrolment")).to_have_text(re.compile(r"^fte_"))
    for image in ("#shopfront", "#label"):  # both really loaded, under the page's CSP
        expect(page.locator(image)).to_be_visible()
        assert page.locator(image).evaluate(LOADED), image
    _fits(page)
    shot(page, "workbench-street-registered")

    page.click("nav >> text=扫街")
    listed = page.locator(f"#s-{code}")
    expect(listed).to_contain_text("八一路便民小卖部")
    expect(listed.locator(".position")).to_have_text("纬度 31.62712,经度 121.40233")
    assert listed.locator("img.shopfront").evaluate(LOADED)
    _fits(page)
    shot(page, "workbench-street-listed")
    entry = httpx.get(f"{world.base}/api/v1/parties/{code}").json()
    body = httpx.get(f"{world.base}/api/v1/records/{entry['entry_index']}").json()["entry"]["body"]
    assert body["position"] == {"lat": 31.62712, "lng": 121.40233}
    assert len(body["shopfront_photo"]) == 64
    context.close()
    assert not errors, errors
