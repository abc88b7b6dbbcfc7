"""/docs and /openapi.json describe every write and read endpoint, with examples."""

from __future__ import annotations

from recordharness import Env

WRITES = [
    "/api/v1/parties",
    "/api/v1/custodial-keys",
    "/api/v1/party-keys",
    "/api/v1/party-keys/revocations",
    "/api/v1/licences",
    "/api/v1/licences/revocations",
    "/api/v1/products",
    "/api/v1/lots",
    "/api/v1/blobs",
    "/api/v1/reports",
    "/api/v1/health-certificates",
    "/api/v1/inspections",
    "/api/v1/grades",
]


def test_openapi_lists_every_endpoint_with_examples(env: Env) -> None:
    assert env.client.get("/docs").status_code == 200
    doc = env.client.get("/openapi.json").json()
    paths = doc["paths"]
    for path in WRITES:
        op = paths[path]["post"]
        assert "422" in op["responses"] or path == "/api/v1/blobs", path
        content = op["requestBody"]["content"]
        if path in ("/api/v1/blobs", "/api/v1/custodial-keys"):
            continue
        assert content["application/json"]["examples"]["custodial"]["value"], path
        assert "oneOf" in content["application/json"]["schema"], path
    reads = [p for p, ops in paths.items() if p.startswith("/api/v1/") and "get" in ops]
    assert len(reads) >= 14
    assert "/api/v1/health-certificates/{number}/personal-data" in paths
