"""``foodtrace import``: a folder of documents, each accepted or rejected with its reasons."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import typer
from repos import EXAMPLES, Repository
from rich.console import Console

from foodtrace.epcis import commands


def test_import_a_folder(repository: Repository, testdata: Path, tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    for name in ("Example_9.6.1-ObjectEvent.jsonld", "Example_9.6.2-ObjectEvent.jsonld"):
        shutil.copy(testdata / EXAMPLES / name, folder / name)
    shutil.copy(  # the same events as the first file: refused as duplicates
        testdata / EXAMPLES / "Example_9.6.1-ObjectEvent-with-pseudo-SBDH-headers.jsonld",
        folder / "Z-repeat.jsonld",
    )
    bad = json.loads((testdata / EXAMPLES / "Example_9.6.1-ObjectEvent.jsonld").read_text())
    bad["epcisBody"]["eventList"][0]["bizStep"] = "shippping"
    (folder / "Y-bad.json").write_text(json.dumps(bad))
    (folder / "X-broken.json").write_text("{")
    (folder / "notes.txt").write_text("ignored")
    files = commands.documents(folder)
    assert [p.name for p in files] == [
        "Example_9.6.1-ObjectEvent.jsonld",
        "Example_9.6.2-ObjectEvent.jsonld",
        "X-broken.json",
        "Y-bad.json",
        "Z-repeat.jsonld",
    ]
    client = repository.client
    client.headers.update(repository.auth)
    seen: list[str] = []
    outcomes = commands.import_paths(client, files, lambda o: seen.append(o.path.name))
    assert seen == [p.name for p in files]
    result = {o.path.name: o for o in outcomes}
    assert result["Example_9.6.1-ObjectEvent.jsonld"].accepted
    assert result["Example_9.6.1-ObjectEvent.jsonld"].entries == (0, 1)
    assert result["Example_9.6.2-ObjectEvent.jsonld"].accepted
    assert "not a JSON file" in result["X-broken.json"].reasons[0]
    assert any("bizStep" in r and "shippping" in r for r in result["Y-bad.json"].reasons)
    assert all("already stored" in r for r in result["Z-repeat.jsonld"].reasons)
    console = Console(record=True, width=200)
    console.print(commands.summary(outcomes))
    text = console.export_text()
    assert text.count("accepted") == 2 and text.count("rejected") == 3


def test_command_is_registered() -> None:
    app = typer.Typer()
    commands.register(app)
    assert [c.name for c in app.registered_commands] == ["import", "event"]


def test_recorded_event_is_valid_epcis_and_captured(repository: Repository) -> None:
    from foodtrace.trace.epcis.validate import problems

    doc = commands.object_event_document(
        epcs=["urn:epc:id:sgtin:0614141.107346.2018"],
        biz_step="shipping",
        disposition="in_transit",
        biz_location="urn:epc:id:sgln:0614141.00888.0",
        event_time="2026-11-20T08:00:00.000+08:00",
    )
    assert problems(doc) == []
    client = repository.client
    client.headers.update(repository.auth)
    outcome = commands.send(client, Path("event"), json.dumps(doc).encode())
    assert outcome.accepted and outcome.events == 1
    again = commands.send(client, Path("event"), json.dumps(doc).encode())
    assert not again.accepted and all("already stored" in r for r in again.reasons)
