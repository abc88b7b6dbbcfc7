"""The API over a migrated database on both backends, and a stand-in JSON-RPC node."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from observed import RpcNode, make_client


@pytest.fixture
def client(db_url: str, tmp_path: Path) -> Iterator[TestClient]:
    with make_client(db_url, tmp_path) as c:
        yield c
    c.app.state.engine.dispose()  # type: ignore[attr-defined]


@pytest.fixture
def rpc_node(tmp_path: Path) -> Iterator[tuple[RpcNode, str]]:
    node = RpcNode(0x2A)
    log_file = tmp_path / "rpc.log"

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            node.calls += 1
            body = json.dumps({"jsonrpc": "2.0", "id": request["id"], "result": hex(node.block)})
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, format: str, *args: Any) -> None:
            with log_file.open("a") as f:
                f.write(format % args + "\n")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield node, f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()
    thread.join()
