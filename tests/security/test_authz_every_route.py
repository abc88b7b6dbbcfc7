"""Every route of the app × every party kind (and another party of the same role, and
anonymous) against the one table in ``authz_matrix.py``: a refused call is 401/403
problem+json and changes nothing; an admitted one is never 401/403; none is ever 5xx.

Routes are read from the app itself, so a route added without a line in the table fails
``test_every_route_is_declared`` by name.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from authz_matrix import ANONYMOUS, DESTRUCTIVE, MATRIX, Rule
from authz_world import World, seeded_world
from databases import database
from fastapi.routing import iter_route_contexts

from foodtrace.auth.models import role_for_party_kind

ACTORS = (
    ANONYMOUS,
    "regulator",
    "inspector",
    "lab",
    "farm",
    "farm2",
    "processor",
    "logistics",
    "retailer",
    "restaurant",
)
PLACEHOLDER = re.compile(r"\{(\w+)(?::\w+)?\}")
SKIPPED_METHODS = {"HEAD"}  # Starlette answers HEAD from the GET route


def app_routes(app: Any) -> list[str]:
    """``"METHOD /path"`` for every route the app serves, path convertors dropped."""
    found = []
    for route in iter_route_contexts(app.routes):
        path = getattr(route, "path", None)
        if path is None:
            continue
        path = PLACEHOLDER.sub(r"{\1}", path)
        for method in sorted(set(getattr(route, "methods", None) or ()) - SKIPPED_METHODS):
            found.append(f"{method} {path}")
    return found


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp(f"authz-{request.param}")
    with database(request.param, tmp) as url, seeded_world(tmp / "data", url) as w:
        yield w


def _ordered() -> list[str]:
    return sorted(MATRIX, key=lambda k: (k in DESTRUCTIVE, k))


def test_every_route_is_declared(world: World) -> None:
    served = app_routes(world.client.app)
    undeclared = sorted(set(served) - set(MATRIX))
    stale = sorted(set(MATRIX) - set(served))
    assert not undeclared, f"routes with no line in tests/security/authz_matrix.py: {undeclared}"
    assert not stale, f"lines in authz_matrix.py naming no route of the app: {stale}"


def _role(world: World, actor: str) -> str:
    return ANONYMOUS if actor == ANONYMOUS else role_for_party_kind(world.kinds[actor]).value


def expected(world: World, rule: Rule, actor: str) -> int | None:
    """The refusal status for ``actor``, or None if it must get past authorisation."""
    role = _role(world, actor)
    if actor in rule.parties:
        return None
    if role not in rule.allow:
        return 401 if actor == ANONYMOUS else 403
    owner_roles = {_role(world, o) for o in rule.owners}
    if role in owner_roles and actor not in rule.owners:
        return rule.other
    return None


def _fill(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, str):
        return PLACEHOLDER.sub(lambda m: ids[m.group(1)], value)
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, ids) for v in value]
    return value


def call(world: World, key: str, actor: str) -> Any:
    rule = MATRIX[key]
    method, template = key.split(" ", 1)
    ids = {**world.ids, "me": world.party_ids.get(actor, "")}
    path = PLACEHOLDER.sub(lambda m: ids[rule.params.get(m.group(1), m.group(1))], template)
    kw: dict[str, Any] = {"headers": world.headers(actor), "params": _fill(dict(rule.query), ids)}
    if rule.session:
        kw["follow_redirects"] = False  # the login redirect is the answer under test
    if rule.content is not None:
        kw["content"] = rule.content
        kw["headers"] = {**kw["headers"], "content-type": "application/pdf"}
    elif rule.body is not None:
        kw["json"] = _fill(rule.body, ids)
    if method == "OPTIONS":
        kw["headers"] = {
            **kw["headers"],
            "Origin": "https://example.org",
            "Access-Control-Request-Method": "POST",
        }
    return world.client.request(method, path, **kw)


@pytest.mark.parametrize("key", _ordered())
def test_route_against_every_actor(world: World, key: str) -> None:
    rule = MATRIX[key]
    if rule.session:
        _session_only(world, key)
        return
    refused = [a for a in ACTORS if expected(world, rule, a) is not None]
    admitted = [a for a in ACTORS if a not in refused]
    before = world.snapshot()
    for actor in refused:
        r = call(world, key, actor)
        status = expected(world, rule, actor)
        assert r.status_code == status, (key, actor, r.status_code, r.text[:300])
        assert r.headers["content-type"] == "application/problem+json", (key, actor)
        if status == 401:
            assert r.headers["www-authenticate"].startswith("Bearer"), (key, actor)
    assert world.snapshot() == before, f"a refused {key} changed the database"
    for actor in admitted:
        r = call(world, key, actor)
        assert r.status_code not in (401, 403), (key, actor, r.status_code, r.text[:300])
        assert r.status_code < 500, (key, actor, r.status_code, r.text[:300])


def _session_only(world: World, key: str) -> None:
    """A workbench route: whatever bearer token comes with it, no caller without the session
    cookie and its CSRF token gets past the login page, and nothing changes."""
    before = world.snapshot()
    for actor in ACTORS:
        r = call(world, key, actor)
        assert r.status_code in (303, 403), (key, actor, r.status_code, r.text[:300])
        if r.status_code == 303:
            assert r.headers["location"].endswith("/workbench/login"), (key, actor)
    assert world.snapshot() == before, f"a refused {key} changed the database"


def test_a_route_added_without_a_line_is_reported(tmp_path: Path) -> None:
    """What the lead sees after a merge: a new route shows up as undeclared, by name."""
    from fastapi import APIRouter

    from foodtrace.api.app import create_app
    from foodtrace.config import Settings

    def extra(_: Settings) -> APIRouter:
        r = APIRouter()
        r.add_api_route("/api/v1/matrix-probe/{thing_id}", lambda thing_id: {}, methods=["DELETE"])
        return r

    app = create_app(Settings(data_dir=tmp_path, database_url="sqlite://"), routers=[extra])
    try:
        undeclared = set(app_routes(app)) - set(MATRIX)
    finally:
        app.state.log.close()
        app.state.engine.dispose()
    assert "DELETE /api/v1/matrix-probe/{thing_id}" in undeclared
