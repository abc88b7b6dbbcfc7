"""``foodtrace witness``: run a witness (``init``, ``serve``, ``vkey``), and the log's side
(``collect``: submit the latest checkpoint to the configured witnesses)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from foodtrace.config import Settings

witness = typer.Typer(
    help="Witness cosignatures (C2SP tlog-witness): an independent party that cosigns "
    "checkpoints only if they extend the last one it cosigned.",
    no_args_is_help=True,
)
DirOpt = Annotated[Path, typer.Option("--dir", help="The witness's own directory")]


@witness.command("init")
def init_cmd(
    directory: DirOpt,
    name: Annotated[str, typer.Option(help="Witness name, e.g. witness.consumers.example/w1")],
    log: Annotated[
        list[str], typer.Option("--log", help="A log verifier key to witness (repeatable)")
    ],
) -> None:
    """Create a witness key and config; print its cosignature verifier key."""
    from foodtrace.witness.state import init

    typer.echo(init(directory, name, log))


@witness.command("vkey")
def vkey_cmd(directory: DirOpt) -> None:
    """Print the witness's cosignature verifier key."""
    from foodtrace.witness.state import WitnessState

    typer.echo(WitnessState(directory).vkey)


@witness.command("serve")
def serve_cmd(
    directory: DirOpt,
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8300,
) -> None:
    """Serve POST /add-checkpoint."""
    import uvicorn

    from foodtrace.witness.server import create_witness_app
    from foodtrace.witness.state import WitnessState

    app = create_witness_app(WitnessState(directory))
    uvicorn.run(app, host=host, port=port, log_level="warning")


@witness.command("collect")
def collect_cmd(
    every: Annotated[
        float, typer.Option(help="Keep collecting, this many seconds apart (0: once)", min=0)
    ] = 0.0,
) -> None:
    """Submit the log's latest checkpoint to FOODTRACE_WITNESSES and store the cosignatures
    (exit 1 if a witness did not cosign)."""
    import time

    from foodtrace.store.log import MerkleLog
    from foodtrace.witness.collect import collect, parse_endpoints

    settings = Settings()
    endpoints = parse_endpoints(settings.witnesses)
    if not endpoints:
        raise typer.BadParameter("no witnesses configured (FOODTRACE_WITNESSES)")
    with MerkleLog(settings=settings) as log:
        while True:
            outcomes = collect(log, endpoints)
            for o in outcomes:
                typer.echo(f"{o.witness}\t{o.size}\t{o.status}\t{o.detail}".rstrip())
            if not every:
                break
            time.sleep(every)
    if any(o.status != "cosigned" for o in outcomes):
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.add_typer(witness, name="witness")
