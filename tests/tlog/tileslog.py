"""A log behind the API, filled with raw leaves (the tiles do not care what an entry says),
and a fetch function for the independent client."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi.testclient import TestClient

from foodtrace.config import Settings
from foodtrace.store.log import MerkleLog

META = ("event", "farm-1", "k1", "2026-01-01T00:00:00Z")


def leaf(i: int) -> bytes:
    """Leaf data of varied lengths, so bundle offsets are exercised."""
    return f'{{"n":{i},"pad":"{"z" * (i % 97)}"}}'.encode()


@dataclass
class Served:
    client: TestClient
    log: MerkleLog
    settings: Settings

    @property
    def vkey(self) -> str:
        return self.log.verifier_key()

    def append(self, count: int) -> None:
        start = self.log.size()
        self.log.append_leaves([leaf(i) for i in range(start, start + count)], META)

    def fetch(self, path: str) -> bytes:
        r = self.client.get(f"/tlog/{path}")
        if r.status_code != 200:
            raise FileNotFoundError(f"{path}: {r.status_code}")
        return r.content
