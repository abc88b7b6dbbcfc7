"""Ledger commands: anchor, anchors, verify, audit (the log and every anchored root)."""

from __future__ import annotations

import time
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from foodtrace.config import Settings
from foodtrace.ledger.anchorer import Anchorer, journal
from foodtrace.ledger.chain import Chain, ChainError, connect
from foodtrace.ledger.deployment import ensure_deployment
from foodtrace.ledger.models import LOST
from foodtrace.ledger.verify import (
    ContractAnchors,
    StepError,
    audit_chain,
    log_key_problems,
    verify_entry,
)
from foodtrace.store.audit import AuditReport
from foodtrace.store.log import MerkleLog

DbOption = Annotated[str | None, typer.Option("--db", help="Database URL (default: Settings).")]
out = Console()
err = Console(stderr=True)


def _log(db: str | None) -> MerkleLog:
    return MerkleLog(db or None, settings=Settings())


def anchor(
    once: Annotated[
        bool, typer.Option("--once", help="Anchor what is there now, then exit.")
    ] = False,
    db: DbOption = None,
    redeploy: Annotated[
        bool,
        typer.Option(
            "--redeploy",
            help="If the contract recorded for this log has no code on the chain, deploy a new "
            "one and anchor the log again from a first root WITHOUT a consistency proof.",
        ),
    ] = False,
) -> None:
    """Anchor the log's checkpoints to the chain (in the foreground until Ctrl-C)."""
    with _log(db) as log:
        anchorer = Anchorer(log, redeploy=redeploy)
        try:
            if once:
                if not anchorer.lock.try_acquire():
                    err.print("[yellow]another anchorer holds the lock; nothing done[/yellow]")
                    raise typer.Exit(1)
                try:
                    result = anchorer.run_once(force=True)
                except ChainError as exc:
                    err.print(f"[red]{exc}[/red]")
                    raise typer.Exit(1) from None
                for size in result.resubmitted:
                    out.print(f"re-submitted lost anchor at size {size}")
                if result.anchored is not None:
                    out.print(f"anchored size {result.anchored}")
                else:
                    out.print("nothing new to anchor")
                return
            anchorer.start()
            out.print("anchoring; Ctrl-C to stop")
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
        finally:
            anchorer.close()


def anchors(db: DbOption = None) -> None:
    """List journaled anchors with their status."""
    with _log(db) as log:
        rows = journal(log.engine)
    table = Table("chain", "contract", "size", "status", "block", "gas", "tx", "sent")
    for dep, a in rows:
        table.add_row(
            str(dep.chain_id),
            dep.contract_address[:10] + "…" + (" (retired)" if dep.retired_at else ""),
            str(a.tree_size),
            a.status,
            "" if a.block_number is None else str(a.block_number),
            "" if a.gas_used is None else str(a.gas_used),
            "" if a.tx_hash is None else "0x" + a.tx_hash.hex()[:16] + "…",
            str(a.submissions),
        )
    out.print(table)


def _anchored_size_for(log: MerkleLog, chain: Chain, settings: Settings, index: int) -> int | None:
    """The smallest anchored size on chain that covers ``index`` (journal first, then the
    contract's latest)."""
    dep = ensure_deployment(log.engine, chain, settings, create=False)
    reader = ContractAnchors(chain.w3, dep.contract_address, dep.log_id)
    sizes = [
        a.tree_size
        for d, a in journal(log.engine, chain.chain_id)
        if d.id == dep.id and a.status != LOST and a.tree_size > index
    ]
    for size in sorted(sizes):
        if reader.root_at(size) is not None:
            return size
    latest, _ = reader.latest()
    return latest if latest > index else None


def verify(
    index: Annotated[int, typer.Argument(help="Entry index to verify against the chain.")],
    db: DbOption = None,
) -> None:
    """Verify one entry: content → leaf hash → inclusion → checkpoint signature → chain."""
    settings = Settings()
    with _log(db) as log, connect(settings) as chain:
        dep = ensure_deployment(log.engine, chain, settings, create=False)
        try:
            data = log.record(index).data
        except IndexError as exc:
            err.print(f"[red]✗ entry: {exc}[/red]")
            raise typer.Exit(1) from None
        size = _anchored_size_for(log, chain, settings, index)
        if size is None:
            err.print(f"[red]✗ chain: entry {index} is not covered by any anchor yet[/red]")
            raise typer.Exit(1)
        bundle = log.bundle(index, size)

        def report(step: str, detail: str) -> None:
            out.print(f"[green]✓[/green] {step}: {detail}")

        reader = ContractAnchors(chain.w3, dep.contract_address, dep.log_id)
        key_problems = log_key_problems(log.verifier_key(), reader.log_key_hash())
        if key_problems:
            out.print(f"[red]✗[/red] log key: {key_problems[0].detail}")
            raise typer.Exit(1)
        report("log key", f"the chain pins the key of {log.origin}")

        try:
            verify_entry(
                data,
                bundle,
                log.verifier_key(),
                chain.w3,
                dep.contract_address,
                dep.log_id,
                report=report,
            )
        except StepError as exc:
            out.print(f"[red]✗[/red] {exc.step}: {exc.reason}")
            raise typer.Exit(1) from None


def audit_against_chain(log: MerkleLog, settings: Settings | None = None) -> AuditReport:
    """The store audit extended with every anchored root on the configured chain."""
    settings = settings or log.settings
    with connect(settings) as chain:
        dep = ensure_deployment(log.engine, chain, settings, create=False)
        sizes = [a.tree_size for d, a in journal(log.engine, chain.chain_id) if d.id == dep.id]
        reader = ContractAnchors(chain.w3, dep.contract_address, dep.log_id)
        report = audit_chain(log, reader, sizes)
        return report.with_problems(log_key_problems(log.verifier_key(), reader.log_key_hash()))


def print_report(report: AuditReport) -> None:
    for problem in report.problems:
        out.print(f"[red]✗[/red] {problem}")
    if report.ok:
        out.print(
            f"[green]✓[/green] {report.size} entries, {report.checkpoints} checkpoints: "
            "data, tiles, signatures and anchored roots agree"
        )
    else:
        out.print(f"[red]first entry affected: {report.first.index if report.first else '?'}[/red]")


def audit_chain_command(db: DbOption = None) -> None:
    """Audit the whole log and check it against every anchored root on the chain."""
    with _log(db) as log:
        report = audit_against_chain(log)
    print_report(report)
    if not report.ok:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("anchor")(anchor)
    app.command("anchors")(anchors)
    app.command("verify")(verify)
    app.command("audit")(audit_chain_command)
