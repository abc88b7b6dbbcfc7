"""Connections to the ledger: the embedded in-process chain or any EVM JSON-RPC node.

The embedded chain is web3's ``EthereumTesterProvider`` over eth-tester's py-evm backend
(Prague rules), with py-evm's key-value store in a SQLite file (:mod:`.kvstore`). Every
mined block is committed in one SQLite transaction, so the chain, its balances, deployed
contracts and anchors survive restarts and crashes; reopening resumes at the persisted
canonical head. Its funded accounts are eth-tester's fixed keys, so the operator account is
the same after a restart.

Transactions are always signed here with the operator's key and sent raw, on both kinds of
chain: an external node's unlocked accounts are never trusted or needed.
"""

from __future__ import annotations

import ast
import contextlib
import itertools
import secrets
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from eth.chains.base import MiningChain
from eth.consensus.applier import ConsensusApplier
from eth.consensus.noproof import NoProofConsensus
from eth.db.schema import SchemaV1
from eth.vm.forks.prague import PragueVM
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_tester import EthereumTester
from eth_tester.backends.pyevm.main import (
    ZERO_ADDRESS,
    PyEVMBackend,
    generate_genesis_state_for_keys,
    get_default_account_keys,
    get_default_genesis_params,
)
from eth_tester.exceptions import TransactionFailed
from eth_typing import ChecksumAddress
from filelock import FileLock, Timeout
from web3 import Web3
from web3.providers.eth_tester import EthereumTesterProvider
from web3.types import RPCEndpoint, RPCResponse, TxParams, TxReceipt

from foodtrace.config import Settings

EMBEDDED_CHAIN_ID = 131277322940537  # eth-tester's chain id, which its RPC layer reports
EMBEDDED_ACCOUNTS = 10  # funded at genesis with eth-tester's fixed keys 1..10
EMBEDDED_TX_GAS = 5_000_000  # ample for a deployment or an anchor with a 64-node proof
RECEIPT_TIMEOUT_S = 120.0
RPC_TIMEOUT_S = 30.0


class ChainError(Exception):
    """The ledger could not be opened or reached, or a transaction failed outright."""


class _EmbeddedChain(MiningChain):
    """eth-tester's proof-of-stake tester chain, named here so a stored chain can be reopened
    with exactly the rules it was created with."""

    chain_id = EMBEDDED_CHAIN_ID
    vm_configuration = ConsensusApplier(NoProofConsensus).amend_vm_configuration(((0, PragueVM),))

    def create_header_from_parent(self, parent_header: Any, **header_params: Any) -> Any:
        # A constant gas limit, as eth-tester's chain keeps it.
        return super().create_header_from_parent(
            parent_header, **{**header_params, "gas_limit": parent_header.gas_limit}
        )

    def get_transaction_builder(self) -> Any:
        return self.get_vm().get_transaction_builder()


class _PersistentBackend(PyEVMBackend):  # type: ignore[misc]
    """eth-tester's py-evm backend over a stored chain; commits the store after each block."""

    def __init__(self, store: Any, chain: _EmbeddedChain, account_keys: Sequence[Any]) -> None:
        # Deliberately not calling PyEVMBackend.__init__: it would build a fresh genesis.
        self.store = store
        self.chain = chain
        self.account_keys = tuple(account_keys)

    def reset_to_genesis(self, *args: Any, **kwargs: Any) -> None:
        raise ChainError("the embedded chain is persistent; delete its file to start over")

    def mine_blocks(self, num_blocks: int = 1, coinbase: bytes = ZERO_ADDRESS) -> tuple[bytes, ...]:
        hashes: list[bytes] = []
        for _ in range(num_blocks):
            hashes.extend(super().mine_blocks(1, coinbase))
            self.store.commit()  # one SQLite transaction per block
        return tuple(hashes)


class _SerialProvider(EthereumTesterProvider):
    """web3's tester provider, serialised (py-evm is not thread-safe) and answering reverts as
    a node does: a JSON-RPC error whose ``data`` is the revert payload. (web3's own tester
    provider flattens the payload into a message, losing the contract's custom error.)"""

    def __init__(self, tester: EthereumTester) -> None:
        super().__init__(tester)
        self.lock = threading.RLock()  # also held by EmbeddedChain.head_number
        self._ids = itertools.count()

    def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
        with self.lock:
            try:
                return super().make_request(method, params)
            except TransactionFailed as exc:
                payload = _revert_payload(exc)
                if payload is None:
                    raise
        error = {"code": 3, "message": "execution reverted", "data": "0x" + payload.hex()}
        return {"jsonrpc": "2.0", "id": next(self._ids), "error": error}  # type: ignore[typeddict-item]


def _revert_payload(exc: BaseException) -> bytes | None:
    """The revert bytes eth-tester raised, found under web3's re-raised message-only copy.

    eth-tester's estimate raises the bytes themselves; its call raises their ``repr``.
    """
    seen: BaseException | None = exc
    while seen is not None:
        arg = seen.args[0] if seen.args else None
        if isinstance(arg, Exception) and arg.args:
            arg = arg.args[0]
        if isinstance(arg, str) and arg[:2] in ("b'", 'b"'):
            with contextlib.suppress(ValueError, SyntaxError):
                arg = ast.literal_eval(arg)
        if isinstance(arg, bytes):
            return arg
        seen = seen.__cause__ or seen.__context__
    return None


