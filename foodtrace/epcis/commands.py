"""``foodtrace import PATH``: send EPCIS documents (a file or a folder of them) to the API's
capture endpoint, with a progress bar and a table of what was accepted and why the rest
was not. Each file is one capture: stored whole or not at all. ``foodtrace event`` records
one ObjectEvent built from options, through the same capture endpoint."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

SUFFIXES = (".json", ".jsonld")
TIMEOUT_S = 120.0


@dataclass(frozen=True)
class Outcome:
    """What happened to one file: ``accepted`` with the entries it became, or why not."""

    path: Path
    accepted: bool
    events: int
    entries: tuple[int, ...]
    reasons: tuple[str, ...]


def documents(path: Path) -> list[Path]:
    """``path`` itself, or the EPCIS files under the folder, in name order."""
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in SUFFIXES)
    return [path]


def _reasons(errors: Iterable[dict[str, Any]]) -> tuple[str, ...]:
    return tuple(f"{e.get('pointer') or '/'}: {e.get('detail')}" for e in errors)


CONTEXT = "https://ref.gs1.org/standards/epcis/epcis-context.jsonld"


def object_event_document(
    *,
    epcs: list[str],
    biz_step: str,
    event_time: str,
    time_zone_offset: str = "+08:00",
    action: str = "OBSERVE",
    disposition: str | None = None,
    biz_location: str | None = None,
    read_point: str | None = None,
) -> dict[str, Any]:
    """An EPCISDocument holding one ObjectEvent, as a producer's CLI would record it."""
    event: dict[str, Any] = {
        "type": "ObjectEvent",
        "eventTime": event_time,
        "eventTimeZoneOffset": time_zone_offset,
        "epcList": epcs,
        "action": action,
        "bizStep": biz_step,
    }
    if disposition:
        event["disposition"] = disposition
    if read_point:
        event["readPoint"] = {"id": read_point}
    if biz_location:
        event["bizLocation"] = {"id": biz_location}
    return {
        "@context": [CONTEXT],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": event_time,
        "epcisBody": {"eventList": [event]},
    }


def send(client: httpx.Client, path: Path, raw: bytes | None = None) -> Outcome:
    """POST one document (a file, or ``raw`` bytes named ``path``) to ``/epcis/capture`` and
    read the job it answers with."""
    try:
        raw = path.read_bytes() if raw is None else raw
        json.loads(raw)
    except (OSError, ValueError) as exc:
        return Outcome(path, False, 0, (), (f"not a JSON file: {exc}",))
    r = client.post("/epcis/capture", content=raw, headers={"Content-Type": "application/ld+json"})
    try:
        body = r.json()
    except ValueError:
        return Outcome(path, False, 0, (), (f"HTTP {r.status_code}: {r.text[:200]}",))
    if r.status_code != 202:
        reasons = _reasons(body.get("errors") or []) or (str(body.get("detail")),)
        return Outcome(path, False, 0, (), (f"HTTP {r.status_code} {body.get('title')}", *reasons))
    ok = body.get("status") == "succeeded"
    return Outcome(
        path,
        ok,
        int(body.get("eventCount", 0)),
        tuple(body.get("entryIndices", ())),
        () if ok else _reasons(body.get("errors") or []),
    )


def import_paths(
    client: httpx.Client, paths: list[Path], on_done: Callable[[Outcome], None] = lambda _: None
) -> list[Outcome]:
    out = []
    for path in paths:
        outcome = send(client, path)
        on_done(outcome)
        out.append(outcome)
    return out


def summary(outcomes: list[Outcome]) -> Table:
    table = Table(title="EPCIS import")
    table.add_column("file")
    table.add_column("result")
    table.add_column("events", justify="right")
    table.add_column("entries / reasons")
    for o in outcomes:
        if o.accepted:
            span = f"{o.entries[0]}–{o.entries[-1]}" if o.entries else ""
            table.add_row(o.path.name, "[green]accepted[/]", str(o.events), span)
        else:
            table.add_row(o.path.name, "[red]rejected[/]", str(o.events), "\n".join(o.reasons))
    return table


def register(app: typer.Typer) -> None:
    @app.command("import")
    def import_command(
        path: Annotated[Path, typer.Argument(exists=True, help="An EPCIS file or a folder")],
        api: Annotated[str, typer.Option(help="Base URL of the API")] = "http://127.0.0.1:8000",
        token: Annotated[
            str, typer.Option(envvar="FOODTRACE_TOKEN", help="The party's API token")
        ] = "",
    ) -> None:
        """Import EPCIS 2.0 documents: each file is captured whole or not at all."""
        files = documents(path)
        if not files:
            raise typer.BadParameter(f"no {'/'.join(SUFFIXES)} files under {path}")
        console = Console()
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        with (
            httpx.Client(base_url=api, headers=headers, timeout=TIMEOUT_S) as client,
            Progress(console=console) as progress,
        ):
            task = progress.add_task("capturing", total=len(files))
            outcomes = import_paths(client, files, lambda _: progress.advance(task))
        console.print(summary(outcomes))
        rejected = sum(not o.accepted for o in outcomes)
        console.print(f"{len(outcomes) - rejected} accepted, {rejected} rejected")
        if rejected:
            raise typer.Exit(1)

    @app.command("event")
    def event_command(
        epc: Annotated[list[str], typer.Option(help="EPC or Digital Link URI (repeatable)")],
        biz_step: Annotated[str, typer.Option(help="CBV bizStep, e.g. shipping")],
        disposition: Annotated[str | None, typer.Option(help="CBV disposition")] = None,
        location: Annotated[str | None, typer.Option(help="bizLocation (SGLN URN)")] = None,
        read_point: Annotated[str | None, typer.Option(help="readPoint (SGLN URN)")] = None,
        action: Annotated[str, typer.Option(help="ADD, OBSERVE or DELETE")] = "OBSERVE",
        time: Annotated[str, typer.Option(help="eventTime (RFC 3339); default now")] = "",
        api: Annotated[str, typer.Option(help="Base URL of the API")] = "http://127.0.0.1:8000",
        token: Annotated[
            str, typer.Option(envvar="FOODTRACE_TOKEN", help="The party's API token")
        ] = "",
    ) -> None:
        """Record one ObjectEvent (harvest, shipping, receiving, recall ...) for some EPCs."""
        from datetime import UTC, datetime

        when = time or datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        doc = object_event_document(
            epcs=epc,
            biz_step=biz_step,
            event_time=when,
            action=action,
            disposition=disposition,
            biz_location=location,
            read_point=read_point,
        )
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        with httpx.Client(base_url=api, headers=headers, timeout=TIMEOUT_S) as client:
            outcome = send(client, Path("event"), json.dumps(doc).encode())
        console = Console()
        if outcome.accepted:
            console.print(
                f"[green]recorded[/green] as entry {', '.join(map(str, outcome.entries))}"
            )
            return
        for reason in outcome.reasons:
            console.print(f"[red]{reason}[/red]")
        raise typer.Exit(1)
