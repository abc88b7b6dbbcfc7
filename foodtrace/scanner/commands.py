"""``foodtrace scan``: the scanner, from the main command (same options as foodtrace-scan)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    from foodtrace.scanner.cli import scan

    app.command("scan")(scan)