@dataclass
class EmbeddedChain:
    """The stored chain: its store, file lock and the tester driving it."""

    path: Path
    store: Any
    backend: _PersistentBackend
    provider: _SerialProvider
    lock: FileLock

    def close(self) -> None:
        self.store.close()
        self.lock.release()

    def head_number(self) -> int:
        """The latest mined block's number, read from py-evm directly: web3's
        ``eth_blockNumber`` builds and serialises the whole block for it (~0.3 ms, most of a
        cached ``/chain/rpc`` answer)."""
        with self.provider.lock:
            return int(self.backend.chain.get_canonical_head().block_number)


def _embedded_keys() -> tuple[Any, ...]:
    return tuple(get_default_account_keys(quantity=EMBEDDED_ACCOUNTS))


def embedded_operator_key() -> str:
    """The embedded chain's operator: its first funded account (fixed across restarts)."""
    key: str = _embedded_keys()[0].to_hex()
    return key


def open_embedded(path: Path) -> EmbeddedChain:
    """Open the chain stored at ``path``, creating it (genesis) only if the file has none.

    One process at a time: a second opener gets :class:`ChainError` rather than a fork.
    """
    from foodtrace.ledger.kvstore import SQLiteKV

    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(path) + ".lock")
    try:
        lock.acquire(timeout=0)
    except Timeout as exc:
        raise ChainError(f"chain file {path} is in use by another process") from exc
    try:
        store = SQLiteKV(path)
        keys = _embedded_keys()
        if SchemaV1.make_canonical_head_hash_lookup_key() in store:
            chain = _EmbeddedChain(store)
        else:
            genesis = _EmbeddedChain.from_genesis(
                store, get_default_genesis_params(), generate_genesis_state_for_keys(keys)
            )
            chain = cast(_EmbeddedChain, genesis)
            store.commit()
        backend = _PersistentBackend(store, chain, keys)
        provider = _SerialProvider(EthereumTester(backend))
    except BaseException:
        lock.release()
        raise
    return EmbeddedChain(path, store, backend, provider, lock)


@dataclass
class Chain:
    """A web3 connection plus the operator account that signs every transaction we send."""

    w3: Web3
    operator: LocalAccount
    embedded: EmbeddedChain | None = None
    _chain_id: int | None = field(default=None, repr=False)
    fixed_gas: int | None = None
    """If set, send with this gas limit after a dry run instead of estimating: py-evm's
    estimate re-executes the call a dozen times, most of an embedded anchor's cost."""

    @property
    def address(self) -> ChecksumAddress:
        return self.operator.address

    @property
    def chain_id(self) -> int:
        if self._chain_id is None:
            self._chain_id = int(self.w3.eth.chain_id)
        return self._chain_id

    def transact(self, tx: TxParams, timeout: float = RECEIPT_TIMEOUT_S) -> TxReceipt:
        """Sign ``tx`` as the operator, send it raw and wait for its receipt.

        Gas and fees are filled in by the node's estimates unless ``tx`` sets them; a call
        that would revert raises (web3's ``ContractLogicError``) before anything is sent.
        """
        params: dict[str, Any] = dict(tx)
        params["from"] = self.address
        params.setdefault("chainId", self.chain_id)
        params.setdefault("nonce", self.w3.eth.get_transaction_count(self.address, "pending"))
        if "gas" in params:
            pass
        elif self.fixed_gas is not None:
            self.w3.eth.call(params)  # type: ignore[arg-type]
            params["gas"] = self.fixed_gas
        else:
            params["gas"] = self.w3.eth.estimate_gas(params)  # type: ignore[arg-type]
        if "gasPrice" not in params and "maxFeePerGas" not in params:
            base = self.w3.eth.get_block("latest").get("baseFeePerGas", 0)
            tip = self.w3.eth.max_priority_fee
            params["maxPriorityFeePerGas"] = tip
            params["maxFeePerGas"] = 2 * base + tip
        signed = self.operator.sign_transaction(params)
        tx_hash = self.w3.eth.send_raw_transaction(signed.raw_transaction)
        return self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=timeout)

    def as_operator(self, key: str) -> Chain:
        """The same chain driven by another account (e.g. a second anchorer); closing the
        result leaves this connection open."""
        return Chain(self.w3, Account.from_key(key), None, self._chain_id, self.fixed_gas)

    def close(self) -> None:
        if self.embedded is not None:
            self.embedded.close()
            self.embedded = None

    def __enter__(self) -> Chain:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def load_operator_key(path: Path) -> str:
    """The operator's private key (hex) from ``path``, created with a fresh key on first use.

    A fresh key holds no funds: on an external chain, fund the address it prints before
    anchoring.
    """
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text("0x" + secrets.token_hex(32) + "\n")
    text = path.read_text().strip()
    try:
        Account.from_key(text)
    except Exception as exc:
        raise ChainError(f"{path}: expected a 32-byte hex private key") from exc
    return text


def connect_embedded(path: Path) -> Chain:
    """The embedded chain stored at ``path``, with its fixed operator account."""
    embedded = open_embedded(path)
    w3 = Web3(embedded.provider)
    operator = Account.from_key(embedded_operator_key())
    return Chain(w3, operator, embedded, EMBEDDED_CHAIN_ID, fixed_gas=EMBEDDED_TX_GAS)


def connect_rpc(url: str, operator_key: str) -> Chain:
    """An external EVM chain over JSON-RPC, signing locally with ``operator_key``."""
    w3 = Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": RPC_TIMEOUT_S}))
    return Chain(w3, Account.from_key(operator_key))


def connect(settings: Settings) -> Chain:
    """The configured ledger: embedded unless ``chain_url`` names a JSON-RPC node."""
    if not settings.chain_url:
        return connect_embedded(settings.chain_db_path)
    return connect_rpc(settings.chain_url, load_operator_key(settings.resolved_chain_key_file))
