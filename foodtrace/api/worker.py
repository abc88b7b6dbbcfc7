"""The API as an application factory for several worker processes:
``uvicorn --factory --workers N foodtrace.api.worker:app`` (settings from the environment,
``FOODTRACE_SEQUENCER=candidate`` on PostgreSQL; README, "Several workers")."""

from __future__ import annotations

import gc
import sys

from fastapi import FastAPI

from foodtrace.api.app import create_app
from foodtrace.config import Settings


def app() -> FastAPI:
    """One worker's app; the anchorer runs apart (``foodtrace anchor``)."""
    settings = Settings()
    tune_interpreter(settings)
    app = create_app(settings)
    settle_heap()
    return app


def tune_interpreter(settings: Settings) -> None:
    """Process-wide tuning for a serving process (not done by ``create_app``: tests and
    embedders keep their interpreter as it is). ``gil_switch_interval_s``: a capture's
    pure-Python work on a worker thread hands the GIL to page requests this often."""
    if settings.gil_switch_interval_s > 0:
        sys.setswitchinterval(settings.gil_switch_interval_s)


def settle_heap() -> None:
    """Once a serving process has built its app: take what is alive then (modules, routes,
    schemas, mappers; ~330k tracked objects) out of the cyclic collector's view
    (:func:`gc.freeze`), so a full collection while serving walks only what was made since.
    Without it one such pass over the whole heap took 206 ms in the middle of a 10 s run of
    ``/workbench/`` (bench/workbench.py), holding the GIL for every request in flight. Not done
    by ``create_app``: tests and embedders keep their interpreter as it is."""
    gc.collect()
    gc.freeze()
