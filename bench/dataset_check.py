"""``bench/dataset.py --check N``: the fast path against the live write path on a sample,
and the audit of a written log (kept apart from the generator: it is only run on request)."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from dataset import REGULATOR, generate
from sqlalchemy import select
from sqlalchemy.orm import Session

from foodtrace.config import Settings
from foodtrace.record import registry
from foodtrace.store import db
from foodtrace.store.log import MerkleLog

# Tables whose rows differ between two runs of the same seed whatever the path: the log
# itself (the regulator's and the platform's keys and the first entry's time are new each
# run, so every regulator-signed entry and every tile differs) and tokens; in the key tables
# the rows of those two authors.
UNCOMPARED = frozenset(
    {"entries", "tiles", "checkpoints", "api_tokens", "enrolment_codes", "alembic_version"}
)

UNCOMPARED_AUTHORS = frozenset({REGULATOR, "foodtrace-platform"})  # keys new each run
KEY_TABLES = frozenset({"author_keys", "party_keys", "parties"})


def _table_rows(url: str) -> dict[str, list[tuple[Any, ...]]]:
    from foodtrace.store.base import Base

    registry.load_types()
    out = {}
    with db.make_engine(url).connect() as conn:
        for table in Base.metadata.sorted_tables:
            if table.name in UNCOMPARED:
                continue
            rows = conn.execute(select(table)).all()
            keyed = table.name in KEY_TABLES
            out[table.name] = sorted(
                (tuple(r) for r in rows if not (keyed and UNCOMPARED_AUTHORS & set(tuple(r)))),
                key=repr,
            )
    return out


def check(events: int, parties: int, seed: int) -> None:
    """The fast path against the live one on a sample: the same province of ``events``
    events written both ways into two SQLite files; every table compared; then the
    provenance tables rebuilt from the fast path's log compared with what it wrote, and
    its log audited. Raises SystemExit on any difference."""
    from foodtrace.provenance import rebuild

    with tempfile.TemporaryDirectory() as tmp:
        urls = {}
        for how in ("live", "fast"):
            urls[how] = f"sqlite:///{tmp}/{how}/foodtrace.db"
            t = time.perf_counter()
            generate(urls[how], Path(tmp) / how, events=events, parties=parties, lots=0,
                     seed=seed, live=how == "live")  # fmt: skip
            print(f"check: {how} path {time.perf_counter() - t:.1f} s", flush=True)
        live, fast = _table_rows(urls["live"]), _table_rows(urls["fast"])
        differ = [t for t in live if live[t] != fast[t]]
        for t in differ:
            a, b = set(live[t]) - set(fast[t]), set(fast[t]) - set(live[t])
            print(f"check: {t}: {len(a)} rows only live, e.g. {sorted(a, key=repr)[:1]}")
            print(f"check: {t}: {len(b)} rows only fast, e.g. {sorted(b, key=repr)[:1]}")
        if differ:
            raise SystemExit(f"check: the fast path's tables differ from the live path's: {differ}")
        filled = {t: len(r) for t, r in live.items() if r}
        print(f"check: fast path == live path in all {len(live)} compared tables {filled}")
        engine = db.make_engine(urls["fast"])
        with Session(engine) as session:
            before = rebuild.contents(session)
        with Session(engine) as session, session.begin():
            replayed = rebuild.rebuild(session)
            after = rebuild.contents(session)
        if before != after:
            raise SystemExit("check: rebuilding provenance from the log differs")
        print(f"check: provenance rebuilt from {replayed:,} entries == the written tables")
        audit(urls["fast"], Path(tmp) / "fast")


def audit(url: str, out: Path) -> None:
    settings = Settings(
        data_dir=out / "var", database_url=url, log_origin="province.foodtrace/log",
        log_key_file=out / "log.key",
    )  # fmt: skip
    t = time.perf_counter()
    with MerkleLog(url, settings=settings, migrate=False) as log:
        report = log.audit()
        size = log.size()
    if not report.ok:
        raise SystemExit(f"audit found {report.problems[:3]}")
    print(f"audit: {size:,} entries clean ({time.perf_counter() - t:.1f} s)", flush=True)
