"""Every error the API returns is RFC 9457 problem+json naming each bad field by pointer."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated, Any

import httpx
import pytest
from fastapi import APIRouter, Query
from fastapi.testclient import TestClient
from pydantic import BaseModel, ConfigDict, Field

from foodtrace.api.app import create_app
from foodtrace.api.problems import (
    PROBLEM_MEDIA_TYPE,
    FieldProblem,
    Problem,
    pointer,
    problem_responses,
    problem_type,
)
from foodtrace.config import Settings
from foodtrace.trace import entry
from foodtrace.trace.errors import RootMismatchError

SECRET = "db password is hunter2"


class LotIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    gtin: str = Field(pattern=r"^\d{14}$")
    lot: str = Field(min_length=1, max_length=20)
    quantity: int = Field(gt=0)
    tags: list[str] = Field(default_factory=list, max_length=3)


def demo_router(_: Settings) -> APIRouter:
    router = APIRouter(prefix="/demo")

    @router.post("/lots", status_code=201)
    def register_lot(lot: LotIn) -> dict[str, str]:
        return {"lot": lot.lot}

    @router.get("/lots")
    def list_lots(limit: Annotated[int, Query(ge=1, le=100)] = 10) -> dict[str, int]:
        return {"limit": limit}

    @router.post("/entries")
    def submit_entry(body: dict[str, object]) -> None:
        entry.validate(body)

    @router.get("/verify")
    def verify() -> None:
        raise RootMismatchError(b"\x01" * 32, b"\x02" * 32)

    @router.get("/conflict")
    def conflict() -> None:
        raise Problem(
            409,
            "Lot already registered",
            "lot L1 exists",
            problem_type("conflict"),
            [FieldProblem("/body/lot", "expected a lot code not yet registered")],
            headers={"Location": "/demo/lots/L1"},
        )

    @router.get("/boom")
    def boom() -> None:
        raise RuntimeError(SECRET)

    return router


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    settings = Settings(data_dir=tmp_path)
    return TestClient(create_app(settings, routers=[demo_router]), raise_server_exceptions=False)


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["type"], str)
    assert isinstance(body["errors"], list)
    return body


def test_three_broken_constraints_are_all_listed_with_pointers(client: TestClient) -> None:
    r = client.post(
        "/demo/lots", json={"gtin": "123", "lot": "L1", "quantity": 0, "tags": ["a", 5]}
    )
    body = assert_problem(r, 422)
    assert body["type"] == problem_type("validation")
    assert body["instance"] == "/demo/lots"
    assert body["detail"] == "3 problems in the request"
    errors = {e["pointer"]: e["detail"] for e in body["errors"]}
    assert errors == {
        "/body/gtin": "String should match pattern '^\\d{14}$'",
        "/body/quantity": "Input should be greater than 0",
        "/body/tags/1": "Input should be a valid string",
    }


def test_missing_and_unknown_fields_say_what_was_expected(client: TestClient) -> None:
    r = client.post("/demo/lots", json={"gtin": "06901234567892", "quantity": 1, "colour": "red"})
    body = assert_problem(r, 422)
    assert body["errors"] == [
        {"pointer": "/body/lot", "detail": "is required"},
        {"pointer": "/body/colour", "detail": "is not an allowed field"},
    ]


def test_valid_request_passes(client: TestClient) -> None:
    r = client.post("/demo/lots", json={"gtin": "06901234567892", "lot": "L1", "quantity": 3})
    assert r.status_code == 201
    assert r.json() == {"lot": "L1"}


def test_query_parameters_are_pointed_at_under_query(client: TestClient) -> None:
    body = assert_problem(client.get("/demo/lots", params={"limit": "many"}), 422)
    assert body["errors"] == [
        {
            "pointer": "/query/limit",
            "detail": "Input should be a valid integer, unable to parse string as an integer",
        }
    ]


def test_malformed_json_is_a_400_problem(client: TestClient) -> None:
    r = client.post(
        "/demo/lots", content=b'{"gtin": "1",', headers={"content-type": "application/json"}
    )
    body = assert_problem(r, 400)
    assert body["type"] == problem_type("malformed-json")
    [error] = body["errors"]
    assert error["pointer"] == "/body"
    assert error["detail"].startswith("expected valid JSON: ")
    assert "at character 13" in error["detail"]


def test_unknown_route_is_a_404_problem(client: TestClient) -> None:
    body = assert_problem(client.get("/nowhere"), 404)
    assert body == {
        "type": "about:blank",
        "title": "Not Found",
        "status": 404,
        "detail": "There is nothing at this path.",
        "instance": "/nowhere",
        "errors": [],
    }


def test_wrong_method_is_a_405_problem_keeping_allow(client: TestClient) -> None:
    r = client.delete("/demo/verify")
    body = assert_problem(r, 405)
    assert body["title"] == "Method Not Allowed"
    assert body["detail"] == "This path does not accept that method."
    assert r.headers["allow"] == "GET"


def test_entry_error_lists_every_field_of_the_entry(client: TestClient) -> None:
    bad = {"v": 2, "type": "Lot!", "author": "p1", "issued_at": "yesterday", "body": {}}
    body = assert_problem(client.post("/demo/entries", json=bad), 422)
    assert body["type"] == problem_type("invalid-entry")
    pointers = [e["pointer"] for e in body["errors"]]
    assert pointers == ["/body/key", "/body/sig", "/body/v", "/body/type", "/body/issued_at"]
    details = {e["pointer"]: e["detail"] for e in body["errors"]}
    assert details["/body/key"] == "is required"
    assert details["/body/v"].startswith("expected the integer 1")


def test_verification_error_is_a_422_naming_the_mismatch(client: TestClient) -> None:
    body = assert_problem(client.get("/demo/verify"), 422)
    assert body["type"] == problem_type("verification-failed")
    assert body["detail"] == f"root mismatch: expected {'01' * 32}, computed {'02' * 32}"


def test_raised_problem_keeps_its_fields_and_headers(client: TestClient) -> None:
    r = client.get("/demo/conflict")
    body = assert_problem(r, 409)
    assert r.headers["location"] == "/demo/lots/L1"
    assert body["errors"] == [
        {"pointer": "/body/lot", "detail": "expected a lot code not yet registered"}
    ]


def test_unexpected_error_is_a_500_without_internals(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="foodtrace.api.problems"):
        r = client.get("/demo/boom")
    body = assert_problem(r, 500)
    assert SECRET not in r.text and "RuntimeError" not in r.text and "Traceback" not in r.text
    incident = str(body["detail"]).split("incident ")[1].split()[0]
    assert any(incident in rec.getMessage() and rec.exc_info for rec in caplog.records)


def test_pointer_escapes_per_rfc_6901() -> None:
    assert pointer("body", "a/b", "m~n", 0) == "/body/a~1b/m~0n/0"


def test_openapi_documents_problem_responses(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    assert doc["info"]["title"] == "FoodTrace 食安链 API"
    responses = doc["paths"]["/demo/lots"]["post"]["responses"]
    for status in ("400", "413", "422", "500"):
        content = responses[status]["content"]
        assert content == {
            PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/ProblemDetails"}}
        }
    schemas = doc["components"]["schemas"]
    assert "HTTPValidationError" not in schemas
    assert schemas["ProblemDetails"]["required"] == ["title", "status", "errors"]
    assert schemas["ProblemError"]["required"] == ["pointer", "detail"]
    assert client.get("/docs").status_code == 200


def test_problem_responses_names_the_statuses_asked_for() -> None:
    assert sorted(problem_responses(401, 403)) == [401, 403]
    assert sorted(problem_responses()) == [400, 413, 422, 500]
