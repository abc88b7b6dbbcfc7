"""Grids through the HTTP API: who may define them, who may own them, their businesses."""

from __future__ import annotations

from gridharness import make_grid
from recordharness import Env, assert_problem, pointers


def test_grid_lists_its_businesses_and_owners(env: Env) -> None:
    g = make_grid(env, shops=2)
    r = env.client.get("/api/v1/grids?mine=true", headers=g.worker.headers)
    assert [x["grid_id"] for x in r.json()] == [g.grid_id] and r.json()[0]["businesses"] == 2
    r = env.client.get("/api/v1/grids?mine=true", headers=env.add_party("inspector").headers)
    assert r.json() == []
    r = env.client.get(f"/api/v1/grids/{g.grid_id}/businesses", headers=g.officer.headers)
    assert sorted(b["party_id"] for b in r.json()) == sorted(s.party_id for s in g.shops)
    assert all(b["grade"] is None and b["face"] is None for b in r.json())
    assert_problem(
        env.client.get(f"/api/v1/grids/{g.grid_id}/businesses", headers=g.shops[0].headers), 403
    )
    assert_problem(env.client.get("/api/v1/grids/nope/businesses", headers=g.officer.headers), 404)


def test_moving_a_business_to_another_grid(env: Env) -> None:
    a, b = make_grid(env, "a", shops=1), make_grid(env, "b", shops=0)
    shop = a.shops[0]
    r = env.regulator.post(
        "/api/v1/grids/b/businesses", "grid.assign", {"grid_id": "b", "party_ids": [shop.party_id]}
    )
    assert r.status_code == 201, r.text
    counts = {
        x["grid_id"]: x["businesses"]
        for x in env.client.get("/api/v1/grids", headers=b.officer.headers).json()
    }
    assert counts == {"a": 0, "b": 1}


def test_bad_grids_are_refused_with_every_problem(env: Env) -> None:
    shop, officer = env.add_party("restaurant"), env.add_party("inspector")
    before = env.snapshot()
    body = {
        "grid_id": "x",
        "name": "网格",
        "station": "所",
        "officer": officer.party_id,
        "grid_worker": officer.party_id,
        "station_head": shop.party_id,
    }
    r = env.regulator.post("/api/v1/grids", "grid.define", body)
    assert_problem(r, 422)
    assert pointers(r) == {"/body/entry/body/grid_worker", "/body/entry/body/station_head"}
    # only a regulator defines grids
    assert_problem(officer.post("/api/v1/grids", "grid.define", body), 403)
    r = env.regulator.post(
        "/api/v1/grids/x/businesses", "grid.assign", {"grid_id": "y", "party_ids": ["p"]}
    )
    assert_problem(r, 422)
    assert pointers(r) == {"/body/grid_id"}
    assert env.snapshot() == before
    make_grid(env, "ok", shops=0)
    r = env.regulator.post(
        "/api/v1/grids/ok/businesses",
        "grid.assign",
        {"grid_id": "ok", "party_ids": [officer.party_id, "nobody"]},
    )
    assert_problem(r, 422)
    assert pointers(r) == {
        "/body/entry/body/party_ids/0",
        "/body/entry/body/party_ids/1",
    }
