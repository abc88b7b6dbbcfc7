"""Bearer tokens on routes: 401 problem+json without a valid token, 403 for the wrong role."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import httpx
import pytest
from fastapi import APIRouter, Depends
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from foodtrace.api.app import create_app
from foodtrace.api.problems import PROBLEM_MEDIA_TYPE, problem_type
from foodtrace.auth import ApiToken, Principal, Role, issue_token, revoke
from foodtrace.auth.deps import PrincipalDep, optional_principal, require_roles
from foodtrace.config import Settings
from foodtrace.store.base import Base
from foodtrace.store.db import make_engine


def demo_router(_: Settings) -> APIRouter:
    router = APIRouter()

    @router.get("/public")
    def public(
        viewer: Annotated[Principal | None, Depends(optional_principal)],
    ) -> dict[str, str | None]:
        return {"viewer": viewer.party_id if viewer else None}

    @router.get("/me")
    def me(principal: PrincipalDep) -> dict[str, str]:
        return {"party": principal.party_id, "role": principal.role.value}

    @router.post("/recalls")
    def start_recall(
        principal: Annotated[Principal, Depends(require_roles(Role.REGULATOR, Role.INSPECTOR))],
    ) -> dict[str, str]:
        return {"started_by": principal.party_id}

    return router


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    Base.metadata.create_all(engine, tables=[ApiToken.__table__])  # type: ignore[list-item]
    yield engine
    engine.dispose()


@pytest.fixture
def client(engine: Engine, tmp_path: Path) -> TestClient:
    app = create_app(Settings(data_dir=tmp_path), routers=[demo_router], engine=engine)
    return TestClient(app)


@pytest.fixture
def tokens(engine: Engine) -> dict[str, str]:
    with Session(engine) as session:
        issued = {
            "regulator": issue_token(session, "gov:sh", Role.REGULATOR),
            "producer": issue_token(session, "farm:1", Role.PRODUCER),
            "revoked": issue_token(session, "gov:old", Role.REGULATOR),
        }
        session.commit()
        [row] = session.query(ApiToken).filter_by(party_id="gov:old").all()
        revoke(session, row.id)
        session.commit()
    return issued


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_problem(r: httpx.Response, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == PROBLEM_MEDIA_TYPE
    body: dict[str, Any] = r.json()
    assert body["status"] == status
    return body


def test_public_reads_need_no_token(client: TestClient, tokens: dict[str, str]) -> None:
    assert client.get("/public").json() == {"viewer": None}
    assert client.get("/public", headers=bearer(tokens["producer"])).json() == {"viewer": "farm:1"}


def test_missing_token_is_401_with_a_bearer_challenge(client: TestClient) -> None:
    for headers in ({}, {"Authorization": "Basic dXNlcjpwYXNz"}):
        r = client.get("/me", headers=headers)
        body = assert_problem(r, 401)
        assert r.headers["www-authenticate"] == "Bearer"
        assert body["type"] == problem_type("unauthorized")


@pytest.mark.parametrize("which", ["wrong", "revoked"])
def test_wrong_or_revoked_token_is_401(
    client: TestClient, tokens: dict[str, str], which: str
) -> None:
    token = tokens["revoked"] if which == "revoked" else tokens["regulator"][:-2] + "zz"
    for path in ("/me", "/public", "/recalls"):
        method = client.post if path == "/recalls" else client.get
        r = method(path, headers=bearer(token))
        body = assert_problem(r, 401)
        assert r.headers["www-authenticate"].startswith('Bearer error="invalid_token"')
        assert body["detail"] == "The API token is unknown, expired or revoked."


def test_wrong_role_is_403_naming_the_roles_needed(
    client: TestClient, tokens: dict[str, str]
) -> None:
    body = assert_problem(client.post("/recalls", headers=bearer(tokens["producer"])), 403)
    assert body["type"] == problem_type("forbidden")
    assert body["detail"] == (
        "This needs one of the roles: regulator, inspector; the token has the role producer."
    )


def test_right_role_passes(client: TestClient, tokens: dict[str, str]) -> None:
    r = client.post("/recalls", headers=bearer(tokens["regulator"]))
    assert r.status_code == 200 and r.json() == {"started_by": "gov:sh"}
    r = client.get("/me", headers=bearer(tokens["producer"]))
    assert r.json() == {"party": "farm:1", "role": "producer"}


def test_openapi_declares_the_bearer_scheme(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    scheme = doc["components"]["securitySchemes"]["PartyToken"]
    assert scheme["type"] == "http" and scheme["scheme"] == "bearer"
    assert doc["paths"]["/recalls"]["post"]["security"] == [{"PartyToken": []}]


def test_require_roles_rejects_unknown_roles_up_front() -> None:
    with pytest.raises(ValueError, match="superuser"):
        require_roles("superuser")
    with pytest.raises(ValueError, match="at least one"):
        require_roles()
