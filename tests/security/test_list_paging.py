"""Every list the API serves pages with the one cursor of ``foodtrace/api/paging.py``.

The routes are read from the app: a GET whose response model is a list (or one of the
envelopes whose rows are paged, ``PAGED_ENVELOPES``) must take ``perPage`` and
``nextPageToken``, so a list added later cannot skip paging. Then each such route is walked
on the seeded world of the authorisation matrix, on both databases: pages of one row give
back exactly the unpaged list in its order, every page but the last carries the next page's
token and ``Link``, the last carries none, and bad tokens and sizes are 400 naming them.
"""

from __future__ import annotations

import re
import typing
from collections.abc import Iterator
from typing import Any

import pytest
from authz_matrix import MATRIX
from authz_world import World, seeded_world
from databases import database
from fastapi import APIRouter, FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts

from foodtrace.api.paging import PER_PAGE_PARAM, TOKEN_HEADER, TOKEN_PARAM, encode_token
from foodtrace.config import LIST_MAX_PER_PAGE
from foodtrace.demo import credit_code
from foodtrace.grading.flows import local_day

# Lists wrapped in an object: the field whose rows are paged.
PAGED_ENVELOPES = {
    "/api/v1/lists/red": "parties",
    "/api/v1/lists/black": "parties",
}
# Lists that page by their own query language (EPCIS 2.0 §8.2.7: perPage, nextPageToken,
# a byte cap per page), not through PageDep; tested in tests/epcis/.
OWN_PAGING = {"/epcis/events", "/epcis/queries/{queryName}/events"}
# Who lists something there (their own rows); otherwise the first admitted of these roles.
ACTOR = {
    "/epcis/queries/{queryName}/subscriptions": "farm",
    "/api/v1/complaints-owned": "inspector",
}
MULTI_PAGE = {
    "/api/v1/alerts",
    "/api/v1/complaints",
    "/api/v1/complaints-owned",
    "/api/v1/grids",
    "/api/v1/grids/{grid_id}/businesses",
    "/api/v1/lists/black",
    "/api/v1/lists/red",
    "/api/v1/masterdata",
    "/api/v1/parties/{party_id}/licences",
    "/api/v1/parties/{party_id}/tokens",
    "/epcis/queries",
    "/epcis/queries/{queryName}/subscriptions",
}
PLACEHOLDER = re.compile(r"\{(\w+)(?::\w+)?\}")


