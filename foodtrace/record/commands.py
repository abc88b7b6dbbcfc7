"""Commands for producers, labs and the first regulator.

``init-regulator`` is the one write made outside the API (nobody exists yet to authorise
it). The others sign entries with the party's key file and POST them to the API, exactly
as any client would: ``--api URL --token T --key FILE``.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console

from foodtrace.config import Settings
from foodtrace.trace import entry as entry_mod
from foodtrace.trace import keys

out = Console()
err = Console(stderr=True)

ApiOption = Annotated[str, typer.Option("--api", envvar="FOODTRACE_API", help="API base URL.")]
TokenOption = Annotated[str, typer.Option("--token", envvar="FOODTRACE_TOKEN", help="API token.")]
KeyOption = Annotated[Path, typer.Option("--key", help="The party's Ed25519 private key file.")]
PartyOption = Annotated[str, typer.Option("--party", help="Your party id (the entries' author).")]

product_app = typer.Typer(help="Products and lots (producers).", no_args_is_help=True)
report_app = typer.Typer(help="Test reports (labs).", no_args_is_help=True)


def _post_entry(
    api: str, token: str, key_file: Path, party: str, path: str, type: str, body: dict[str, Any]
) -> dict[str, Any]:
    entry = entry_mod.sign(keys.read_private(key_file), type=type, author=party, body=body)
    payload = {"entry": {**entry.unsigned(), "sig": entry.sig}}
    return _request(api, token, "POST", path, json=payload)


def _request(api: str, token: str, method: str, path: str, **kw: Any) -> dict[str, Any]:
    """The JSON answer (``{}`` for 204); a problem is printed and exits. No ``token``: an
    unauthenticated request."""
    auth = {"Authorization": f"Bearer {token}"} if token else {}
    headers = {**auth, **kw.pop("headers", {})}
    try:
        r = httpx.request(method, api.rstrip("/") + path, headers=headers, timeout=30, **kw)
    except httpx.HTTPError as exc:
        err.print(f"[red]cannot reach {api}: {exc}[/red]")
        raise typer.Exit(2) from None
    if r.status_code >= 400:
        problem = r.json() if "json" in r.headers.get("content-type", "") else {}
        err.print(f"[red]{r.status_code} {problem.get('title', r.reason_phrase)}[/red]")
        if problem.get("detail"):
            err.print(problem["detail"])
        for e in problem.get("errors", []):
            err.print(f"  {e['pointer']}: {e['detail']}")
        raise typer.Exit(1)
    if r.status_code == 204:
        return {}
    result: dict[str, Any] = r.json()
    return result


def _done(result: dict[str, Any]) -> None:
    out.print_json(
        json.dumps(
            {"entry_index": result.get("entry_index"), "record": result.get("record")},
            ensure_ascii=False,
        )
    )


@product_app.command("register")
def product_register(
    gtin: Annotated[str, typer.Option(help="GTIN-8/12/13/14")],
    name: Annotated[str, typer.Option(help="Product name")],
    api: ApiOption,
    token: TokenOption,
    key: KeyOption,
    party: PartyOption,
    specification: Annotated[str | None, typer.Option()] = None,
    category: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Register a product (a signed ``product.register`` entry)."""
    body = {"gtin": gtin, "name": name, "specification": specification, "category": category}
    body = {k: v for k, v in body.items() if v is not None}
    _done(_post_entry(api, token, key, party, "/api/v1/products", "product.register", body))


@product_app.command("lot")
def lot_create(
    gtin: Annotated[str, typer.Option(help="The product's GTIN")],
    lot_code: Annotated[str, typer.Option("--lot", help="Lot code (GS1 AI 10)")],
    quantity: Annotated[float, typer.Option()],
    unit: Annotated[str, typer.Option()],
    api: ApiOption,
    token: TokenOption,
    key: KeyOption,
    party: PartyOption,
    produced: Annotated[str, typer.Option(help="Production date, YYYY-MM-DD")] = "",
) -> None:
    """Create a lot (a signed ``lot.create`` entry)."""
    body = {
        "gtin": gtin,
        "lot_code": lot_code,
        "production_date": produced or date.today().isoformat(),
        "quantity": quantity,
        "unit": unit,
    }
    _done(_post_entry(api, token, key, party, "/api/v1/lots", "lot.create", body))


@report_app.command("upload")
def report_upload(
    report: Annotated[Path, typer.Argument(help="JSON body of the report, without the PDF hash")],
    pdf: Annotated[Path, typer.Option(help="The report's PDF")],
    api: ApiOption,
    token: TokenOption,
    key: KeyOption,
    party: PartyOption,
) -> None:
    """Upload the PDF, then sign and record the report naming its SHA-256."""
    data = pdf.read_bytes()
    blob = _request(
        api,
        token,
        "POST",
        "/api/v1/blobs",
        content=data,
        headers={"content-type": "application/pdf"},
    )
    body = json.loads(report.read_text(encoding="utf-8"))
    body |= {"pdf_sha256": blob["sha256"], "pdf_size": blob["size"]}
    _done(_post_entry(api, token, key, party, "/api/v1/reports", "report.issue", body))


def init_regulator_command(
    party_id: Annotated[str, typer.Option("--party", help="The regulator's party id")],
    name: Annotated[str, typer.Option(help="e.g. 上海市市场监督管理局")],
    credit_code: Annotated[str, typer.Option("--credit-code", help="统一社会信用代码")],
    key_file: Annotated[Path, typer.Option("--key", help="Private key file to create")],
    db: Annotated[str | None, typer.Option("--db", help="Database URL (default: Settings)")] = None,
) -> None:
    """Create the first regulator: its key file, its party entry and an API token (shown
    once). Later parties are registered by a regulator through the API."""
    from foodtrace.party.service import init_regulator
    from foodtrace.store.log import MerkleLog

    with MerkleLog(db or None, settings=Settings()) as log:
        try:
            boot = init_regulator(
                log, party_id=party_id, name=name, credit_code=credit_code, key_file=key_file
            )
        except (ValueError, FileExistsError) as exc:
            err.print(f"[red]{exc}[/red]")
            raise typer.Exit(1) from None
    out.print(f"regulator  {boot.party_id}\nentry      {boot.entry_index}")
    out.print(f"key file   {boot.key_file} (key id {boot.key_id})")
    out.print(f"API token  {boot.token}\n[yellow]The token is shown only now: store it.[/yellow]")


def register(app: typer.Typer) -> None:
    app.command("init-regulator")(init_regulator_command)
    app.add_typer(product_app, name="product")
    app.add_typer(report_app, name="report")
