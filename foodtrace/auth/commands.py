"""Commands for tokens: ``tokens list|issue|rotate|revoke`` and ``enrol`` go through the
API like any client (``--api URL --token T``); ``enrol-code`` is for the operator on the
server, writing to the database directly, to recover a party (even the first regulator)
that lost its code or every token."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from foodtrace.config import Settings
from foodtrace.record.commands import ApiOption, TokenOption, _request
from foodtrace.trace import keys

out = Console()
err = Console(stderr=True)

tokens_app = typer.Typer(help="A party's API tokens (the party itself, or a regulator).")
PartyArg = Annotated[str, typer.Option("--party", help="Whose tokens (a party id)")]
TokenIdArg = Annotated[int, typer.Argument(help="The token's id (see `tokens list`)")]
ONCE = "[yellow]The token is shown only now: store it.[/yellow]"


def _base(party: str) -> str:
    return f"/api/v1/parties/{party}/tokens"


def _show_issued(answer: dict[str, Any]) -> None:
    meta = answer["metadata"]
    out.print(f"token id   {meta['id']} ({meta['name']}, expires {meta['expires_at']})")
    if answer.get("key_id"):
        out.print(f"key id     {answer['key_id']}")
    out.print(f"API token  {answer['token']}\n{ONCE}")


@tokens_app.command("list")
def list_command(party: PartyArg, api: ApiOption, token: TokenOption) -> None:
    """A party's tokens: names, expiry, last use; never the tokens themselves."""
    rows: Any = _request(api, token, "GET", _base(party))
    table = Table("id", "name", "role", "prefix", "created", "expires", "last used", "revoked")
    for t in rows:
        table.add_row(
            str(t["id"]),
            t["name"],
            t["role"],
            t["prefix"],
            t["created_at"],
            t["expires_at"],
            t["last_used_at"] or "-",
            t["revoked_at"] or "-",
        )
    out.print(table)


@tokens_app.command("issue")
def issue_command(
    party: PartyArg,
    name: Annotated[str, typer.Option(help="What the token is for, e.g. 收银台手机")],
    api: ApiOption,
    token: TokenOption,
    days: Annotated[int | None, typer.Option(help="Lifetime in days (default 90)")] = None,
) -> None:
    """Issue another token for the party."""
    body: dict[str, Any] = {"name": name} | ({"expires_in_days": days} if days else {})
    _show_issued(_request(api, token, "POST", _base(party), json=body))


@tokens_app.command("rotate")
def rotate_command(
    party: PartyArg,
    token_id: TokenIdArg,
    api: ApiOption,
    token: TokenOption,
    name: Annotated[str | None, typer.Option(help="A new name (default: kept)")] = None,
) -> None:
    """Replace a token by a new one; the old one stops working at once."""
    body = {"name": name} if name else None
    _show_issued(_request(api, token, "POST", f"{_base(party)}/{token_id}/rotate", json=body))


@tokens_app.command("revoke")
def revoke_command(
    party: PartyArg, token_id: TokenIdArg, api: ApiOption, token: TokenOption
) -> None:
    """Revoke a token."""
    _request(api, token, "DELETE", f"{_base(party)}/{token_id}")
    out.print(f"token {token_id} of {party} revoked")


def enrol_command(
    party: PartyArg,
    code: Annotated[str, typer.Option(help="The enrolment code from the registration")],
    api: ApiOption,
    name: Annotated[str, typer.Option(help="A name for the token")] = "enrolment",
    key_file: Annotated[
        Path | None,
        typer.Option("--new-key", help="Generate a signing key in this file and register it"),
    ] = None,
) -> None:
    """Trade a party's enrolment code for its own API token (and, with ``--new-key``, a
    signing key generated here, whose private half never leaves this machine)."""
    body: dict[str, Any] = {"party_id": party, "code": code, "name": name}
    key = None
    if key_file is not None:
        if key_file.exists():
            err.print(f"[red]{key_file} exists: choose a new file[/red]")
            raise typer.Exit(1)
        key = keys.generate()
        body["public_key"] = keys.public_to_b64(key)
    answer = _request(api, "", "POST", "/api/v1/enrolments", json=body)
    if key is not None and key_file is not None:
        keys.write_private(key_file, key)
        out.print(f"key file   {key_file}")
    _show_issued(answer)


def enrol_code_command(
    party: Annotated[str, typer.Argument(help="The party id")],
    db: Annotated[str | None, typer.Option("--db", help="Database URL (default: Settings)")] = None,
) -> None:
    """Issue a new one-time enrolment code for a party (operator, on the server); earlier
    codes stop working. Logged as a ``token.event`` by ``operator``."""
    from foodtrace.auth import codes, flows
    from foodtrace.store.db import session_factory
    from foodtrace.store.log import MerkleLog

    settings = Settings()
    with MerkleLog(db or None, settings=settings) as log:
        logger = flows.Logger(log, session_factory(log.engine), settings)
        try:
            code = codes.issue_code(logger, None, party)
        except flows.UnknownParty as exc:
            err.print(f"[red]{exc}[/red]")
            raise typer.Exit(1) from None
    out.print(f"party      {code.party_id}\nexpires    {code.expires_at.isoformat()}")
    out.print(
        f"code       {code.code}\n[yellow]The code is shown only now: give it to the party, "
        "who runs `foodtrace enrol`.[/yellow]"
    )


def register(app: typer.Typer) -> None:
    app.add_typer(tokens_app, name="tokens")
    app.command("enrol")(enrol_command)
    app.command("enrol-code")(enrol_code_command)
