"""One write with the regrade on write on, against the same write with it off.

A regulator records a penalty on one of N businesses (the grading benchmark's district,
:func:`bench.grades.populate`) through the one write path,
:func:`foodtrace.record.service.submit`; with ``grade_recompute_on_write`` on, the write
returns only once the business was regraded and its new ``grade.compute`` entry logged (a
penalty always moves the grade: the worst case). Writes with it on and off alternate, so
both see the same machine; the figure is the median of each, and their ratio.

Run: ``PYTHONPATH=. .venv/bin/python bench/regrade_write.py`` (200 businesses, 40 writes
each way, SQLite); ``--businesses 2000`` shows the regrade does not grow with the district;
``--db postgresql+psycopg://…`` for PostgreSQL (an empty database).
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bench.grades import AS_OF, populate
from foodtrace.auth.models import Principal, Role
from foodtrace.config import Settings
from foodtrace.grading.flows import recompute
from foodtrace.party.service import init_regulator
from foodtrace.record.registry import load_types
from foodtrace.record.service import submit
from foodtrace.store.db import session_factory
from foodtrace.store.log import MerkleLog
from foodtrace.trace import entry as entry_mod
from foodtrace.trace import keys

REGULATOR = "91310000MA1K4F000H"  # a valid 统一社会信用代码
out = Console()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--businesses", type=int, default=200)
    parser.add_argument("--writes", type=int, default=40, help="writes each way")
    parser.add_argument("--db", default="", help="database URL (default: a fresh SQLite file)")
    args = parser.parse_args()
    load_types()
    tmp = Path(tempfile.mkdtemp(prefix="bench-regrade-"))
    url = args.db or f"sqlite:///{tmp / 'regrade.db'}"
    on = Settings(
        data_dir=tmp,
        database_url=url,
        log_origin="bench.foodtrace/log",
        grade_recompute_on_write=True,
    )
    off = on.model_copy(update={"grade_recompute_on_write": False})
    rng = random.Random(11)
    with MerkleLog(url, settings=off) as log:
        sessions = session_factory(log.engine)
        boot = init_regulator(
            log, party_id=REGULATOR, name="监管", credit_code=REGULATOR, key_file=tmp / "reg.key"
        )
        key = keys.read_private(boot.key_file)
        with sessions() as session:
            populate(session, args.businesses, rng)
        recompute(log, sessions, on, as_of=AS_OF)  # every business has its grade already
        principal = Principal(REGULATOR, Role.REGULATOR, 0)
        times: dict[bool, list[float]] = {True: [], False: []}
        grades_logged = 0
        for n in range(2 * args.writes):
            hook_on = n % 2 == 1
            log.settings = on if hook_on else off
            body = {
                "party_id": f"biz-{rng.randrange(args.businesses):06d}",
                "decision_number": f"沪市监罚〔2026〕{n}号",
                "decided_on": AS_OF.isoformat(),
                "amount": "1000",
                "severity": "general",
                "reason": "未按规定公示",
            }
            entry = entry_mod.sign(key, type="penalty.record", author=REGULATOR, body=body)
            size = log.size()
            t = time.perf_counter()
            submit(log, sessions, principal, [entry])
            times[hook_on].append(time.perf_counter() - t)
            grades_logged += log.size() - size - 1
    median = {k: statistics.median(v) for k, v in times.items()}
    table = Table(title=f"One penalty write, {args.businesses} businesses ({url.split(':')[0]})")
    for col in ("regrade on write", "median", "mean", "writes"):
        table.add_column(col, justify="right" if col != "regrade on write" else "left")
    for k in (False, True):
        table.add_row(
            "on" if k else "off",
            f"{median[k] * 1e3:.1f} ms",
            f"{statistics.fmean(times[k]) * 1e3:.1f} ms",
            str(len(times[k])),
        )
    out.print(table)
    out.print(
        f"on / off: {median[True] / median[False]:.2f}x (medians); "
        f"grade entries logged by the {len(times[True])} writes with it on: {grades_logged}"
    )


if __name__ == "__main__":
    main()
