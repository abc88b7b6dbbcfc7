"""``foodtrace labels lot|merchant|serials``: codes rendered locally with the authority key
file, no server needed. The output format follows ``--out``'s suffix: .png, .svg or .pdf (an
A4 label sheet). ``serials`` mints new serials and, unless ``--no-record``, records them in
the configured database so the resolver knows them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from rich.console import Console

from foodtrace.config import Settings
from foodtrace.labels import service
from foodtrace.labels.service import ImageFormat, NamedCode
from foodtrace.store.keyfiles import load_or_create_key
from foodtrace.trace.codes import (
    CodeError,
    Lot,
    lot_code,
    merchant_code,
    normalize_gtin,
    serial_code,
)

err = Console(stderr=True)
T = TypeVar("T")

labels_app = typer.Typer(
    help="Print 食安码 labels: QR PNG/SVG or A4 PDF sheets.", no_args_is_help=True
)

OutOption = Annotated[Path, typer.Option("--out", help="Output file: .png, .svg or .pdf.")]
KeyOption = Annotated[
    Path | None,
    typer.Option("--key", help="Authority key file (default: data_dir/code-authority.key)."),
]
BaseOption = Annotated[
    str | None, typer.Option("--base-url", help="Resolver base URL (default: public_base_url).")
]
NameOption = Annotated[str, typer.Option("--name", help="Name printed on the label.")]


def _format(path: Path, *, single: bool) -> ImageFormat:
    suffix = path.suffix.lower().lstrip(".")
    try:
        fmt = ImageFormat(suffix)
    except ValueError:
        raise typer.BadParameter(
            f"expected a .png, .svg or .pdf file, got {path.name!r}", param_hint="--out"
        ) from None
    if not single and fmt is not ImageFormat.PDF:
        raise typer.BadParameter("several codes go on a .pdf label sheet", param_hint="--out")
    return fmt


def _key(settings: Settings, key_file: Path | None) -> Ed25519PrivateKey:
    if key_file is not None:
        return load_or_create_key(key_file)
    return service.authority_key(settings)


def _write(path: Path, codes: list[NamedCode]) -> None:
    fmt = _format(path, single=len(codes) == 1)
    if fmt is ImageFormat.PDF:
        data = service.sheet(codes)
    else:
        [named] = codes
        data = service.render(named.code, fmt)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    for named in codes:
        typer.echo(named.code.url)  # unwrapped: one URL a line, for scripts
    err.print(f"wrote {len(codes)} code(s) to {path}")


def _issue(make: Callable[[], T]) -> T:
    """``make()``, with a malformed GTIN, lot or id reported as a bad parameter."""
    try:
        return make()
    except CodeError as exc:
        raise typer.BadParameter(str(exc)) from exc


@labels_app.command("merchant")
def merchant_command(
    merchant_id: Annotated[str, typer.Argument(help="The shop's id (e.g. its USCC).")],
    out_file: OutOption,
    name: NameOption = "",
    key_file: KeyOption = None,
    base_url: BaseOption = None,
) -> None:
    """A shop's merchant code."""
    settings = Settings()
    key = _key(settings, key_file)
    base = base_url or settings.public_base_url
    code = _issue(lambda: merchant_code(base, merchant_id, key))
    _write(out_file, [NamedCode(code, name or merchant_id)])


@labels_app.command("lot")
def lot_command(
    gtin: Annotated[str, typer.Argument(help="GTIN-8/12/13/14.")],
    lot: Annotated[str, typer.Argument(help="Lot number (GS1 AI 10).")],
    out_file: OutOption,
    name: NameOption = "",
    key_file: KeyOption = None,
    base_url: BaseOption = None,
) -> None:
    """A lot's code."""
    settings = Settings()
    key = _key(settings, key_file)
    base = base_url or settings.public_base_url
    code = _issue(lambda: lot_code(base, gtin, lot, key))
    _write(out_file, [NamedCode(code, name or f"批号{lot}")])


@labels_app.command("serials")
def serials_command(
    gtin: Annotated[str, typer.Argument(help="GTIN-8/12/13/14.")],
    out_file: OutOption,
    lot: Annotated[str, typer.Option("--lot", help="The lot the serials belong to.")],
    count: Annotated[int, typer.Option("--count", min=1, max=service.MAX_SERIALS_PER_REQUEST)] = 18,
    name: NameOption = "",
    record: Annotated[
        bool, typer.Option("--record/--no-record", help="Record the serials in the database.")
    ] = True,
    key_file: KeyOption = None,
    base_url: BaseOption = None,
) -> None:
    """Mint COUNT new serial codes for a lot, as a PDF sheet (or one PNG/SVG if COUNT is 1)."""
    settings = Settings()
    key = _key(settings, key_file)
    base = base_url or settings.public_base_url
    # validates the GTIN (to 14 digits) and the lot before anything is minted
    full_gtin = _issue(lambda: Lot(normalize_gtin(gtin), lot)).gtin
    if record:
        from sqlalchemy.orm import Session

        from foodtrace.store.db import make_engine

        engine = make_engine(settings.resolved_database_url)
        try:
            with Session(engine) as session, session.begin():
                serials = service.issue_serials(session, full_gtin, lot, count, "cli")
        finally:
            engine.dispose()
    else:
        serials = [service.new_serial() for _ in range(count)]
    codes = [serial_code(base, full_gtin, s, key) for s in serials]
    _write(out_file, [NamedCode(c, name or f"批号{lot}") for c in codes])


def register(app: typer.Typer) -> None:
    app.add_typer(labels_app, name="labels")
