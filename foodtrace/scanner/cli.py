"""``foodtrace-scan`` (also ``foodtrace scan``): read 食安码 from photos and verify them.

Trusts only what it is pinned to: the code authority's public keys, the log's verifier key,
and a chain RPC URL with the TraceAnchor contract's address. Pins come from the options,
the ``FOODTRACE_SCAN_*`` environment, or the state file (``--save`` stores the given ones).
Exit codes: 0 all verified, 1 a check failed, 2 usage or an unreadable image or code.
"""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Annotated

import typer
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from foodtrace.scanner.chain import ContractReader, RpcClient, is_address
from foodtrace.scanner.client import Server
from foodtrace.scanner.decode import DecodeError, decode_image
from foodtrace.scanner.report import EXIT_FAILED, EXIT_USAGE, exit_code, print_checks, to_json
from foodtrace.scanner.state import (
    ScanState,
    StateError,
    default_state_path,
    load_state,
    save_state,
)
from foodtrace.scanner.steps import CodeCheck
from foodtrace.scanner.verify import Scanner, Trust
from foodtrace.trace import keys
from foodtrace.trace.checkpoint import parse_verifier_key
from foodtrace.trace.codes import Code
from foodtrace.trace.errors import VerificationError
from foodtrace.trace.logkey import log_id

DEFAULT_WORKERS = 8  # decoding releases the GIL; checking waits on the network

out = Console()
err = Console(stderr=True)


class UsageError(ValueError):
    """A pin or an input is missing or malformed (exit 2)."""


def _text_of(value: str) -> str:
    """The value itself, or the contents of the file it names."""
    path = Path(value).expanduser()
    if len(value) < 4096 and path.is_file():
        return path.read_text("utf-8").strip()
    return value.strip()


def authority_key(value: str) -> tuple[str, Ed25519PublicKey]:
    """A pinned authority key (base64 of the raw 32 bytes, or a PEM public key), as the
    base64 the state file keeps and the key itself."""
    text = _text_of(value)
    try:
        if text.startswith("-----BEGIN PUBLIC KEY-----"):
            loaded = serialization.load_pem_public_key(text.encode())
            if not isinstance(loaded, Ed25519PublicKey):
                raise UsageError(f"--authority-key {value!r}: not an Ed25519 public key")
            return keys.public_to_b64(loaded), loaded
        return text, keys.public_from_b64(text)
    except (ValueError, VerificationError) as exc:
        raise UsageError(
            f"--authority-key {value!r}: expected base64 of a 32-byte Ed25519 public key, a "
            f"PEM public key, or a file holding one ({exc})"
        ) from exc


def log_verifier_key(value: str) -> str:
    text = _text_of(value)
    try:
        parse_verifier_key(text)
    except VerificationError as exc:
        raise UsageError(
            f"--log-key: expected name+hex8+base64 or a file holding it ({exc})"
        ) from exc
    return text


def _pins(
    state: ScanState, authority: list[str], log_key: str, rpc: str, contract: str
) -> tuple[list[Ed25519PublicKey], str, str, str]:
    """The pins to use (options over the state file), storing the given ones in ``state``."""
    if authority:
        parsed = [authority_key(a) for a in authority]
        state.authority_keys = [b64 for b64, _ in parsed]
    if log_key:
        state.log_key = log_verifier_key(log_key)
    state.rpc = rpc or state.rpc
    state.contract = contract or state.contract
    missing = [
        name
        for name, value in (
            ("--authority-key", state.authority_keys),
            ("--log-key", state.log_key),
            ("--rpc", state.rpc),
            ("--contract", state.contract),
        )
        if not value
    ]
    if missing:
        raise UsageError(
            f"missing pins: {', '.join(missing)} (give them, or save them with --save)"
        )
    if not is_address(state.contract):
        raise UsageError(f"--contract: expected a 20-byte hex address, got {state.contract!r}")
    return (
        [authority_key(k)[1] for k in state.authority_keys],
        state.log_key,
        state.rpc,
        state.contract,
    )


def _inputs(paths: list[Path], texts: list[str]) -> list[tuple[str, Path | str]]:
    items: list[tuple[str, Path | str]] = [("text", t) for t in texts]
    for p in paths:
        if not p.exists():
            raise UsageError(f"{p}: no such file or folder")
        items.append(("folder" if p.is_dir() else "file", p))
    if not items:
        raise UsageError("nothing to scan: give image files, folders, or --text CODE")
    return items


