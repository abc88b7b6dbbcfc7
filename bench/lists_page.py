"""The red list's first page (``GET /api/v1/lists/red?perPage=100``) over N businesses graded
A, to compare reading the page in SQL with building the whole list and cutting it.

The parties and their hand-typed grades are inserted straight into the projection tables
(a read benchmark: the state is not one the log could rebuild). SQLite in a temporary
directory, or ``--dir`` to reuse one (another checkout can then read the same database).

Run: ``.venv/bin/python bench/lists_page.py --parties 5000 --rounds 10``
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import warnings
from datetime import date
from pathlib import Path

from sqlalchemy import create_engine, insert

from foodtrace.api.app import create_app
from foodtrace.config import Settings
from foodtrace.inspection.models import CreditGrade
from foodtrace.party.models import Party
from foodtrace.store.db import migrate

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


def seed(url: str, parties: int) -> None:
    migrate(url, "heads")
    with create_engine(url).begin() as c:
        c.execute(
            insert(Party),
            [
                {
                    "party_id": f"p{i:06d}",
                    "name": f"店{i}",
                    "kind": "restaurant",
                    "credit_code": f"{i:018d}",
                    "region": "上海市",
                    "entry_index": 10**6 + i,
                }
                for i in range(parties)
            ],
        )
        c.execute(
            insert(CreditGrade),
            [
                {
                    "entry_index": 2 * 10**6 + i,
                    "party_id": f"p{i:06d}",
                    "grade": "A",
                    "effective_on": date(2026, 1, 1 + i % 28),
                    "reason": "bench",
                    "set_by": "gov",
                }
                for i in range(parties)
            ],
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parties", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--dir", type=Path)
    args = parser.parse_args()
    where = args.dir or Path(tempfile.mkdtemp(prefix="lists-page-"))
    where.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{where}/bench.sqlite"
    if not (where / "bench.sqlite").exists():
        seed(url, args.parties)
    app = create_app(Settings(data_dir=where / "var", database_url=url))
    times = []
    with TestClient(app) as client:
        for _ in range(args.rounds):
            start = time.perf_counter()
            r = client.get("/api/v1/lists/red", params={"perPage": "100"})
            times.append(time.perf_counter() - start)
            assert r.status_code == 200 and len(r.json()["parties"]) == 100, r.text[:200]
    ms = [t * 1000 for t in times]
    print(f"{args.parties} parties: median {statistics.median(ms):.1f} ms, min {min(ms):.1f} ms")


if __name__ == "__main__":
    main()
