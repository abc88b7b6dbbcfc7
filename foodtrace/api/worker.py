"""The API as an application factory for several worker processes:
``uvicorn --factory --workers N foodtrace.api.worker:app`` (settings from the environment,
``FOODTRACE_SEQUENCER=candidate`` on PostgreSQL; README, "Several workers")."""

from __future__ import annotations

from fastapi import FastAPI

from foodtrace.api.app import create_app
from foodtrace.config import Settings


def app() -> FastAPI:
    """One worker's app; the anchorer runs apart (``foodtrace anchor``)."""
    return create_app(Settings())