def _scan_image(scanner: Scanner, path: Path, found: list[str] | DecodeError) -> list[CodeCheck]:
    if isinstance(found, DecodeError):
        return [CodeCheck(source=str(path), decode_error=str(found))]
    if not found:
        return [CodeCheck(source=str(path), decode_error="no QR code found")]
    return [scanner.check_text(text, str(path)) for text in found]


def _check_image(scanner: Scanner, path: Path, min_codes: int) -> list[CodeCheck]:
    try:
        found: list[str] | DecodeError = [d.text for d in decode_image(path, min_codes=min_codes)]
    except DecodeError as exc:
        found = exc
    return _scan_image(scanner, path, found)


def run_scan(
    scanner: Scanner,
    items: list[tuple[str, Path | str]],
    *,
    min_codes: int,
    progress: bool,
    workers: int = DEFAULT_WORKERS,
) -> list[CodeCheck]:
    """Check every input, in order; a folder's images are decoded and checked by ``workers``
    threads (the results keep the folder's sorted order)."""
    checks: list[CodeCheck] = []
    for kind, item in items:
        if kind == "text":
            checks.append(scanner.check_text(str(item), "text"))
        elif kind == "file":
            checks += _check_image(scanner, Path(item), min_codes)
        else:
            folder = Path(item)
            images = decode_folder_paths(folder)
            with (
                Progress(
                    TextColumn("[bold]{task.description}"),
                    BarColumn(),
                    MofNCompleteColumn(),
                    TextColumn("{task.fields[current]}"),
                    console=err,
                    disable=not progress,
                    transient=False,
                ) as bar,
                ThreadPoolExecutor(max_workers=workers, thread_name_prefix="scan") as pool,
            ):
                task = bar.add_task(f"scanning {folder}", total=len(images), current="")
                futures = [pool.submit(_check_image, scanner, p, min_codes) for p in images]
                for path, future in zip(images, futures, strict=True):
                    checks += future.result()
                    bar.update(task, advance=1, current=path.name)
    return checks


def decode_folder_paths(folder: Path) -> list[Path]:
    from foodtrace.scanner.decode import IMAGE_SUFFIXES

    return [
        p for p in sorted(folder.rglob("*")) if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
    ]


def scan(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Image files or folders of images")
    ] = None,
    text: Annotated[
        list[str] | None, typer.Option("--text", help="A code's text (URL), instead of a photo")
    ] = None,
    authority: Annotated[
        list[str] | None,
        typer.Option(
            "--authority-key",
            help="Pinned code authority key: base64 public key or a file (repeatable)",
            envvar="FOODTRACE_SCAN_AUTHORITY_KEY",
        ),
    ] = None,
    log_key: Annotated[
        str,
        typer.Option(
            "--log-key",
            help="Pinned log verifier key (name+hex+base64) or a file",
            envvar="FOODTRACE_SCAN_LOG_KEY",
        ),
    ] = "",
    rpc: Annotated[
        str, typer.Option("--rpc", help="Chain JSON-RPC URL", envvar="FOODTRACE_SCAN_RPC")
    ] = "",
    contract: Annotated[
        str,
        typer.Option("--contract", help="TraceAnchor address", envvar="FOODTRACE_SCAN_CONTRACT"),
    ] = "",
    server: Annotated[
        str, typer.Option("--server", help="Ask this server instead of the code's resolver")
    ] = "",
    state_file: Annotated[
        Path | None,
        typer.Option("--state", help="State file (default ~/.foodtrace-scan/state.json)"),
    ] = None,
    save: Annotated[
        bool, typer.Option("--save", help="Store the given pins in the state file")
    ] = False,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON, not tables")] = False,
    min_codes: Annotated[
        int, typer.Option("--min-codes", min=1, help="Codes to expect per image")
    ] = 1,
    workers: Annotated[
        int, typer.Option("--workers", min=1, help="Images of a folder checked in parallel")
    ] = DEFAULT_WORKERS,
    witness: Annotated[
        list[str] | None,
        typer.Option(
            "--witness",
            help="A witness's cosignature verifier key, or NAME=VKEY (repeatable)",
            envvar="FOODTRACE_SCAN_WITNESS",
        ),
    ] = None,
    witnesses_required: Annotated[
        int, typer.Option("--witnesses-required", min=0, help="Cosignatures required (k of n)")
    ] = 0,
    revocations: Annotated[
        str,
        typer.Option(
            "--revocations",
            help="server: prove the revocations the server names; log: also read every "
            "entry of the log (once per run, checked against the checkpoint) to catch a "
            "revocation the server hides",
        ),
    ] = "server",
) -> None:
    """Decode 食安码 from photos and verify each against the pinned keys and the chain."""
    path = state_file or default_state_path()
    try:
        state = load_state(path)
        pinned = _pins(state, authority or [], log_key, rpc, contract)
        items = _inputs(paths or [], text or [])
        if revocations not in ("server", "log"):
            raise UsageError(f"--revocations: expected server or log, got {revocations!r}")
    except (UsageError, StateError) as exc:
        err.print(f"[red]usage: {exc}[/red]")
        raise typer.Exit(EXIT_USAGE) from None
    if save:
        save_state(path, state)
    authority_keys, verifier, rpc_url, address = pinned
    try:
        witness_keys = _witness_keys(witness or [], witnesses_required)
    except UsageError as exc:
        err.print(f"[red]usage: {exc}[/red]")
        raise typer.Exit(EXIT_USAGE) from None
    chain = RpcClient(rpc_url)
    anchors = ContractReader(chain, address, log_id(parse_verifier_key(verifier).name))
    servers: dict[str, Server] = {}
    servers_lock = threading.Lock()

    def server_for(code: Code) -> Server:
        base = server or code.base_url
        with servers_lock:
            if base not in servers:
                servers[base] = Server(base)
            return servers[base]

    scanner = Scanner(
        Trust(authority_keys, verifier, anchors),
        state,
        server_for,
        revocations_from_log=revocations == "log",
    )
    try:
        checks = run_scan(
            scanner, items, min_codes=min_codes, progress=not json_out, workers=workers
        )
        unwitnessed = _unwitnessed(servers, state, verifier, witness_keys, witnesses_required)
    finally:
        chain.close()
        for s in servers.values():
            s.close()
    save_state(path, state)  # the checkpoints seen, verified ones only
    if json_out:
        typer.echo(json.dumps(to_json(checks), ensure_ascii=False, indent=2))
    else:
        print_checks(out, checks, details=not any(k == "folder" for k, _ in items))
    for problem in unwitnessed:
        err.print(f"[red]✗ witnesses: {problem}[/red]")
    raise typer.Exit(EXIT_FAILED if unwitnessed else exit_code(checks))


