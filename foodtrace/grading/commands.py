"""``foodtrace grades recompute``: drain the grade dirty-set (or force a recomputation)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer
from rich.console import Console

from foodtrace.config import Settings
from foodtrace.grading import flows
from foodtrace.store.db import session_factory
from foodtrace.store.log import MerkleLog

out = Console()


def register(app: typer.Typer) -> None:
    grades = typer.Typer(help="Credit grades computed from 8 indicators.", no_args_is_help=True)
    app.add_typer(grades, name="grades")

    @grades.command("recompute")
    def recompute(
        force: Annotated[
            bool, typer.Option("--force", help="Recompute even if nothing moved.")
        ] = False,
        as_of: Annotated[
            str | None, typer.Option("--as-of", help="The day to grade for (YYYY-MM-DD).")
        ] = None,
        db: Annotated[str | None, typer.Option("--db", help="Database URL.")] = None,
    ) -> None:
        """Recompute every grade if the log, the day or the policy moved since last time,
        and log a grade.compute entry for each business whose grade or values changed."""
        settings = Settings()
        day = date.fromisoformat(as_of) if as_of else None
        with MerkleLog(db or None, settings=settings) as log:
            done = flows.drain(log, session_factory(log.engine), settings, as_of=day, force=force)
        if done is None:
            out.print("nothing moved since the last recomputation; nothing done")
            return
        out.print(f"graded {done.parties} businesses, logged {done.written} changed grades")
