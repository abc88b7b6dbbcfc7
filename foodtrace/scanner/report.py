"""Showing verdicts: rich tables for people, JSON for programs, and the exit code."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

from foodtrace.scanner.steps import FAILED, OK, CodeCheck, Step

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
MARK = {OK: "[green]✓[/green]", FAILED: "[red]✗[/red]", "skipped": "[dim]–[/dim]"}


def exit_code(checks: Sequence[CodeCheck]) -> int:
    """1 if any check failed (a security finding outranks the rest), else 2 if an image or
    code could not be read, else 0. Nothing read at all is a decoding error."""
    if any(not c.ok and not c.decode_error for c in checks):
        return EXIT_FAILED
    if not checks or any(c.decode_error for c in checks):
        return EXIT_USAGE
    return EXIT_OK


def _step_json(step: Step) -> dict[str, str]:
    return {"step": step.name, "status": step.status, "detail": step.detail}


def to_json(checks: Sequence[CodeCheck]) -> dict[str, Any]:
    return {
        "ok": exit_code(checks) == EXIT_OK,
        "exit_code": exit_code(checks),
        "summary": summary(checks),
        "codes": [
            {
                "source": c.source,
                "text": c.text,
                "kind": c.kind,
                "subject": c.subject,
                "via": c.via,
                "ok": c.ok,
                "decode_error": c.decode_error or None,
                "failures": c.failures(),
                "steps": [_step_json(s) for s in c.steps],
                "records": [
                    {
                        "index": r.index,
                        "type": r.type,
                        "author": r.author,
                        "ok": r.ok,
                        "steps": [_step_json(s) for s in r.steps],
                    }
                    for r in c.records
                ],
            }
            for c in checks
        ],
    }


def summary(checks: Sequence[CodeCheck]) -> dict[str, int]:
    codes = [c for c in checks if not c.decode_error]
    return {
        "codes": len(codes),
        "verified": sum(c.ok for c in codes),
        "failed": sum(not c.ok for c in codes),
        "unreadable": sum(bool(c.decode_error) for c in checks),
        "records": sum(len(c.records) for c in codes),
    }


def detail_table(check: CodeCheck) -> Table:
    verdict = "[green]verified[/green]" if check.ok else "[red]NOT verified[/red]"
    title = f"{check.source}: {check.kind or '?'} {check.subject} — {verdict}"
    table = Table("record", "step", "", "detail", title=title, title_justify="left")
    for s in check.steps:
        table.add_row("code", s.name, MARK.get(s.status, s.status), s.detail)
    for r in check.records:
        for i, s in enumerate(r.steps):
            label = f"#{r.index} {r.type}" if i == 0 else ""
            table.add_row(label, s.name, MARK.get(s.status, s.status), s.detail)
    return table


def print_checks(console: Console, checks: Sequence[CodeCheck], *, details: bool) -> None:
    """Per-code tables (all, or only the failing ones), unreadable inputs, then a summary."""
    for c in checks:
        if c.decode_error:
            console.print(f"[yellow]? {c.source}: {c.decode_error}[/yellow]")
        elif details or not c.ok:
            console.print(detail_table(c))
    totals = summary(checks)
    table = Table("codes", "verified", "failed", "unreadable", "records checked", title="summary")
    table.add_row(
        str(totals["codes"]),
        f"[green]{totals['verified']}[/green]",
        f"[red]{totals['failed']}[/red]" if totals["failed"] else "0",
        str(totals["unreadable"]),
        str(totals["records"]),
    )
    console.print(table)
    for c in checks:
        for failure in c.failures():
            console.print(f"[red]✗ {c.source} ({c.subject}): {failure}[/red]")
