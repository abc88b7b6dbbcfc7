"""``foodtrace blobs gc``: delete uploaded files that no record names after the grace period."""

from __future__ import annotations

from typing import Annotated

import typer

from foodtrace.config import Settings

blobs_app = typer.Typer(
    help="Uploaded files (report PDFs, inspection photos).", no_args_is_help=True
)


@blobs_app.command("gc")
def gc(
    db: Annotated[str, typer.Option("--db", help="Database URL (default: settings)")] = "",
) -> None:
    """Delete the files no report or inspection names, uploaded longer ago than
    FOODTRACE_BLOB_GC_GRACE_SECONDS."""
    from foodtrace.report.uploads import collect_garbage
    from foodtrace.store.db import make_engine, session_factory

    settings = Settings()
    engine = make_engine(db or settings.resolved_database_url)
    try:
        with session_factory(engine)() as session, session.begin():
            collected = collect_garbage(session, settings)
    finally:
        engine.dispose()
    for sha in collected:
        typer.echo(sha)
    typer.echo(f"collected {len(collected)} unreferenced file(s)", err=True)


def register(app: typer.Typer) -> None:
    app.add_typer(blobs_app, name="blobs")
