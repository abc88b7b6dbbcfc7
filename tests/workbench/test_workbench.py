"""The workbench through HTTP on both databases: login and logout, CSRF on every form,
role and grid refusals, a double-signed inspection with a photo confirmed by the merchant's
one-time code, a complaint answered and closed by both owners and the rating, alerts."""

from __future__ import annotations

import re

from benchharness import PNG, Bench, make_grid
from recordharness import Env

from foodtrace.complaint.schemas import Category, ComplaintIn
from foodtrace.complaint.service import file_complaint
from foodtrace.store.db import session_factory
from foodtrace.workbench.access import SESSION_COOKIE
from foodtrace.workbench.views import STRANGER_POSTS_PER_MINUTE

CODE = re.compile(r'id="code">(\d{6})<')


def test_login_takes_only_live_inspector_or_regulator_tokens(env: Env) -> None:
    g = make_grid(env)
    bench = Bench(env)
    assert bench.get("/workbench/").status_code == 303  # not logged in: to the login page
    r = bench.login("ft_" + "x" * 43)
    assert r.status_code == 401 and "令牌无效" in r.text
    r = bench.login(g.shops[0].token)  # a shop's token
    assert r.status_code == 403 and "只有检查员和监管人员" in r.text
    assert SESSION_COOKIE not in bench.client.cookies
    r = bench.login(g.officer.token)
    assert r.status_code == 303, r.text
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/workbench" in cookie
    assert g.officer.token not in cookie  # the token is never in the cookie
    home = bench.get("/workbench/")
    assert home.status_code == 200 and "小吃店0" in home.text and "小吃店1" in home.text
    # logging out ends the session
    r = bench.post("/workbench/logout", {})
    assert r.status_code == 303
    assert bench.get("/workbench/").status_code == 303


def test_logout_ends_the_session_on_the_server(env: Env) -> None:
    """A copy of the cookie taken before logout is refused after it; another session of the
    same token (another phone) is not ended with it."""
    g = make_grid(env)
    bench, other = Bench(env), Bench(env)
    assert bench.login(g.officer.token).status_code == 303
    assert other.login(g.officer.token).status_code == 303
    copied = bench.client.cookies[SESSION_COOKIE]
    thief = Bench(env)
    thief.client.cookies.set(SESSION_COOKIE, copied, path="/workbench")
    assert thief.get("/workbench/").status_code == 200  # the copy works while logged in
    assert bench.post("/workbench/logout", {}).status_code == 303
    assert thief.get("/workbench/").status_code == 303  # and not after logout
    thief.client.cookies.set(SESSION_COOKIE, copied, path="/workbench")
    assert thief.get("/workbench/alerts").status_code == 303
    r = thief.client.post("/workbench/logout", data={"csrf": "x"})
    assert r.status_code == 403  # nor can it be used to post
    assert other.get("/workbench/").status_code == 200


def test_a_forged_or_revoked_session_is_no_session(env: Env) -> None:
    g = make_grid(env)
    bench = Bench(env)
    assert bench.login(g.officer.token).status_code == 303
    value = bench.client.cookies[SESSION_COOKIE]
    body, mac = value.split(".")
    bench.client.cookies.set(SESSION_COOKIE, body + "." + mac[::-1], path="/workbench")
    assert bench.get("/workbench/").status_code == 303
    bench.client.cookies.set(SESSION_COOKIE, value, path="/workbench")
    assert bench.get("/workbench/").status_code == 200
    r = env.client.get(
        f"/api/v1/parties/{g.officer.party_id}/tokens", headers=env.regulator.headers
    )
    assert r.status_code == 200, r.text
    [token] = r.json()
    r = env.client.delete(
        f"/api/v1/parties/{g.officer.party_id}/tokens/{token['id']}", headers=env.regulator.headers
    )
    assert r.status_code in (200, 204), r.text
    assert bench.get("/workbench/").status_code == 303  # the revoked token ends the session


def test_every_form_refuses_a_missing_or_wrong_csrf_token_and_writes_nothing(env: Env) -> None:
    g = make_grid(env)
    tracking = file_complaint(
        env.log,
        session_factory(env.log.engine),
        env.settings,
        ComplaintIn(merchant_id=g.shops[0].party_id, category=Category.HYGIENE, description="脏"),
    )
    bench = Bench(env)
    # the login form itself
    r = bench.client.post("/workbench/login", data={"token": g.officer.token})
    assert r.status_code == 403 and SESSION_COOKIE not in bench.client.cookies
    assert bench.login(g.officer.token).status_code == 303
    before = env.snapshot()
    forms = [
        ("/workbench/inspections", {"party_id": g.shops[0].party_id, "result": "合格"}),
        (f"/workbench/complaints/{tracking}/answer", {"stage": "response", "note": "已联系"}),
        (f"/workbench/complaints/{tracking}/confirm", {}),
        ("/workbench/confirm/0", {"code": "123456"}),
        ("/workbench/logout", {}),
    ]
    for path, data in forms:
        for csrf in (None, "forged", bench.csrf("/workbench/")[:-2] + "AA"):
            sent = data if csrf is None else {**data, "csrf": csrf}
            r = bench.client.post(path, data=sent)
            assert r.status_code == 403, (path, csrf, r.text)
            assert "CSRF" in r.text
    assert env.snapshot() == before
    assert bench.get("/workbench/").status_code == 200  # logout was refused too


