"""The API as an application factory for several worker processes:
``uvicorn --factory --workers N foodtrace.api.worker:app`` (settings from the environment,
``FOODTRACE_SEQUENCER=candidate`` on PostgreSQL; README, "Several workers")."""

from __future__ import annotations

import sys

from fastapi import FastAPI

from foodtrace.api.app import create_app
from foodtrace.config import Settings


def app() -> FastAPI:
    """One worker's app; the anchorer runs apart (``foodtrace anchor``)."""
    settings = Settings()
    tune_interpreter(settings)
    return create_app(settings)


def tune_interpreter(settings: Settings) -> None:
    """Process-wide tuning for a serving process (not done by ``create_app``: tests and
    embedders keep their interpreter as it is). ``gil_switch_interval_s``: a capture's
    pure-Python work on a worker thread hands the GIL to page requests this often."""
    if settings.gil_switch_interval_s > 0:
        sys.setswitchinterval(settings.gil_switch_interval_s)
