"""``POST /chain/rpc``: the embedded chain read over JSON-RPC in the node's wire format, from
the server's own opener, read-only, with CORS for pages; both databases."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from databases import database
from fastapi.testclient import TestClient

from foodtrace.api.app import create_app
from foodtrace.config import CHAIN_RPC_PATH, Settings
from foodtrace.ledger import rpc
from foodtrace.ledger.chain import Chain
from foodtrace.ledger.contract import TraceAnchor, TxSummary, decode_refusal, deploy, log_id
from foodtrace.scanner.chain import ContractReader, RpcClient
from foodtrace.store.db import migrate
from foodtrace.trace import keys
from foodtrace.trace.logkey import announced_keys, log_key_hash
from foodtrace.trace.merkle import MemoryTree, consistency_proof

ORIGIN = "foodtrace.test/log"


@dataclass
class Served:
    client: TestClient
    chain: Chain
    anchor: TraceAnchor
    key_hash: bytes
    anchored: TxSummary
    tree: MemoryTree

    def call(self, method: str, *params: Any, rid: Any = 1) -> dict[str, Any]:
        body = {"jsonrpc": "2.0", "id": rid, "method": method, "params": list(params)}
        response = self.client.post(CHAIN_RPC_PATH, json=body)
        assert response.status_code == 200, response.text
        assert response.headers["access-control-allow-origin"] == "*"
        answer: dict[str, Any] = response.json()
        assert answer["jsonrpc"] == "2.0" and answer["id"] == rid
        return answer

    def result(self, method: str, *params: Any) -> Any:
        answer = self.call(method, *params)
        assert "error" not in answer, answer
        return answer["result"]

    def eth_call(self, function: str, *args: Any) -> str:
        data = self.anchor.contract.encode_abi(function, args=list(args))
        result: str = self.result("eth_call", {"to": self.anchor.address, "data": data}, "latest")
        return result


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    """One served chain per backend for the module (deploying on py-evm takes seconds); the
    tests only read, and the write refusals check the head did not move."""
    tmp = tmp_path_factory.mktemp(f"rpc-{request.param}")
    with database(request.param, tmp) as db_url:
        settings = Settings(
            data_dir=tmp / "data", database_url=db_url, chain_url="", log_origin=ORIGIN
        )
        migrate(db_url)
        app = create_app(settings)
        with TestClient(app) as client:
            chain = app.state.chain.get()  # the server's one opener: the view reads this chain
            anchor = TraceAnchor(chain, deploy(chain))
            key_hash = log_key_hash(keys.generate())
            anchor.register_log(log_id(ORIGIN), key_hash)
            anchor.set_anchorer(log_id(ORIGIN), chain.address)
            tree = MemoryTree.of(f"entry-{i}".encode() for i in range(8))
            anchored = anchor.anchor(log_id(ORIGIN), 8, tree.root(8), [])
            yield Served(client, chain, anchor, key_hash, anchored, tree)


def _word(hex_data: str, i: int) -> bytes:
    return bytes.fromhex(hex_data[2:])[32 * i : 32 * (i + 1)]


def test_reads_in_the_node_wire_format(served: Served) -> None:
    assert int(served.result("eth_chainId"), 16) == served.chain.chain_id
    head = served.result("eth_blockNumber")
    assert head.startswith("0x") and int(head, 16) == served.chain.w3.eth.block_number
    log = log_id(ORIGIN)
    assert _word(served.eth_call("logKeyHash", log), 0) == served.key_hash
    latest = served.eth_call("latest", log)
    assert int.from_bytes(_word(latest, 0), "big") == 8
    assert _word(latest, 1) == served.tree.root(8)
    anchored = served.eth_call("anchorAt", log, 8)
    assert _word(anchored, 0) == served.tree.root(8)
    assert int.from_bytes(_word(anchored, 1), "big") == served.anchored.block_number
    code = served.result("eth_getCode", served.anchor.address, "latest")
    assert code == "0x" + bytes(served.chain.w3.eth.get_code(served.anchor.address)).hex()

    receipt = served.result("eth_getTransactionReceipt", "0x" + served.anchored.tx_hash.hex())
    assert receipt["status"] == "0x1"
    assert int(receipt["blockNumber"], 16) == served.anchored.block_number
    assert receipt["blockHash"] == "0x" + served.anchored.block_hash.hex()
    block = served.result("eth_getBlockByNumber", hex(served.anchored.block_number), False)
    assert block["hash"] == receipt["blockHash"]
    assert block["transactions"] == ["0x" + served.anchored.tx_hash.hex()]
    assert served.result("eth_getTransactionReceipt", "0x" + "00" * 32) is None

    n = hex(served.anchored.block_number)
    logs = served.result(
        "eth_getLogs", {"address": served.anchor.address, "fromBlock": n, "toBlock": n}
    )
    (anchored_log,) = logs
    topic = (
        "0x" + bytes(served.chain.w3.keccak(text="Anchored(bytes32,uint64,bytes32,uint64)")).hex()
    )
    assert anchored_log["topics"][:2] == [topic, "0x" + log.hex()]
    assert anchored_log["transactionHash"] == "0x" + served.anchored.tx_hash.hex()


def test_batches_and_json_rpc_errors(served: Served) -> None:
    batch = [
        {"jsonrpc": "2.0", "id": "a", "method": "eth_blockNumber", "params": []},
        {"jsonrpc": "2.0", "id": 2, "method": "eth_sendRawTransaction", "params": ["0x00"]},
        {"jsonrpc": "2.0", "method": "eth_chainId", "params": []},  # a notification
        {"jsonrpc": "1.0", "id": 3, "method": "eth_chainId"},
    ]
    answers = served.client.post(CHAIN_RPC_PATH, json=batch).json()
    assert [a["id"] for a in answers] == ["a", 2, None]
    assert "result" in answers[0]
    assert answers[1]["error"]["code"] == rpc.METHOD_NOT_FOUND
    assert answers[2]["error"]["code"] == rpc.INVALID_REQUEST
    parse = served.client.post(
        CHAIN_RPC_PATH, content=b"{not json", headers={"content-type": "application/json"}
    )
    assert parse.status_code == 200 and parse.json()["error"]["code"] == rpc.PARSE_ERROR
    assert (
        served.client.post(CHAIN_RPC_PATH, json=[]).json()["error"]["code"] == rpc.INVALID_REQUEST
    )
    only_notes = [{"jsonrpc": "2.0", "method": "eth_chainId"}]
    assert served.client.post(CHAIN_RPC_PATH, json=only_notes).status_code == 204
    bad = served.call("eth_getBlockByNumber", "12", False)
    assert bad["error"]["code"] == rpc.INVALID_PARAMS


def test_nothing_that_writes_is_served(served: Served) -> None:
    head = served.chain.w3.eth.block_number
    tx = {"from": served.chain.address, "to": served.anchor.address, "data": "0x"}
    for method, params in (
        ("eth_sendTransaction", [tx]),
        ("eth_sendRawTransaction", ["0x02"]),
        ("evm_mine", []),
        ("anvil_setCode", [served.anchor.address, "0x"]),
        ("eth_accounts", []),
        ("debug_traceTransaction", ["0x" + served.anchored.tx_hash.hex()]),
    ):
        answer = served.call(method, *params)
        assert answer["error"]["code"] == rpc.METHOD_NOT_FOUND, method
    with_value = {"to": served.anchor.address, "data": "0x", "value": "0x1"}
    assert served.call("eth_call", with_value, "latest")["error"]["code"] == rpc.INVALID_PARAMS
    assert served.chain.w3.eth.block_number == head


def test_a_reverting_call_answers_the_revert_data(served: Served) -> None:
    data = served.anchor.contract.encode_abi(
        "anchor", args=[log_id("unregistered"), 1, b"\x01" * 32, []]
    )
    answer = served.call("eth_call", {"to": served.anchor.address, "data": data}, "latest")
    assert answer["error"]["code"] == rpc.REVERTED
    refusal = decode_refusal(bytes.fromhex(answer["error"]["data"][2:]))
    assert refusal is not None and refusal.name == "UnknownLog"


def test_bounds_on_size_and_log_ranges(served: Served) -> None:
    big = json.dumps(
        {"jsonrpc": "2.0", "id": 1, "method": "x", "params": ["0" * rpc.MAX_REQUEST_BYTES]}
    )
    response = served.client.post(
        CHAIN_RPC_PATH, content=big.encode(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("application/problem+json")
    too_many = [
        {"jsonrpc": "2.0", "id": i, "method": "eth_chainId"} for i in range(rpc.MAX_BATCH + 1)
    ]
    assert (
        served.client.post(CHAIN_RPC_PATH, json=too_many).json()["error"]["code"]
        == rpc.INVALID_REQUEST
    )
    with pytest.raises(rpc.RpcError, match="at most"):
        rpc.log_filter({"fromBlock": "0x0", "toBlock": hex(rpc.MAX_LOG_BLOCKS)}, rpc.MAX_LOG_BLOCKS)
    assert rpc.log_filter({"fromBlock": "0x1", "toBlock": "latest"}, rpc.MAX_LOG_BLOCKS) == {
        "fromBlock": 1,
        "toBlock": rpc.MAX_LOG_BLOCKS,
    }
    far = served.call("eth_getLogs", {"fromBlock": "0x0", "toBlock": hex(10**9)})
    assert far["error"]["code"] == rpc.INVALID_PARAMS


def test_cors_preflight_and_openapi(served: Served) -> None:
    preflight = served.client.options(
        CHAIN_RPC_PATH,
        headers={
            "Origin": "http://shop.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert "POST" in preflight.headers["access-control-allow-methods"]
    assert "content-type" in preflight.headers["access-control-allow-headers"]
    paths = served.client.get("/openapi.json").json()["paths"]
    post = paths[CHAIN_RPC_PATH]["post"]["responses"]
    assert {"200", "204", "413"} <= set(post)
    assert "application/json" in post["200"]["content"]
    assert "204" in paths[CHAIN_RPC_PATH]["options"]["responses"]


def test_the_scanners_batch_and_reads_cached_until_the_next_block(served: Served) -> None:
    """Runs after the read-only tests: it anchors a second root (a new block) and rotates the
    log key, to show nothing of the old head is answered after it."""
    log = log_id(ORIGIN)
    cache = rpc.ReadCache()
    body = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "eth_call",
        "params": [
            {
                "to": served.anchor.address,
                "data": served.anchor.contract.encode_abi("latest", [log]),
            },
            "latest",
        ],
    }
    first = rpc.answer(lambda: served.chain.w3, body, cache)
    assert rpc.answer(lambda: served.chain.w3, body, cache) == first
    assert (cache.hits, cache.misses) == (1, 1)
    assert int.from_bytes(_word(first["result"], 0), "big") == 8

    # the scanner's chain step for a code: the key and every root it needs, one round trip
    reader = ContractReader(
        RpcClient(CHAIN_RPC_PATH, client=served.client), served.anchor.address, log
    )
    reader.prefetch([8, 16])
    assert reader.reads == 1
    assert reader.root_at(8) == served.tree.root(8) and reader.root_at(16) is None
    assert reader.log_key_hash() == served.key_hash
    assert reader.reads == 1  # all three answered by the batch

    bigger = MemoryTree.of(f"entry-{i}".encode() for i in range(16))
    assert bigger.root(8) == served.tree.root(8)
    served.anchor.anchor(log, 16, bigger.root(16), consistency_proof(8, 16, bigger.read))
    after = rpc.answer(lambda: served.chain.w3, body, cache)
    assert int.from_bytes(_word(after["result"], 0), "big") == 16  # not the cached size 8
    fresh = ContractReader(
        RpcClient(CHAIN_RPC_PATH, client=served.client), served.anchor.address, log
    )
    assert fresh.root_at(16) == bigger.root(16)

    # LogKeyRotated read back the scanner's way (eth_getLogs over this endpoint)
    new_hash = log_key_hash(keys.generate())
    served.anchor.rotate_log_key(log, new_hash)
    assert fresh.key_rotations() == [(served.key_hash, new_hash)]
    assert announced_keys(served.key_hash, fresh.key_rotations(), new_hash) == [
        served.key_hash,
        new_hash,
    ]


def test_reads_at_a_mined_block_stay_cached_and_latest_moves_with_the_head(
    served: Served,
) -> None:
    """Runs after the test above (the log is anchored at 16): an answer read at block N is
    kept after new blocks, and asked for at N again it is the chain's answer at N; a read at
    ``latest`` is never answered from an older head."""
    log = log_id(ORIGIN)
    w3 = served.chain.w3
    cache = rpc.ReadCache()
    head = int(w3.eth.block_number)
    call = {"to": served.anchor.address, "data": served.anchor.contract.encode_abi("latest", [log])}
    logs = {"address": served.anchor.address, "fromBlock": "0x0"}

    def ask(method: str, *params: Any) -> Any:
        body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}
        answer = rpc.answer(lambda: w3, body, cache)
        assert "error" not in answer, answer
        return answer["result"]

    def size(result: str) -> int:
        return int.from_bytes(_word(result, 0), "big")

    assert size(ask("eth_call", call, "latest")) == 16
    assert size(ask("eth_call", call, hex(head))) == 16  # the same block: one execution
    events_then = ask("eth_getLogs", {**logs, "toBlock": "latest"})
    assert (cache.hits, cache.misses) == (1, 2)

    bigger = MemoryTree.of(f"entry-{i}".encode() for i in range(24))
    served.anchor.anchor(log, 24, bigger.root(24), consistency_proof(16, 24, bigger.read))
    assert int(w3.eth.block_number) > head

    assert size(ask("eth_call", call, "latest")) == 24  # the new head: read again
    assert len(ask("eth_getLogs", {**logs, "toBlock": "latest"})) > len(events_then)
    misses = cache.misses
    at_old_head = ask("eth_call", call, hex(head))
    assert size(at_old_head) == 16 and cache.misses == misses  # kept: block N never changes
    assert at_old_head == "0x" + bytes(w3.eth.call(call, head)).hex()
    assert ask("eth_getLogs", {**logs, "toBlock": hex(head)}) == events_then
    assert cache.misses == misses


def test_the_read_cache_keeps_at_most_its_bound() -> None:
    cache = rpc.ReadCache(max_entries=2)
    for key in ("a", "b", "c"):
        cache.store(key, key.upper())
    assert len(cache) == 2
    assert cache.lookup("a") == (False, None)
    assert cache.lookup("c") == (True, "C")


def test_absent_with_an_external_chain(tmp_path: Path, sqlite_url: str) -> None:
    settings = Settings(data_dir=tmp_path, database_url=sqlite_url, chain_url="http://127.0.0.1:9")
    assert settings.chain_public_url == ""
    migrate(sqlite_url)
    with TestClient(create_app(settings)) as client:
        assert client.post(CHAIN_RPC_PATH, json={"jsonrpc": "2.0", "id": 1}).status_code in (
            404,
            405,
        )
    embedded = Settings(data_dir=tmp_path, public_base_url="https://shop.example/")
    assert embedded.chain_public_url == "https://shop.example" + CHAIN_RPC_PATH


def test_the_head_read_from_py_evm_is_web3s_block_number(served: Served) -> None:
    """``/chain/rpc`` reads the head straight from py-evm (web3's eth_blockNumber builds the
    whole block); both must name the same block, or cached answers would be keyed wrong."""
    assert served.chain.embedded is not None
    assert served.chain.embedded.head_number() == served.chain.w3.eth.block_number
    assert int(served.call("eth_blockNumber")["result"], 16) == served.chain.w3.eth.block_number
