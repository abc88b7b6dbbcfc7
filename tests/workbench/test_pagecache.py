"""The kept grid page: rebuilt when the log grows, never kept under a size it was not built
at, bounded, and never sharing one session's CSRF token with another."""

from __future__ import annotations

from benchharness import Bench, csrf_of, make_grid
from recordharness import Env

from foodtrace.workbench.pagecache import CSRF_MARK, PageCache


def test_a_page_is_kept_until_the_log_grows() -> None:
    cache, size, built = PageCache(), [5], []

    def build() -> str:
        built.append(size[0])
        return f"page at {size[0]}"

    assert cache.page("k", lambda: size[0], build) == "page at 5"
    assert cache.page("k", lambda: size[0], build) == "page at 5"
    assert built == [5]  # the second was the kept one
    size[0] = 6
    assert cache.page("k", lambda: size[0], build) == "page at 6"
    assert built == [5, 6]
    assert cache.page("other", lambda: size[0], build) == "page at 6"
    assert built == [5, 6, 6]  # another key is another page


def test_a_page_built_while_the_log_grew_is_not_kept() -> None:
    cache, size, built = PageCache(), [5], []

    def build() -> str:
        built.append(size[0])
        size[0] += 1  # an append lands while the page is built
        return "page"

    cache.page("k", lambda: size[0], build)
    cache.page("k", lambda: size[0], build)
    assert built == [5, 6]  # the first was not kept under 5 (nor 6)


def test_the_cache_is_bounded() -> None:
    cache = PageCache(max_pages=2)
    for key in ("a", "b", "c"):
        cache.page(key, lambda: 1, lambda: "page")
    rebuilt: list[str] = []
    cache.page("a", lambda: 1, lambda: rebuilt.append("a") or "page")
    assert rebuilt == ["a"]  # the least recently used was dropped


def test_the_grid_page_shows_a_new_grade_and_each_sessions_own_token(env: Env) -> None:
    g = make_grid(env)
    one, two = Bench(env), Bench(env)
    assert one.login(g.officer.token).status_code == 303
    assert two.login(g.officer.token).status_code == 303
    before = one.get("/workbench/").text
    assert "未评" in before and CSRF_MARK not in before
    r = env.client.post("/api/v1/grades/recompute", headers=env.regulator.headers)
    assert r.status_code == 200, r.text
    after = one.get("/workbench/").text
    assert after != before and "grade-none" not in after  # the log grew: rebuilt
    again, other = one.get("/workbench/").text, two.get("/workbench/").text
    assert csrf_of(again) == csrf_of(after) != csrf_of(other)  # each session's own token
    assert again.replace(csrf_of(again), "-") == other.replace(csrf_of(other), "-")
    assert one.post("/workbench/logout", {}).status_code == 303  # its own token is taken
