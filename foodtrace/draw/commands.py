"""``foodtrace draw verify``: re-run a published draw and compare, trusting nobody."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from web3 import Web3

from foodtrace.draw import sampling
from foodtrace.draw.blocks import ChainBlocks

out = Console()
err = Console(stderr=True)


def load_published(source: str) -> dict[str, Any]:
    """A draw as ``GET /api/v1/draws/{draw_id}`` publishes it, from a URL or a file."""
    if source.startswith(("http://", "https://")):
        r = httpx.get(source, timeout=30)
        r.raise_for_status()
        data: dict[str, Any] = r.json()
        return data
    loaded: dict[str, Any] = json.loads(Path(source).read_text(encoding="utf-8"))
    return loaded


def verify_published(draw: dict[str, Any], blocks: ChainBlocks | None = None) -> list[str]:
    """Problems with a published draw (empty: it re-runs to the same list). With ``blocks``,
    the seed must also be that block's hash on that chain."""
    result = draw.get("result")
    if result is None:
        return ["the draw has no result yet"]
    commitment = draw["commitment"]
    problems = []
    try:
        sampling.verify(commitment, result)
    except sampling.DrawError as exc:
        problems.append(str(exc))
    if blocks is not None:
        if blocks.chain_id() != commitment.get("chain_id"):
            problems.append(
                f"expected chain id {commitment.get('chain_id')}, got {blocks.chain_id()}"
            )
        block = blocks.block(int(commitment["block_number"]))
        if block is None:
            problems.append(f"block {commitment['block_number']} does not exist on this chain")
        elif block.hash != result.get("block_hash"):
            problems.append(
                f"block {block.number} has hash {block.hash}, "
                f"the draw used {result.get('block_hash')}"
            )
    return problems


def register(app: typer.Typer) -> None:
    draw = typer.Typer(help="双随机 draws.", no_args_is_help=True)
    app.add_typer(draw, name="draw")

    @draw.command("verify")
    def verify(
        source: Annotated[str, typer.Argument(help="URL of /api/v1/draws/{id}, or a JSON file")],
        chain_url: Annotated[
            str | None,
            typer.Option("--chain-url", help="JSON-RPC URL: also check the seed block's hash"),
        ] = None,
    ) -> None:
        """Re-run a published draw from its commitment and seed; exit 1 on any difference."""
        published = load_published(source)
        blocks = ChainBlocks(Web3(Web3.HTTPProvider(chain_url))) if chain_url else None
        problems = verify_published(published, blocks)
        if problems:
            for problem in problems:
                err.print(f"[red]{problem}[/red]")
            raise typer.Exit(1)
        picks = sampling.run(published["commitment"], published["result"]["block_hash"])
        for p in picks:
            out.print(f"{p.party_id} ({p.grade}): {', '.join(p.inspectors)}")
        out.print(f"draw {published['draw_id']} verified: {len(picks)} merchants")
