"""Security headers on every response, ``Vary: Accept`` on every negotiated URL, and links
that never echo a forged Host header."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from foodtrace.api.app import create_app
from foodtrace.api.headers import content_security_policy, security_headers
from foodtrace.config import Settings

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

ACCEPTS = {
    "html": "text/html,application/xhtml+xml",
    "json": "application/json",
    "linkset": "application/linkset+json",
}
EVIL = "evil.example"


@pytest.fixture(scope="module")
def client(seeded) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(create_app(seeded.settings), base_url="http://127.0.0.1:8000") as c:
        yield c


def _path(url: str) -> str:
    return url.split("127.0.0.1:8000", 1)[1]


def test_policy_has_no_inline_script_and_allows_the_chosen_rpc() -> None:
    csp = content_security_policy(["https://user:secret@rpc.chain.example:8545/v1", ""])
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["base-uri"] == "'none'"
    assert directives["connect-src"] == "'self' https://rpc.chain.example:8545 https:"
    assert "unsafe-inline" not in csp and "secret" not in csp


def test_hsts_only_behind_https() -> None:
    assert "Strict-Transport-Security" not in security_headers("http://127.0.0.1:8000", [])
    assert security_headers("https://shian.example", [])["Strict-Transport-Security"].startswith(
        "max-age=31536000"
    )


@pytest.mark.parametrize("mode", sorted(ACCEPTS))
def test_every_variant_of_a_code_has_the_headers_and_vary(
    client: TestClient,
    seeded,  # type: ignore[no-untyped-def]
    mode: str,
) -> None:
    for url in (seeded.codes["merchant-restaurant"], seeded.lot_url(0)):
        r = client.get(_path(url), headers={"accept": ACCEPTS[mode]})
        assert r.status_code == 200, r.text
        assert "accept" in [v.strip().lower() for v in r.headers["vary"].split(",")]
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["x-frame-options"] == "DENY"
        assert r.headers["referrer-policy"] == "strict-origin-when-cross-origin"
        assert "script-src 'self';" in r.headers["content-security-policy"]
        assert "strict-transport-security" not in r.headers  # the demo runs on plain http


def test_a_rejected_code_varies_on_accept_too(client: TestClient) -> None:
    r = client.get("/M/not-a-code", headers={"accept": "application/json"})
    assert r.status_code in (400, 403, 404)
    assert "Accept" in r.headers["vary"]


def test_forged_host_header_is_never_reflected(
    client: TestClient,
    seeded,  # type: ignore[no-untyped-def]
) -> None:
    urls = [seeded.codes["merchant-restaurant"], seeded.lot_url(0)]
    seen = 0
    for url in urls:
        for mode, accept in ACCEPTS.items():
            for query in ("", "&linkType=all"):
                r = client.get(_path(url) + query, headers={"accept": accept, "host": EVIL})
                assert r.status_code == 200, (mode, r.text)
                assert EVIL not in r.text, (mode, url)
                assert not [v for v in r.headers.values() if EVIL in v], (mode, url)
                seen += 1
        # links name the configured origin instead
        body = client.get(_path(url), headers={"accept": ACCEPTS["linkset"], "host": EVIL}).text
        assert seeded.settings.public_base_url in body
    assert seen == 12
    for path in ("/openapi.json", "/api/v1/log/checkpoint", "/M/not-a-code"):
        r = client.get(path, headers={"host": EVIL})
        assert EVIL not in r.text and not [v for v in r.headers.values() if EVIL in v], path


def test_api_docs_keep_a_csp_and_the_rest_of_the_headers(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, public_base_url="https://shian.example")
    with TestClient(create_app(settings)) as c:
        r = c.get("/docs")
        assert r.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
        assert r.headers["strict-transport-security"].startswith("max-age=")