def _witness_keys(values: list[str], required: int) -> list[str]:
    """``--witness`` values as verifier keys (``NAME=VKEY`` must name the key's own name)."""
    from foodtrace.trace.cosignature import parse_cosigner_vkey

    out = []
    for value in values:
        name, sep, vkey = value.partition("=")
        vkey = vkey if sep and "+" not in name else value
        try:
            parsed = parse_cosigner_vkey(vkey)
        except VerificationError as exc:
            raise UsageError(str(exc)) from exc
        if sep and "+" not in name and parsed.name != name:
            raise UsageError(f"--witness {name}=...: the key is named {parsed.name!r}")
        out.append(vkey)
    if required > len(out):
        raise UsageError(f"--witnesses-required {required} but {len(out)} --witness given")
    return out


def _unwitnessed(
    servers: dict[str, Server],
    state: ScanState,
    verifier: str,
    witness_keys: list[str],
    required: int,
) -> list[str]:
    """Problems with each server's witnessed checkpoint (none when nothing is required)."""
    from foodtrace.trace.checkpoint import parse_body
    from foodtrace.trace.witnessed import require_witnessed

    if not required:
        return []
    problems = []
    origin = parse_verifier_key(verifier).name
    seen = state.checkpoints.get(origin)
    trusted = parse_body(seen.note.split("\n\n")[0] + "\n") if seen is not None else None
    for base, server in servers.items():
        try:
            # The largest cosigned checkpoint: the latest may be too new to be cosigned yet.
            answer = server.get_json("/api/v1/log/checkpoint?witnessed=true")
            note = str(answer["checkpoint"])
            cp, cosigs = require_witnessed(
                note, verifier, witness_keys, required, trusted, server.consistency
            )
        except (VerificationError, LookupError, KeyError, TypeError) as exc:
            problems.append(f"{base}: {exc}")
            continue
        names = ", ".join(c.name for c in cosigs)
        err.print(f"[green]✓ witnesses: size {cp.size} cosigned by {names}[/green]")
    if not servers:
        problems.append("no server was asked, so no witnessed checkpoint was seen")
    return problems


app = typer.Typer(
    name="foodtrace-scan",
    help="Verify 食安码 QR codes without trusting the server.",
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command()(scan)


if __name__ == "__main__":
    app()