def _query_names(dependant: Dependant) -> set[str]:
    names = {p.alias for p in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


def list_routes(app: FastAPI) -> list[tuple[str, bool]]:
    """``(path, paged)`` for every GET route whose body is a list or a paged envelope."""
    found = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if not isinstance(route, APIRoute) or "GET" not in (context.methods or ()):
            continue
        path = PLACEHOLDER.sub(r"{\1}", context.path or route.path)
        if path in OWN_PAGING:
            continue
        is_list = typing.get_origin(route.response_model) is list
        if is_list or path in PAGED_ENVELOPES:
            names = _query_names(route.dependant)
            found.append((path, {PER_PAGE_PARAM, TOKEN_PARAM} <= names))
    return found


def test_a_list_route_without_paging_is_found() -> None:
    r = APIRouter()

    @r.get("/unpaged", response_model=list[int])
    def unpaged() -> list[int]:
        return [1, 2]

    app = FastAPI()
    app.include_router(r)
    assert list_routes(app) == [("/unpaged", False)]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp(f"paging-{request.param}")
    with database(request.param, tmp) as url, seeded_world(tmp / "data", url) as w:
        _more_rows(w)
        yield w


def _more_rows(w: World) -> None:
    """A second row where the seeded world has one, so every list has a next page."""
    farm = w.headers("farm")
    regulator = w.headers("regulator")
    query = {"name": "farm-lots-2", "query": {"eventType": "AggregationEvent"}}
    assert w.client.post("/epcis/queries", json=query, headers=farm).status_code == 201
    for dest in ("http://127.0.0.1:9/two", "http://127.0.0.1:9/three"):
        r = w.client.post(
            "/epcis/queries/farm-lots/subscriptions",
            json={"dest": dest, "stream": True},
            headers=farm,
        )
        assert r.status_code == 201, r.text
    grid = {
        "grid_id": "paging-grid",
        "name": "分页网格",
        "station": "朝阳市场监管所",
        "officer": w.party_ids["inspector"],
        "grid_worker": credit_code("110105", "MA05GW2K"),  # the world's grid worker
        "station_head": w.party_ids["regulator"],
    }
    r = w.client.post("/api/v1/grids", json=grid, headers=regulator)
    assert r.status_code == 201, r.text
    complaint = {"merchant_id": w.ids["party_id"], "category": "hygiene", "description": "再次"}
    assert w.client.post("/api/v1/complaints", json=complaint).status_code == 201
    shops = {"grid_id": "matrix-grid", "party_ids": [w.party_ids["retailer"]]}
    r = w.client.post("/api/v1/grids/matrix-grid/businesses", json=shops, headers=regulator)
    assert r.status_code == 201, r.text
    complaint = {
        "merchant_id": w.party_ids["retailer"],
        "category": "hygiene",
        "description": "网格",
    }
    assert w.client.post("/api/v1/complaints", json=complaint).status_code == 201  # routed
    # a second party on the red list (a grade) and two on the black (serious penalties)
    today = local_day().isoformat()
    grade = {"party_id": w.party_ids["farm2"], "grade": "A", "effective_on": today}
    r = w.client.post("/api/v1/grades", json=grade | {"reason": "分页"}, headers=regulator)
    assert r.status_code == 201, r.text
    for n, party in enumerate(("retailer", "processor"), start=1):
        penalty = {
            "party_id": w.party_ids[party],
            "decision_number": f"京朝市监处〔2026〕{n}号",
            "decided_on": today,
            "amount": "20000",
            "severity": "serious",
            "reason": "分页",
        }
        r = w.client.post("/api/v1/penalties", json=penalty, headers=regulator)
        assert r.status_code == 201, r.text


def test_every_list_route_takes_the_paging_parameters(world: World) -> None:
    routes = list_routes(world.client.app)  # type: ignore[arg-type]
    assert len(routes) >= 25, routes  # the walk finds the lists at all
    unpaged = [path for path, paged in routes if not paged]
    assert not unpaged, f"list routes without perPage/nextPageToken (PageDep): {unpaged}"


def _actor(path: str) -> str:
    if path in ACTOR:
        return ACTOR[path]
    rule = MATRIX[f"GET {path}"]
    for role, actor in (("anonymous", "anonymous"), ("regulator", "regulator")):
        if role in rule.allow:
            return actor
    for role, actor in (("inspector", "inspector"), ("lab", "lab"), ("producer", "farm")):
        if role in rule.allow:
            return actor
    raise AssertionError(f"no actor may list {path}")


def _rows(path: str, body: Any) -> list[Any]:
    field = PAGED_ENVELOPES.get(path)
    rows = body[field] if field else body
    assert isinstance(rows, list), (path, body)
    return rows


def _url(world: World, path: str) -> str:
    """``path`` with the seeded world's ids in its placeholders."""
    rule = MATRIX[f"GET {path}"]
    return PLACEHOLDER.sub(lambda m: world.ids[rule.params.get(m.group(1), m.group(1))], path)


def _get(world: World, path: str, **params: str) -> Any:
    rule = MATRIX[f"GET {path}"]
    return world.client.get(
        _url(world, path), params={**rule.query, **params}, headers=world.headers(_actor(path))
    )


def test_every_list_walks_in_pages_of_one(world: World) -> None:
    """Each list: pages of one row, followed by token, give the whole list back in order."""
    listed = {path for path, _ in list_routes(world.client.app)}  # type: ignore[arg-type]
    walked = []
    for path in sorted(listed):
        whole = _get(world, path, perPage=str(LIST_MAX_PER_PAGE))
        assert whole.status_code == 200, (path, whole.text[:300])
        assert TOKEN_HEADER.lower() not in whole.headers, path  # all of it fits: no next page
        everything = _rows(path, whole.json())
        seen: list[Any] = []
        token: str | None = None
        pages = 0
        while True:
            params = {"perPage": "1"} | ({"nextPageToken": token} if token else {})
            r = _get(world, path, **params)
            assert r.status_code == 200, (path, r.text[:300])
            rows = _rows(path, r.json())
            seen += rows
            pages += 1
            token = r.headers.get(TOKEN_HEADER)
            if token is None:
                assert "link" not in r.headers, path
                break
            assert len(rows) == 1, path
            next_url = r.headers["link"]
            assert next_url.startswith(f"<{world.settings.public_base_url}"), (path, next_url)
            assert f"{TOKEN_PARAM}={token}" in next_url and next_url.endswith('>; rel="next"')
            assert pages <= len(everything), f"{path} does not end"
        assert seen == everything, path
        if len(everything) >= 2:
            walked.append(path)
    # these had a second page in the seeded world (the others hold one row there; the lists
    # that page in SQL are walked over many rows in tests/api/test_paging_keyset.py)
    assert set(walked) >= MULTI_PAGE, sorted(MULTI_PAGE - set(walked))


@pytest.mark.parametrize(
    "params, pointer",
    [
        ({"nextPageToken": "!!not-a-token"}, "/query/nextPageToken"),
        ({"nextPageToken": encode_token("/somewhere/else", [1])}, "/query/nextPageToken"),
        ({"perPage": "0"}, "/query/perPage"),
        ({"perPage": str(LIST_MAX_PER_PAGE + 1)}, "/query/perPage"),
        ({"perPage": "ten"}, "/query/perPage"),
    ],
)
def test_every_list_refuses_bad_paging_by_name(
    world: World, params: dict[str, str], pointer: str
) -> None:
    for path, _ in list_routes(world.client.app):  # type: ignore[arg-type]
        r = _get(world, path, **params)
        assert r.status_code == 400, (path, r.status_code, r.text[:300])
        assert r.headers["content-type"] == "application/problem+json", path
        assert [e["pointer"] for e in r.json()["errors"]] == [pointer], (path, r.text)


def test_the_html_lists_show_one_page_and_a_next_link(world: World) -> None:
    for kind in ("red", "black"):
        whole = world.client.get(f"/api/v1/lists/{kind}").json()["parties"]
        first = world.client.get(f"/lists/{kind}?perPage=1")
        assert first.status_code == 200 and first.headers["content-type"].startswith("text/html")
        if len(whole) < 2:
            assert 'rel="next"' not in first.text and TOKEN_HEADER not in first.headers
            continue
        assert first.text.count('class="card listed"') == 1
        token = first.headers[TOKEN_HEADER]
        assert f'rel="next" href="{world.settings.public_base_url}/lists/{kind}?' in first.text
        assert f"nextPageToken={token}" in first.text


# Small lists converted from reading every row to a keyset (issue 13; in SQL, but for the
# alerts), each with a key no row has (below the first): a keyset read continues after it,
# where a list cut in memory after a listed row refused a token whose row it did not list.
KEYSET_READ: dict[str, list[Any]] = {
    "/api/v1/parties/{party_id}/tokens": [0],
    # by (kind, business, subject, detail, since): every alert sorts after the first kind's ""
    "/api/v1/alerts": ["licence_expiring", "", "", "", ""],
    "/api/v1/prefixes": [""],  # in prefix order; every prefix sorts after ""
    # newest listing first by (since, party id): every row is before the last possible day
    # newest first by (received_at, tracking number): every row was received before 9999
    "/api/v1/complaints-owned": ["9999-12-31T00:00:00+00:00", ""],
    "/api/v1/grids": [""],  # by grid id
    "/api/v1/grids/{grid_id}/businesses": [""],  # by party id
    "/api/v1/lists/black": ["9999-12-31", ""],
    "/api/v1/lists/red": ["9999-12-31", ""],
    "/api/v1/masterdata": ["", ""],  # by (kind, id); every kind sorts after ""
    "/epcis/queries": [""],  # by name
    # oldest first by (created_at, id): every row was created after year 1
    "/epcis/queries/{queryName}/subscriptions": ["0001-01-01T00:00:00+00:00", ""],
}


@pytest.mark.parametrize("path", sorted(KEYSET_READ))
def test_a_keyset_list_continues_after_a_key_no_row_has(world: World, path: str) -> None:
    whole = _get(world, path, perPage=str(LIST_MAX_PER_PAGE))
    assert whole.status_code == 200, whole.text[:300]
    everything = _rows(path, whole.json())
    assert len(everything) >= 2, path  # the walk would show nothing otherwise
    token = encode_token(_url(world, path), KEYSET_READ[path])
    r = _get(world, path, perPage="1", nextPageToken=token)
    assert r.status_code == 200, (path, r.text[:300])
    assert _rows(path, r.json()) == everything[:1], path
    assert TOKEN_HEADER in r.headers, path
