"""``foodtrace migrate``, ``serve`` and ``demo``: bring the database up to date and run the
service (the API, and the anchorer in the background) on 127.0.0.1 by default; ``demo``
first seeds realistic data on the embedded defaults."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from foodtrace.config import Settings
from foodtrace.observe.logs import configure as configure_logging


def migrate_cmd(
    db: Annotated[str, typer.Option("--db", help="Database URL (default: settings)")] = "",
) -> None:
    """Create or upgrade the database schema (Alembic)."""
    from foodtrace.store.db import migrate, redacted

    settings = Settings()
    url = db or settings.resolved_database_url
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    migrate(url)
    typer.echo(f"database is up to date: {redacted(url)}")


def serve(
    host: Annotated[str, typer.Option(help="Address to bind")] = "",
    port: Annotated[int, typer.Option(help="Port")] = 0,
    anchor: Annotated[bool, typer.Option(help="Run the anchorer in the background")] = True,
) -> None:
    """Run the API (migrating first) with the anchorer in the background."""
    import uvicorn

    from foodtrace.api.app import create_app
    from foodtrace.api.worker import settle_heap, tune_interpreter
    from foodtrace.store.db import migrate

    settings = Settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    migrate(settings.resolved_database_url)
    from foodtrace.store.db import make_engine
    from foodtrace.store.keyfiles import MissingKeyError, check_keys

    engine = make_engine(settings.resolved_database_url)
    try:
        check_keys(settings, engine)  # create_app checks again at startup; this says it plainly
    except MissingKeyError as exc:
        typer.echo(f"refusing to start: {exc}", err=True)
        raise typer.Exit(1) from None
    finally:
        engine.dispose()
    tune_interpreter(settings)
    app = create_app(settings, run_anchorer=anchor)
    settle_heap()
    configure_logging("INFO")  # JSON lines; uvicorn keeps our handler (log_config=None)
    uvicorn.run(
        app,
        host=host or settings.host,
        port=port or settings.port,
        log_config=None,
        http="httptools",
        loop="uvloop",
    )


def demo(
    data_dir: Annotated[
        Path, typer.Option("--data-dir", help="Where the demo keeps its data")
    ] = Path("var/demo"),
    port: Annotated[int, typer.Option(help="Port to serve on (127.0.0.1)")] = 8000,
    reset: Annotated[bool, typer.Option("--reset", help="Wipe the data directory first")] = False,
    no_serve: Annotated[
        bool, typer.Option("--no-serve", help="Seed and print, do not serve")
    ] = False,
) -> None:
    """Seed realistic demo data (once), anchor it, write QR codes, print where to look, and
    serve on the embedded defaults (SQLite file and in-process chain under --data-dir)."""
    from foodtrace.demo import DemoError, demo_settings, prepare, summary_lines

    try:
        summary = prepare(data_dir, port=port, reset=reset)
    except DemoError as exc:
        typer.echo(f"demo seeding failed: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo("\n".join(summary_lines(summary)))
    if no_serve:
        return
    import uvicorn

    from foodtrace.api.app import create_app
    from foodtrace.api.worker import settle_heap, tune_interpreter
    from foodtrace.witness import demo as demo_witness

    settings = demo_witness.configure(demo_settings(data_dir, port))
    typer.echo(f"\nserving on {settings.public_base_url} (Ctrl-C to stop)")
    tune_interpreter(settings)
    app = create_app(settings, run_anchorer=True)
    demo_witness.mount(app, settings)
    settle_heap()
    configure_logging("INFO")
    uvicorn.run(app, host="127.0.0.1", port=port, log_config=None, http="httptools", loop="uvloop")


def register(app: typer.Typer) -> None:
    app.command("migrate")(migrate_cmd)
    app.command("serve")(serve)
    app.command("demo")(demo)
