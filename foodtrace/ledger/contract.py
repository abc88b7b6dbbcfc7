"""The TraceAnchor contract client: deploy, register logs, anchor roots, read them back.

The contract refuses bad anchors with custom errors (``NotAnchorer``, ``SizeNotIncreasing``,
``InconsistentRoot``, ...). Those reverts are decoded here into :class:`AnchorRefused` with
the error's name and arguments, so callers and tests can tell exactly why.

:func:`read_root` is the one-call read path the scanner and the pages share: it needs only
a web3 connection, the contract address, a log id and a size; no operator key.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_typing import ChecksumAddress
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from hexbytes import HexBytes
from web3 import Web3
from web3.contract import Contract
from web3.exceptions import ContractLogicError
from web3.types import TxParams, TxReceipt

from foodtrace.ledger.chain import Chain, ChainError
from foodtrace.trace.logkey import log_id as log_id  # the pure core's, shared with the scanner

ARTIFACT = "TraceAnchor.json"
ZERO_ROOT = b"\x00" * 32


class AnchorRefused(ChainError):
    """The contract reverted with one of its custom errors.

    ``name`` is the Solidity error name (e.g. ``"InconsistentRoot"``) and ``args`` its
    arguments by parameter name, decoded (bytes32 as bytes, addresses checksummed).
    """

    def __init__(self, name: str, args: dict[str, Any]) -> None:
        self.name = name
        self.args_by_name = args
        shown = ", ".join(f"{k}={_show(v)}" for k, v in args.items())
        super().__init__(f"contract refused: {name}({shown})")


def _show(value: Any) -> str:
    return "0x" + value.hex() if isinstance(value, bytes) else str(value)


@dataclass(frozen=True)
class TxSummary:
    """What a caller needs to find and re-check a mined transaction."""

    tx_hash: bytes
    block_number: int
    block_hash: bytes
    gas_used: int


@dataclass(frozen=True)
class AnchoredRoot:
    """An anchored root as the contract stores it."""

    tree_size: int
    root: bytes
    block_number: int
    timestamp: int


@dataclass(frozen=True)
class AnchorTx:
    """The transaction that anchored a (log, size), found from its ``Anchored`` event."""

    tx_hash: bytes
    block_number: int
    block_hash: bytes
    root: bytes
    timestamp: int


@cache
def artifact() -> dict[str, Any]:
    """The committed compiled contract (abi, bytecode, deployedBytecode, compiler, settings)."""
    text = resources.files("foodtrace.ledger").joinpath("artifacts", ARTIFACT).read_text()
    data: dict[str, Any] = json.loads(text)
    return data


@cache
def _errors_by_selector() -> dict[bytes, tuple[str, list[str], list[str]]]:
    table = {}
    for item in artifact()["abi"]:
        if item["type"] == "error":
            types = [i["type"] for i in item["inputs"]]
            names = [i["name"] for i in item["inputs"]]
            selector = keccak(text=f"{item['name']}({','.join(types)})")[:4]
            table[selector] = (item["name"], types, names)
    return table


def decode_refusal(data: bytes) -> AnchorRefused | None:
    """The contract's custom error encoded in revert ``data``, or None if it is not one."""
    known = _errors_by_selector().get(bytes(data[:4]))
    if known is None:
        return None
    name, types, names = known
    values = abi_decode(types, bytes(data[4:]))
    args = {
        n: to_checksum_address(v) if t == "address" else v
        for n, t, v in zip(names, types, values, strict=True)
    }
    return AnchorRefused(name, args)


def _revert_data(exc: ContractLogicError) -> bytes | None:
    data = exc.data
    if isinstance(data, dict):
        data = data.get("data")
    if not isinstance(data, str) or not data.startswith("0x"):
        return None
    return bytes(HexBytes(data))


def _refused(exc: ContractLogicError) -> ChainError:
    data = _revert_data(exc)
    refusal = decode_refusal(data) if data is not None else None
    return refusal or ChainError(f"contract call reverted: {exc}")


def _contract(w3: Web3, address: str) -> Contract:
    return w3.eth.contract(address=to_checksum_address(address), abi=artifact()["abi"])


def read_root(w3: Web3, address: str, log: bytes, size: int) -> bytes | None:
    """The root anchored for ``log`` at ``size``, or None if that size was never anchored."""
    root, _block, _ts = _contract(w3, address).functions.anchorAt(log, size).call()
    return bytes(root) if bytes(root) != ZERO_ROOT else None


def read_log_key_hash(w3: Web3, address: str, log: bytes) -> bytes:
    """The log key hash the chain pins for ``log`` (32 zero bytes for an unknown log)."""
    return bytes(_contract(w3, address).functions.logKeyHash(log).call())


def _summary(receipt: TxReceipt) -> TxSummary:
    return TxSummary(
        tx_hash=bytes(receipt["transactionHash"]),
        block_number=int(receipt["blockNumber"]),
        block_hash=bytes(receipt["blockHash"]),
        gas_used=int(receipt["gasUsed"]),
    )


