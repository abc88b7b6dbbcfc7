"""``foodtrace sequencer``: stand for election as the one sequencer and integrate the queue."""

from __future__ import annotations

import signal
import threading
from typing import Annotated

import typer

from foodtrace.config import Settings


def sequencer(
    db: Annotated[str | None, typer.Option(help="PostgreSQL URL (default: settings)")] = None,
) -> None:
    """Run a sequencer until SIGTERM/SIGINT; only the elected one of several acts."""
    from foodtrace.observe.logs import configure as configure_logging
    from foodtrace.sequencer.sequencer import Sequencer

    settings = Settings()
    configure_logging("INFO")
    seq = Sequencer(db or settings.resolved_database_url, settings)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    seq.start()
    typer.echo("sequencer standing for election", err=True)
    stop.wait()
    seq.close()


def register(app: typer.Typer) -> None:
    app.command("sequencer")(sequencer)
