"""A draw end to end on both databases and the embedded chain: commit to a future block,
refuse a result before it exists, publish it after, and re-run it from the published JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from recordharness import Env, assert_problem
from typer.testing import CliRunner

from foodtrace.cli import app as cli
from foodtrace.draw.blocks import ChainBlocks
from foodtrace.draw.commands import verify_published
from foodtrace.ledger.chain import Chain


def _mine(chain: Chain, n: int) -> None:
    assert chain.embedded is not None
    chain.embedded.backend.mine_blocks(n)


def _graded_world(env: Env) -> None:
    for _ in range(6):
        env.add_party("restaurant")
    env.add_party("retailer")
    for _ in range(3):
        env.add_party("inspector")
    r = env.client.post("/api/v1/grades/recompute", headers=env.regulator.headers)
    assert r.status_code == 200 and r.json()["written"] == 7, r.text


def test_draw_commit_result_and_verify(env: Env, chain: Chain, tmp_path: Path) -> None:
    blocks = ChainBlocks(chain.w3)
    env.client.app.state.draw_blocks = blocks  # type: ignore[attr-defined]
    _graded_world(env)
    request = {
        "draw_id": "SSJ-2026-12",
        "period": "2026-12",
        "rule": {"kinds": ["restaurant"]},
        "merchants_count": 3,
        "inspectors_per_merchant": 2,
        "blocks_ahead": 2,
    }
    r = env.client.post("/api/v1/draws/proposals", json=request, headers=env.regulator.headers)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    assert len(body["candidates"]) == 6 and len(body["inspectors"]) == 3
    assert body["block_number"] == blocks.head() + 2

    # a commitment leaving a candidate out is refused by the projector
    before = env.snapshot()
    rigged = {**body, "candidates": body["candidates"][1:]}
    r = env.regulator.post("/api/v1/draws", "draw.commit", rigged)
    assert_problem(r, 422)
    # a commitment to a block that exists already is refused (its hash is known)
    r = env.regulator.post("/api/v1/draws", "draw.commit", {**body, "block_number": blocks.head()})
    assert_problem(r, 409)
    producer = next(a for a in env.parties.values() if a.kind == "restaurant")
    assert_problem(producer.post("/api/v1/draws", "draw.commit", body), 403)
    assert env.snapshot() == before

    r = env.regulator.post("/api/v1/draws", "draw.commit", body)
    assert r.status_code == 201, r.text
    assert_problem(env.regulator.post("/api/v1/draws", "draw.commit", body), 409)

    r = env.client.post("/api/v1/draws/SSJ-2026-12/result", headers=env.regulator.headers)
    assert_problem(r, 409)  # the seed block is not mined yet
    _mine(chain, 2)
    assert_problem(
        env.client.post("/api/v1/draws/SSJ-2026-12/result", headers=producer.headers), 403
    )
    r = env.client.post("/api/v1/draws/SSJ-2026-12/result", headers=env.regulator.headers)
    assert r.status_code == 201, r.text
    result = r.json()["record"]["result"]
    assert result["block_hash"] == blocks.block(body["block_number"]).hash  # type: ignore[union-attr]
    assert len(result["merchants"]) == 3
    assert all(len(m["inspectors"]) == 2 for m in result["merchants"])
    assert {m["party_id"] for m in result["merchants"]} <= {
        c["party_id"] for c in body["candidates"]
    }
    assert_problem(
        env.client.post("/api/v1/draws/SSJ-2026-12/result", headers=env.regulator.headers), 409
    )

    published = env.client.get("/api/v1/draws/SSJ-2026-12").json()  # public, no token
    assert verify_published(published, blocks) == []
    tampered = json.loads(json.dumps(published))
    tampered["result"]["merchants"][0]["inspectors"].reverse()
    assert verify_published(tampered, blocks)
    path = tmp_path / "draw.json"
    path.write_text(json.dumps(published, ensure_ascii=False), encoding="utf-8")
    out = CliRunner().invoke(cli, ["draw", "verify", str(path)])
    assert out.exit_code == 0, out.output
    assert "verified: 3 merchants" in out.output
    path.write_text(json.dumps(tampered, ensure_ascii=False), encoding="utf-8")
    assert CliRunner().invoke(cli, ["draw", "verify", str(path)]).exit_code == 1
    assert [d["draw_id"] for d in env.client.get("/api/v1/draws").json()] == ["SSJ-2026-12"]


def test_a_draw_reads_the_embedded_chain_the_server_already_holds(env: Env) -> None:
    """With no block source set, a draw uses the process's one open embedded chain: the
    chain RPC (or the anchorer) holding it open must not turn a draw into a 503."""
    assert getattr(env.client.app.state, "draw_blocks", None) is None
    rpc = {"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber", "params": []}
    r = env.client.post("/chain/rpc", json=rpc)
    assert r.status_code == 200 and "result" in r.json(), r.text  # the chain is held now
    _graded_world(env)
    request = {
        "draw_id": "SSJ-2026-11",
        "period": "2026-11",
        "rule": {"kinds": ["restaurant"]},
        "merchants_count": 2,
        "inspectors_per_merchant": 1,
        "blocks_ahead": 1,
    }
    r = env.client.post("/api/v1/draws/proposals", json=request, headers=env.regulator.headers)
    assert r.status_code == 200, r.text
    assert (
        r.json()["block_number"]
        == int(env.client.post("/chain/rpc", json=rpc).json()["result"], 16) + 1
    )
