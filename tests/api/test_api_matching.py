"""The scan's areas are matched first, and documented in the areas' order still."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from starlette.routing import Route

from foodtrace.api.app import area_routers, create_app
from foodtrace.api.matching import MATCHED_FIRST, area_of
from foodtrace.config import Settings


def _routes(routes: list[Any]) -> Iterator[tuple[str, Route]]:
    """Every route with the area it came from, routers unwrapped, in the given order."""
    for r in routes:
        inner = getattr(r, "original_router", None)
        if inner is not None:
            yield from _routes(inner.routes)
        elif isinstance(r, Route):
            yield r.endpoint.__module__, r


def _sample(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x", path)


def test_the_scans_areas_are_matched_first(tmp_path: Path) -> None:
    app = create_app(Settings(data_dir=tmp_path, chain_url=""))  # embedded: /chain/rpc too
    matched = [area_of(r) for r in app.router.routes]
    assert matched[: len(MATCHED_FIRST)] == list(MATCHED_FIRST)
    assert not set(MATCHED_FIRST) & set(matched[len(MATCHED_FIRST) :])


def test_the_routes_matched_first_shadow_no_other_route(tmp_path: Path) -> None:
    """Matching them first changes nothing only while no other route matches their paths
    and they match no other route's."""
    app = create_app(Settings(data_dir=tmp_path, chain_url=""))
    routes = list(_routes(app.router.routes))
    first = [r for m, r in routes if m in MATCHED_FIRST]
    assert {r.path for r in first} >= {"/chain/rpc", "/M/{merchant_id}", "/01/{gtin}/10/{lot}"}
    others = [r for m, r in routes if m not in MATCHED_FIRST]
    assert len(others) > 100
    overlaps = [
        (a.path, b.path)
        for f in first
        for o in others
        for a, b in ((f, o), (o, f))
        if a.path_regex.match(_sample(b.path))
    ]
    assert overlaps == []


def test_the_document_keeps_the_areas_order(tmp_path: Path) -> None:
    """The OpenAPI paths (and ``app.routes``, which tools walk) come area by area in the
    order of ``area_routers``, the matched-first areas in their place among them: the
    schemathesis runs call operations in the document's order."""
    app = create_app(Settings(data_dir=tmp_path, chain_url=""))
    order = ["foodtrace.observe.views"] + [f.__module__ for f in area_routers()]
    by_path = {r.path: m for m, r in _routes(app.routes)}
    documented = [by_path[p] for p in app.openapi()["paths"] if by_path.get(p) in order]
    assert len(documented) > 100
    ranks = [order.index(m) for m in documented]
    assert ranks == sorted(ranks)
    assert {"foodtrace.ledger.views", "foodtrace.resolver.views"} <= set(documented)
    walked = [m for m, _ in _routes(app.routes) if m in order]
    assert [order.index(m) for m in walked] == sorted(order.index(m) for m in walked)


def test_the_chain_rpc_and_the_routes_after_it_answer(tmp_path: Path) -> None:
    with TestClient(create_app(Settings(data_dir=tmp_path, chain_url=""))) as client:
        rpc = client.post(
            "/chain/rpc", json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}
        )
        assert rpc.status_code == 200 and rpc.json()["result"].startswith("0x")
        assert client.get("/healthz").status_code == 200
