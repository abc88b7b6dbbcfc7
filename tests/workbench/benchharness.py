"""A grid whose officer and grid worker are custodial inspectors (the workbench signs with
the server's custodial key), and a logged-in workbench client."""

from __future__ import annotations

import re
from dataclasses import dataclass

import httpx
from fastapi.testclient import TestClient
from recordharness import Actor, Env

CSRF = re.compile(r'name="csrf" value="([^"]+)"')
# The smallest valid PNG: a 1×1 transparent pixel.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
)


@dataclass
class Grid:
    grid_id: str
    officer: Actor
    worker: Actor
    head: Actor
    shops: list[Actor]


def make_grid(env: Env, grid_id: str = "wb-01", shops: int = 2) -> Grid:
    officer, worker, head = (env.add_party("inspector", custodial=True) for _ in range(3))
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
    members = [env.add_party("restaurant", name=f"小吃店{n}") for n in range(shops)]
    r = env.regulator.post(
        f"/api/v1/grids/{grid_id}/businesses",
        "grid.assign",
        {"grid_id": grid_id, "party_ids": [s.party_id for s in members]},
    )
    assert r.status_code == 201, r.text
    return Grid(grid_id, officer, worker, head, members)


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "no CSRF field on the page"
    return found.group(1)


class Bench:
    """A browser-like client of the workbench (its own cookie jar)."""

    def __init__(self, env: Env) -> None:
        self.client = TestClient(env.client.app, follow_redirects=False)

    def get(self, path: str) -> httpx.Response:
        return self.client.get(path)

    def csrf(self, path: str = "/workbench/login") -> str:
        r = self.client.get(path)
        assert r.status_code == 200, r.text
        return csrf_of(r.text)

    def login(self, token: str) -> httpx.Response:
        return self.client.post("/workbench/login", data={"token": token, "csrf": self.csrf()})

    def post(self, path: str, data: dict[str, str], **kw: object) -> httpx.Response:
        return self.client.post(path, data={**data, "csrf": self.csrf("/workbench/")}, **kw)  # type: ignore[arg-type]
