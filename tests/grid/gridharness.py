"""A grid with its officer, grid worker and station head, and shops in it."""

from __future__ import annotations

from dataclasses import dataclass

from recordharness import Actor, Env


@dataclass
class GridCase:
    grid_id: str
    officer: Actor
    worker: Actor
    head: Actor
    shops: list[Actor]


def make_grid(env: Env, grid_id: str = "cm-01", shops: int = 2) -> GridCase:
    officer, worker, head = (env.add_party("inspector") for _ in range(3))
    body = {
        "grid_id": grid_id,
        "name": "城桥镇第一网格",
        "station": "城桥市场监管所",
        "officer": officer.party_id,
        "grid_worker": worker.party_id,
        "station_head": head.party_id,
    }
    r = env.regulator.post("/api/v1/grids", "grid.define", body)
    assert r.status_code == 201, r.text
    members = [env.add_party("restaurant") for _ in range(shops)]
    if members:
        r = env.regulator.post(
            f"/api/v1/grids/{grid_id}/businesses",
            "grid.assign",
            {"grid_id": grid_id, "party_ids": [s.party_id for s in members]},
        )
        assert r.status_code == 201, r.text
    return GridCase(grid_id, officer, worker, head, members)