def test_double_signed_inspection_with_a_photo_and_the_merchants_code(env: Env) -> None:
    g = make_grid(env)
    shop = g.shops[0]
    bench = Bench(env)
    assert bench.login(g.officer.token).status_code == 303
    form = bench.get(f"/workbench/inspections/new?party_id={shop.party_id}")
    assert form.status_code == 200 and "现场照片" in form.text
    data = {
        "csrf": bench.csrf("/workbench/"),
        "party_id": shop.party_id,
        "item0": "符合",
        "item3": "不符合",
        "result": "基本合格",
        "findings": "冷藏柜温度记录不完整\n\n",
        "action": "补全冷藏温度记录",
        "deadline": "2099-01-01",
    }
    r = bench.client.post(
        "/workbench/inspections", data=data, files=[("photos", ("p.png", PNG, "image/png"))]
    )
    assert r.status_code == 200, r.text
    code = CODE.search(r.text)
    assert code, r.text
    index = int(re.search(r"检查记录 #(\d+)", r.text).group(1))  # type: ignore[union-attr]
    visit = env.client.get(f"/api/v1/inspections/{index}").json()["record"]
    assert visit["inspector"] == g.officer.party_id and visit["result"] == "基本合格"
    assert visit["findings"] == ["冷藏柜温度记录不完整"]
    assert visit["corrective_actions"] == [{"action": "补全冷藏温度记录", "deadline": "2099-01-01"}]
    [photo] = visit["photos"]
    assert env.client.get(f"/api/v1/blobs/{photo}").content == PNG
    assert not visit["double_signed"]
    alerts = bench.get("/workbench/alerts")
    assert "inspection_unacknowledged" in alerts.text  # an unsigned visit is an alert

    merchant = Bench(env)  # the merchant's own phone: no login
    page = merchant.get(f"/workbench/confirm/{index}")
    wrong = "000000" if code.group(1) != "000000" else "111111"
    r = merchant.client.post(
        f"/workbench/confirm/{index}",
        data={"code": wrong, "csrf": merchant.csrf(f"/workbench/confirm/{index}")},
    )
    assert page.status_code == 200 and r.status_code == 422 and "确认码不正确" in r.text
    r = merchant.client.post(
        f"/workbench/confirm/{index}",
        data={"code": code.group(1), "csrf": merchant.csrf(f"/workbench/confirm/{index}")},
    )
    assert r.status_code == 200 and "已确认" in r.text, r.text
    visit = env.client.get(f"/api/v1/inspections/{index}").json()["record"]
    assert visit["double_signed"] and visit["acknowledgement"]["method"] == "code"
    assert "双签:检查员与商户均已签名" in bench.get(f"/workbench/inspections/{index}").text


def test_inspection_problems_are_listed_by_field_and_out_of_grid_is_refused(env: Env) -> None:
    g = make_grid(env)
    other = env.add_party("restaurant")  # in no grid
    bench = Bench(env)
    assert bench.login(g.officer.token).status_code == 303
    before = env.snapshot()
    r = bench.post(
        "/workbench/inspections",
        {
            "party_id": g.shops[0].party_id,
            "result": "很好",
            "item1": "?",
            "deadline": "x",
            "action": "a",
        },
    )
    assert r.status_code == 422
    for field in ("/form/result", "/form/item1", "/form/deadline"):
        assert field in r.text
    r = bench.post(
        "/workbench/inspections",
        {"party_id": g.shops[0].party_id, "result": "合格"},
        files=[("photos", ("p.pdf", b"%PDF-1.4 not a photo", "image/png"))],
    )
    assert r.status_code == 415 and "/form/photos/0" in r.text
    assert bench.get(f"/workbench/inspections/new?party_id={other.party_id}").status_code == 403
    r = bench.post("/workbench/inspections", {"party_id": other.party_id, "result": "合格"})
    assert r.status_code == 403
    assert env.snapshot() == before


