"""A bulk write gives way to pages: ReadsInFlight counts GET/HEAD requests being answered,
and give_way sleeps (bounded) only while there are some."""

from __future__ import annotations

import threading
import time

from fastapi import FastAPI
from fastapi.testclient import TestClient

from foodtrace.api.limits import MAX_YIELD_S, ReadsInFlight, give_way


def _app(inside: threading.Event, release: threading.Event) -> FastAPI:
    app = FastAPI()

    @app.get("/page")
    def page() -> dict[str, int]:
        inside.set()
        assert release.wait(10)
        return {"reads": ReadsInFlight.count}

    @app.post("/write")
    def write() -> dict[str, int]:
        return {"reads": ReadsInFlight.count}

    app.add_middleware(ReadsInFlight)
    return app


def test_reads_are_counted_while_answered_and_writes_are_not() -> None:
    inside, release = threading.Event(), threading.Event()
    with TestClient(_app(inside, release)) as client:
        assert client.post("/write").json() == {"reads": 0}
        answers: list[dict[str, int]] = []
        reader = threading.Thread(target=lambda: answers.append(client.get("/page").json()))
        reader.start()
        assert inside.wait(10)
        assert ReadsInFlight.count == 1
        started = time.perf_counter()
        give_way(0.005)  # a page is in flight: the write steps aside about that long
        assert time.perf_counter() - started >= 0.004
        started = time.perf_counter()
        give_way(10.0)  # never longer than the bound, whatever the step cost
        assert time.perf_counter() - started < MAX_YIELD_S + 0.05
        release.set()
        reader.join(10)
        assert answers == [{"reads": 1}]
    assert ReadsInFlight.count == 0


def test_without_reads_a_write_does_not_wait() -> None:
    assert ReadsInFlight.count == 0
    started = time.perf_counter()
    for _ in range(100):
        give_way(0.02)
    assert time.perf_counter() - started < 0.1
