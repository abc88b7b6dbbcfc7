"""Log commands: keys, append, checkpoint, log-key, proof, audit."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress

from foodtrace.config import Settings
from foodtrace.store.authors import register_key
from foodtrace.store.ingest import Ingestor
from foodtrace.store.log import MerkleLog
from foodtrace.trace import keys
from foodtrace.trace.checkpoint import verify_checkpoint
from foodtrace.trace.errors import VerificationError
from foodtrace.trace.merkle import verify_inclusion

DbOption = Annotated[str | None, typer.Option("--db", help="Database URL (default: Settings).")]
keys_app = typer.Typer(help="Ed25519 signing keys of authors.", no_args_is_help=True)
out = Console()
err = Console(stderr=True)


def _log(db: str | None) -> MerkleLog:
    return MerkleLog(db or None, settings=Settings())


@keys_app.command("create")
def keys_create(
    path: Annotated[Path, typer.Argument(help="Private key file to write (never overwritten).")],
) -> None:
    """Write a new Ed25519 private key file; print its key id and public key."""
    key = keys.generate()
    try:
        keys.write_private(path, key)
    except FileExistsError:
        err.print(f"[red]{path} exists: refusing to overwrite a key[/red]")
        raise typer.Exit(1) from None
    typer.echo(f"key id     {keys.key_id(key)}\npublic key {keys.public_to_b64(key)}")


@keys_app.command("register")
def keys_register(
    author: Annotated[str, typer.Option("--author", help="Party id of the key's owner.")],
    public_key: Annotated[str, typer.Option("--public-key", help="Base64 of the 32-byte key.")],
    db: DbOption = None,
) -> None:
    """Register an author's public key so the log accepts entries it signed."""
    with _log(db) as log:
        try:
            info = register_key(log.engine, author, public_key)
        except (VerificationError, ValueError) as exc:
            err.print(f"[red]{exc}[/red]")
            raise typer.Exit(1) from None
    out.print(f"registered key {info.key_id} for author {info.author}")


def append(
    file: Annotated[Path, typer.Argument(help="Signed entries, one JSON object a line.")],
    db: DbOption = None,
    workers: Annotated[int | None, typer.Option(help="Verification processes.")] = None,
) -> None:
    """Verify and append signed entries; a rejected line changes nothing."""
    data = file.read_bytes().splitlines()
    with _log(db) as log, Ingestor(log, workers) as ingestor, Progress(console=err) as bar:
        task = bar.add_task("verifying and appending", total=len(data))
        report = ingestor.ingest(data, on_progress=lambda n: bar.advance(task, n))
    out.print(f"accepted {len(report.accepted)}, rejected {len(report.rejected)}")
    for r in report.rejected:
        typer.echo(f"line {r.line}: {r.reason}")
    if report.rejected:
        raise typer.Exit(1)


def checkpoint(db: DbOption = None) -> None:
    """Print the latest signed checkpoint, issuing one if the log grew."""
    with _log(db) as log:
        typer.echo(log.issue_checkpoint().note, nl=False)


def log_key(db: DbOption = None) -> None:
    """Print the log's verifier key (name+hex+base64)."""
    with _log(db) as log:
        typer.echo(log.verifier_key())


def proof(
    index: Annotated[int, typer.Argument(help="Entry index.")],
    size: Annotated[int | None, typer.Option(help="Checkpoint size (default: latest).")] = None,
    format: Annotated[str, typer.Option("--format", help="text (C2SP) or json.")] = "text",
    verify: Annotated[bool, typer.Option("--verify", help="Verify before printing.")] = False,
    db: DbOption = None,
) -> None:
    """Print a proof bundle for an entry."""
    if format not in ("text", "json"):
        err.print(f"--format must be text or json, got {format!r}")
        raise typer.Exit(2)
    with _log(db) as log:
        try:
            bundle = log.bundle(index, size)
            if verify:
                cp = verify_checkpoint(bundle.checkpoint, [log.verifier_key()])
                leaf = log.record(index).hash
                verify_inclusion(index, cp.size, leaf, list(bundle.proof), cp.root)
        except (LookupError, ValueError, VerificationError) as exc:
            err.print(f"[red]{exc}[/red]")
            raise typer.Exit(1) from None
    if format == "json":
        body = bundle.to_json()
        if verify:
            body["verified"] = True
            body["leaf_hash"] = base64.b64encode(leaf).decode()
        typer.echo(json.dumps(body, indent=2))
    else:
        typer.echo(bundle.to_text(), nl=False)
        if verify:
            err.print(f"verified: entry {index} is in the checkpoint of size {cp.size}")


def audit(db: DbOption = None) -> None:
    """Recompute the log from its data alone (no chain); exit non-zero naming the first
    mismatch. `foodtrace audit` does this and also checks every anchored root."""
    with _log(db) as log:
        report = log.audit()
    if report.ok:
        out.print(f"audit ok: {report.size} entries, {report.checkpoints} checkpoints")
        return
    first = report.first
    out.print(f"audit FAILED: first affected entry {first.index if first else '?'}")
    for p in report.problems:
        typer.echo(str(p))
    raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.add_typer(keys_app, name="keys")
    app.command("append")(append)
    app.command("checkpoint")(checkpoint)
    app.command("log-key")(log_key)
    app.command("proof")(proof)
    app.command("audit-log")(audit)
