"""The application shell: health, a session per request committed before the response,
rolled back when the route fails."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from foodtrace import __version__
from foodtrace.api.app import SessionDep, create_app
from foodtrace.api.problems import Problem
from foodtrace.auth import ApiToken, Role, issue_token, list_tokens
from foodtrace.config import Settings
from foodtrace.store.base import Base
from foodtrace.store.db import make_engine


def demo_router(_: Settings) -> APIRouter:
    router = APIRouter()

    @router.post("/tokens/{party}")
    def issue(party: str, session: SessionDep) -> dict[str, str]:
        issue_token(session, party, Role.LAB)
        return {"issued": party}

    @router.post("/tokens/{party}/fail")
    def issue_then_fail(party: str, session: SessionDep) -> None:
        issue_token(session, party, Role.LAB)
        raise Problem(409, "Conflict", "changed my mind")

    return router


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    Base.metadata.create_all(engine, tables=[ApiToken.__table__])  # type: ignore[list-item]
    yield engine
    engine.dispose()


@pytest.fixture
def client(engine: Engine, tmp_path: Path) -> TestClient:
    return TestClient(create_app(Settings(data_dir=tmp_path), routers=[demo_router], engine=engine))


def test_healthz_reaches_the_database(client: TestClient) -> None:
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.json()["database"] == {"reachable": True, "dialect": client_dialect(client)}


def client_dialect(client: TestClient) -> str:
    return str(client.app.state.engine.dialect.name)  # type: ignore[attr-defined]


def test_app_metadata(client: TestClient) -> None:
    info = client.get("/openapi.json").json()["info"]
    assert info == {
        "title": "FoodTrace 食安链 API",
        "version": __version__,
        "description": info["description"],
    }
    assert "problem+json" in info["description"]


def test_route_writes_are_committed(client: TestClient, engine: Engine) -> None:
    assert client.post("/tokens/lab-1").status_code == 200
    with Session(engine) as session:
        assert len(list_tokens(session, "lab-1")) == 1


def test_failed_route_writes_are_rolled_back(client: TestClient, engine: Engine) -> None:
    assert client.post("/tokens/lab-2/fail").status_code == 409
    with Session(engine) as session:
        assert list_tokens(session, "lab-2") == []


def test_default_engine_comes_from_settings(tmp_path: Path) -> None:
    app = create_app(Settings(data_dir=tmp_path))
    assert str(app.state.engine.url) == f"sqlite:///{(tmp_path / 'foodtrace.db').resolve()}"
    with TestClient(app) as client:
        assert client.get("/healthz").status_code == 200


def router(_: Settings) -> APIRouter:
    """An extra router factory, as a test or an embedder passes one."""
    r = APIRouter()

    @r.get("/from-module")
    def from_module() -> dict[str, bool]:
        return {"included": True}

    return r


def test_extra_routers_are_included_beside_every_area(tmp_path: Path) -> None:
    client = TestClient(create_app(Settings(data_dir=tmp_path), routers=[router]))
    assert client.get("/healthz").status_code == 200
    assert client.get("/from-module").json() == {"included": True}


def test_healthz_is_503_when_the_database_is_down(tmp_path: Path) -> None:
    dead = make_engine("postgresql+psycopg://postgres@127.0.0.1:1/none")
    client = TestClient(create_app(Settings(data_dir=tmp_path), engine=dead))
    r = client.get("/healthz")
    assert r.status_code == 503
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["detail"] == "The database is not reachable."
