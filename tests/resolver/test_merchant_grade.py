"""The merchant page shows a computed grade with its reasons, each a fact the badge checks."""

from __future__ import annotations

import sys
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "record"))

from pagecheck import HTML, check_page
from recordharness import Env, env_fixture  # noqa: F401

from foodtrace.labels.service import authority_key
from foodtrace.trace.codes import merchant_code


def test_merchant_page_shows_the_computed_grade_and_its_reasons(env: Env) -> None:
    shop = env.add_party("restaurant", name="崇明小满餐厅")
    r = env.client.post("/api/v1/grades/recompute", headers=env.regulator.headers)
    assert r.status_code == 200 and r.json()["written"] == 1, r.text
    [grade] = env.client.get(f"/api/v1/parties/{shop.party_id}/grades").json()
    reasons = grade["record"]["reasons"]
    assert grade["record"]["grade"] == "C"  # no licence: at best C
    code = merchant_code(env.settings.public_base_url, shop.party_id, authority_key(env.settings))
    url = urlsplit(code.url)
    page = env.client.get(url.path + (f"?{url.query}" if url.query else ""), headers=HTML)
    assert page.status_code == 200, page.text
    assert "信用等级" in page.text and 'class="grade grade-C"' in page.text
    for reason in reasons:
        assert reason in page.text, reason
    assert "无有效许可证：最高评为 C 级" in page.text
    assert check_page(page.text) >= len(reasons) + 2
