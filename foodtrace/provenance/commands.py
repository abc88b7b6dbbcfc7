"""``foodtrace rebuild-provenance``: replay custody and lineage from the log."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from sqlalchemy.orm import Session

from foodtrace.config import Settings
from foodtrace.provenance.rebuild import rebuild
from foodtrace.store.db import make_engine

out = Console()


DbOption = Annotated[str | None, typer.Option("--db", help="Database URL (default: Settings).")]


def rebuild_provenance(db: DbOption = None) -> None:
    """Empty the custody and lineage tables and replay every lot.create and epcis.event
    entry of the log into them, in one transaction (a failure leaves them as they were)."""
    engine = make_engine(db or Settings().resolved_database_url)
    with Session(engine) as session, session.begin():
        n = rebuild(session)
    engine.dispose()
    out.print(f"provenance rebuilt from {n} entries")


def register(app: typer.Typer) -> None:
    app.command("rebuild-provenance")(rebuild_provenance)
