"""One cold resolver page build in-process, timed and optionally profiled: what the resolver's
JSON answer for a code costs without HTTP, the page microcache, the page read model or the
scan count (what a stored page saves, and what the read model's refresher spends per page).

Run: ``.venv/bin/python bench/page_build.py lot|merchant [--builds 100] [--events 1000000]
[--profile]`` after ``bench/resolve.py`` has seeded ``var/bench/resolve-<events>/`` (its demo
lot and merchant codes are built). Prints wall and CPU milliseconds per build (CPU time is
the steadier figure on a shared machine), the SQL statements one build runs, and with
``--profile`` the cProfile table (cumulative). Writes the answer's bytes to
``var/bench/page-<which>.json`` so two versions can be compared byte for byte.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PORT_APP = 8731  # the port the seeded codes name (bench/resolve.py)


def main() -> None:
    from sqlalchemy import event

    from foodtrace.demo import demo_settings
    from foodtrace.resolver import refresher
    from foodtrace.resolver.codes import authority_keys, check_code
    from foodtrace.store.db import session_factory
    from foodtrace.store.log import MerkleLog

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("which", choices=("lot", "merchant"))
    parser.add_argument("--builds", type=int, default=100)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    data = ROOT / "var" / "bench" / f"resolve-{args.events}"
    url = json.loads((data / "bench.json").read_text())[args.which]
    settings = demo_settings(data, PORT_APP)
    log = MerkleLog(settings=settings, migrate=False)
    sessions = session_factory(log.engine)

    def build() -> bytes:
        """The JSON answer's page, evidence and proofs, as the resolver builds them (the
        route and the page read model share foodtrace.resolver.refresher.build)."""
        code = check_code(url, authority_keys(settings))
        with sessions() as session:
            built, _ = refresher.build(
                session, log, settings, code, "json", (0.0, 8.0), log.latest_checkpoint()
            )
            assert built is not None, url
            return built.body

    for _ in range(3):
        build()
    statements = [0]

    def count(*_: Any) -> None:
        statements[0] += 1

    event.listen(log.engine, "before_cursor_execute", count)
    body = build()
    event.remove(log.engine, "before_cursor_execute", count)
    (ROOT / "var" / "bench" / f"page-{args.which}.json").write_bytes(body)
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(args.builds):
        build()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(
        f"{args.which}: {wall / args.builds * 1000:.2f} ms/build wall, "
        f"{cpu / args.builds * 1000:.2f} ms CPU, {statements[0]} SQL statements, "
        f"{len(body):,} bytes, {len(json.loads(body)['proofs']['records'])} proved records"
    )
    if args.profile:
        profile = cProfile.Profile()
        profile.enable()
        for _ in range(args.builds):
            build()
        profile.disable()
        pstats.Stats(profile).sort_stats("cumulative").print_stats(40)
    log.close()


if __name__ == "__main__":
    main()
