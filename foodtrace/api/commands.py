"""``foodtrace migrate`` and ``foodtrace serve``: bring the database up to date and run the
service (the API, and the anchorer in the background) on 127.0.0.1 by default."""

from __future__ import annotations

from typing import Annotated

import typer

from foodtrace.config import Settings


def migrate_cmd(
    db: Annotated[str, typer.Option("--db", help="Database URL (default: settings)")] = "",
) -> None:
    """Create or upgrade the database schema (Alembic)."""
    from foodtrace.store.db import migrate

    settings = Settings()
    url = db or settings.resolved_database_url
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    migrate(url)
    typer.echo(f"database is up to date: {url}")


def serve(
    host: Annotated[str, typer.Option(help="Address to bind")] = "",
    port: Annotated[int, typer.Option(help="Port")] = 0,
    anchor: Annotated[bool, typer.Option(help="Run the anchorer in the background")] = True,
) -> None:
    """Run the API (migrating first) with the anchorer in the background."""
    import uvicorn

    from foodtrace.api.app import create_app
    from foodtrace.store.db import migrate

    settings = Settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    migrate(settings.resolved_database_url)
    app = create_app(settings, run_anchorer=anchor)
    uvicorn.run(app, host=host or settings.host, port=port or settings.port, log_level="info")


def register(app: typer.Typer) -> None:
    app.command("migrate")(migrate_cmd)
    app.command("serve")(serve)