def test_a_complaint_answered_and_closed_by_both_owners_and_the_rating(env: Env) -> None:
    g = make_grid(env)
    tracking = file_complaint(
        env.log,
        session_factory(env.log.engine),
        env.settings,
        ComplaintIn(
            merchant_id=g.shops[1].party_id, category=Category.HYGIENE, description="有异味"
        ),
    )
    officer, worker, head = Bench(env), Bench(env), Bench(env)
    for b, who in ((officer, g.officer), (worker, g.worker), (head, g.head)):
        assert b.login(who.token).status_code == 303
    page = officer.get("/workbench/complaints")
    assert tracking in page.text and "有异味" in page.text
    r = officer.post(f"/workbench/complaints/{tracking}/answer", {"stage": "response", "note": ""})
    assert r.status_code == 422 and "/form/note" in r.text
    r = officer.post(
        f"/workbench/complaints/{tracking}/answer", {"stage": "response", "note": "已致电商户"}
    )
    assert r.status_code == 303, r.text
    r = officer.post(
        f"/workbench/complaints/{tracking}/answer", {"stage": "feedback", "note": "已整改"}
    )
    assert r.status_code == 303, r.text
    assert head.post(f"/workbench/complaints/{tracking}/confirm", {}).status_code == 403
    assert officer.post(f"/workbench/complaints/{tracking}/confirm", {}).status_code == 303
    assert worker.post(f"/workbench/complaints/{tracking}/confirm", {}).status_code == 303
    r = env.client.post(f"/api/v1/complaints/{tracking}/rating", json={"rating": 5})
    assert r.status_code == 201, r.text
    owners = env.client.get(f"/api/v1/complaints/{tracking}/owners", headers=g.officer.headers)
    assert owners.json()["closed"] is True
    assert "已办结" in officer.get("/workbench/complaints").text
    # an inspector of another grid sees none of it and may not answer it
    stranger = make_grid(env, "wb-02", shops=1)
    b = Bench(env)
    assert b.login(stranger.officer.token).status_code == 303
    assert tracking not in b.get("/workbench/complaints").text
    r = b.post(f"/workbench/complaints/{tracking}/answer", {"stage": "response", "note": "x"})
    assert r.status_code == 404


def test_schedule_lists_my_grids_due_visits_and_trace_goes_to_the_lot(env: Env) -> None:
    g = make_grid(env)
    other = make_grid(env, "wb-02", shops=1)
    visited, unvisited = g.shops
    for officer, shop in ((g.officer, visited), (other.officer, other.shops[0])):
        long_ago = {"party_id": shop.party_id, "inspected_on": "2024-01-15", "result": "合格"}
        r = officer.post("/api/v1/inspections", "inspection.record", long_ago)
        assert r.status_code == 201, r.text
    r = env.client.post("/api/v1/grades/recompute", headers=env.regulator.headers)
    assert r.status_code == 200, r.text
    bench = Bench(env)
    assert bench.login(g.officer.token).status_code == 303
    page = bench.get("/workbench/schedule")
    assert page.status_code == 200
    # last visited years ago: overdue whatever its grade (the longest interval is a year)
    assert f"party_id={visited.party_id}" in page.text
    # graded today and never visited: its first inspection is an interval away, not due yet
    assert f"party_id={unvisited.party_id}" not in page.text
    assert other.shops[0].party_id not in page.text  # overdue too, but another grid's
    r = bench.get("/workbench/trace/lot?gtin=12ab&lot=")
    assert r.status_code == 422 and "/query/gtin" in r.text and "/query/lot" in r.text
    r = bench.get("/workbench/trace/lot?gtin=06901234100013&lot=SG%2F1")
    assert r.status_code == 303
    assert r.headers["location"] == "/api/v1/lots/06901234100013/SG%2F1/trace"
    assert "召回" in bench.get("/workbench/trace").text


def test_a_stranger_may_try_only_so_many_logins(env: Env) -> None:
    bench = Bench(env)
    csrf = bench.csrf()
    answers = [
        bench.client.post("/workbench/login", data={"token": "ft_nope", "csrf": csrf}).status_code
        for _ in range(STRANGER_POSTS_PER_MINUTE + 1)
    ]
    assert answers[:-1] == [401] * STRANGER_POSTS_PER_MINUTE
    assert answers[-1] == 429


def test_openapi_states_the_pages_statuses_and_html(env: Env) -> None:
    paths = env.client.get("/openapi.json").json()["paths"]
    login = paths["/workbench/login"]["post"]["responses"]
    assert {"303", "401", "403", "429"} <= set(login) and "200" not in login  # + 413, 500
    assert "text/html" in login["401"]["content"]
    inspect = paths["/workbench/inspections"]["post"]["responses"]
    assert {"200", "303", "403", "413", "415", "422"} <= set(inspect)
    assert "text/html" in paths["/workbench/"]["get"]["responses"]["200"]["content"]
