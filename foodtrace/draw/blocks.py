"""Reading block hashes through the existing chain client (the draw's seed source)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from web3 import Web3


@dataclass(frozen=True)
class Block:
    number: int
    hash: str  # 0x-prefixed hex
    timestamp: int  # seconds since the epoch


class BlockSource(Protocol):
    def chain_id(self) -> int: ...

    def head(self) -> int: ...

    def block(self, number: int) -> Block | None: ...


@dataclass
class ChainBlocks:
    """A :class:`BlockSource` over a web3 connection: a ledger
    :class:`foodtrace.ledger.chain.Chain`'s ``w3``, or any read-only JSON-RPC provider."""

    w3: Web3

    def chain_id(self) -> int:
        return int(self.w3.eth.chain_id)

    def head(self) -> int:
        return int(self.w3.eth.block_number)

    def block(self, number: int) -> Block | None:
        if number > self.head():
            return None
        b = self.w3.eth.get_block(number)
        return Block(number, "0x" + bytes(b["hash"]).hex(), int(b["timestamp"]))