def _send(chain: Chain, tx: TxParams) -> TxReceipt:
    """Send a contract transaction, turning a revert (at estimate or mined) into a refusal."""
    try:
        receipt = chain.transact(tx)
    except ContractLogicError as exc:
        raise _refused(exc) from exc
    if receipt["status"] != 1:
        # Mined but reverted (e.g. state changed after the estimate): replay it for the reason.
        replay: dict[str, Any] = {k: v for k, v in tx.items() if k in ("to", "data", "value")}
        replay["from"] = chain.address
        try:
            chain.w3.eth.call(replay, receipt["blockNumber"] - 1)  # type: ignore[arg-type]
        except ContractLogicError as exc:
            raise _refused(exc) from exc
        raise ChainError(f"transaction 0x{bytes(receipt['transactionHash']).hex()} reverted")
    return receipt


def deploy(chain: Chain) -> ChecksumAddress:
    """Deploy TraceAnchor with the operator as owner; returns the contract address."""
    receipt = _send(chain, {"data": artifact()["bytecode"]})  # no constructor arguments
    address = receipt["contractAddress"]
    if address is None:
        raise ChainError("deployment receipt has no contract address")
    return to_checksum_address(address)


@dataclass
class TraceAnchor:
    """A deployed TraceAnchor, driven by ``chain``'s operator."""

    chain: Chain
    address: ChecksumAddress

    @property
    def contract(self) -> Contract:
        return _contract(self.chain.w3, self.address)

    def _tx(self, function: str, *args: Any) -> TxSummary:
        data = self.contract.encode_abi(function, args=list(args))
        return _summary(_send(self.chain, {"to": self.address, "data": data}))

    def _call(self, call: Any) -> Any:
        try:
            return call.call()
        except ContractLogicError as exc:
            raise _refused(exc) from exc

    def owner(self) -> ChecksumAddress:
        return to_checksum_address(self._call(self.contract.functions.owner()))

    def transfer_ownership(self, new_owner: str) -> TxSummary:
        return self._tx("transferOwnership", to_checksum_address(new_owner))

    def register_log(self, log: bytes, key_hash: bytes) -> TxSummary:
        """Register ``log`` pinning ``key_hash`` (:func:`foodtrace.trace.logkey.log_key_hash`
        of its checkpoint key)."""
        return self._tx("registerLog", log, key_hash)

    def rotate_log_key(self, log: bytes, new_key_hash: bytes) -> TxSummary:
        """Pin a new checkpoint key; the contract emits ``LogKeyRotated(log, old, new)``."""
        return self._tx("rotateLogKey", log, new_key_hash)

    def log_key_hash(self, log: bytes) -> bytes:
        """The key hash the chain pins for ``log``: 32 zero bytes if it is not registered."""
        return bytes(self._call(self.contract.functions.logKeyHash(log)))

    def set_anchorer(self, log: bytes, account: str, allowed: bool = True) -> TxSummary:
        return self._tx("setAnchorer", log, to_checksum_address(account), allowed)

    def is_anchorer(self, log: bytes, account: str) -> bool:
        return bool(
            self._call(self.contract.functions.isAnchorer(log, to_checksum_address(account)))
        )

    def anchor(
        self, log: bytes, tree_size: int, root: bytes, consistency_proof: Sequence[bytes]
    ) -> TxSummary:
        """Anchor ``root`` at ``tree_size``; the proof links it to the latest anchored root
        (empty for a log's first anchor). Raises :class:`AnchorRefused` if the contract says no.
        """
        return self._tx("anchor", log, tree_size, root, list(consistency_proof))

    def latest(self, log: bytes) -> tuple[int, bytes]:
        """The latest anchored (size, root); (0, zero hash) before the first anchor."""
        size, root = self._call(self.contract.functions.latest(log))
        return int(size), bytes(root)

    def anchor_at(self, log: bytes, tree_size: int) -> AnchoredRoot | None:
        root, block, ts = self._call(self.contract.functions.anchorAt(log, tree_size))
        if bytes(root) == ZERO_ROOT:
            return None
        return AnchoredRoot(tree_size, bytes(root), int(block), int(ts))

    def find_anchor_tx(self, log: bytes, tree_size: int) -> AnchorTx | None:
        """The transaction that anchored ``tree_size``: looks only in the block the contract
        recorded for it (scanning logs from block 0 is slow on real nodes)."""
        anchored = self.anchor_at(log, tree_size)
        if anchored is None:
            return None
        event = self.contract.events.Anchored()
        entries = event.get_logs(
            from_block=anchored.block_number,
            to_block=anchored.block_number,
            argument_filters={"logId": log, "treeSize": tree_size},
        )
        for entry in entries:
            if bytes(entry["args"]["root"]) == anchored.root:
                return AnchorTx(
                    tx_hash=bytes(entry["transactionHash"]),
                    block_number=int(entry["blockNumber"]),
                    block_hash=bytes(entry["blockHash"]),
                    root=anchored.root,
                    timestamp=int(entry["args"]["timestamp"]),
                )
        return None
