"""``foodtrace platform-key``: log the platform key's registration now (an old database, or
after the key file was rotated), rather than at the platform's next write."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from foodtrace.config import Settings

out = Console()


def platform_key_command(
    db: Annotated[str | None, typer.Option("--db", help="Database URL (default: Settings)")] = None,
) -> None:
    """Register the platform's signing key by a logged ``platform.key.register`` entry
    (self-signed, countersigned by the log key), unless the log already holds one for it."""
    from foodtrace.platformkey.writes import register as register_key
    from foodtrace.store.db import session_factory
    from foodtrace.store.log import MerkleLog

    settings = Settings()
    with MerkleLog(db or None, settings=settings) as log:
        index = register_key(log, session_factory(log.engine), settings)
    if index is None:
        out.print("the platform key is already registered in the log")
    else:
        out.print(f"platform key registered in entry {index}")


def register(app: typer.Typer) -> None:
    app.command("platform-key")(platform_key_command)
