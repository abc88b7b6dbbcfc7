"""``foodtrace tlog export DIR``: write the log's tlog-tiles resources to a directory."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from foodtrace.config import Settings
from foodtrace.store.log import MerkleLog
from foodtrace.tlog.export import export
from foodtrace.trace.tlog_tiles import BundleEntryTooLarge

tlog_app = typer.Typer(help="The log as static C2SP tlog-tiles files.", no_args_is_help=True)


@tlog_app.command("export")
def export_cmd(
    directory: Annotated[Path, typer.Argument(help="Directory to serve as /tlog/.")],
    db: Annotated[
        str | None, typer.Option("--db", help="Database URL (default: Settings).")
    ] = None,
) -> None:
    """Write checkpoint, tiles and entry bundles; a static server of DIR is a tiles log."""
    with MerkleLog(db or None, settings=Settings()) as log:
        try:
            report = export(log, directory)
        except BundleEntryTooLarge as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(1) from None
    typer.echo(
        f"checkpoint size {report.size}: {report.written} files written, "
        f"{report.kept} already there"
    )


def register(app: typer.Typer) -> None:
    app.add_typer(tlog_app, name="tlog")
