"""Bodies over the limit get 413 problem+json, with or without Content-Length, and are never
buffered past the limit."""

from __future__ import annotations

import json
import select
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from fastapi import APIRouter, FastAPI, Request
from fastapi.testclient import TestClient
from pydantic import BaseModel
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from foodtrace.api.app import create_app
from foodtrace.api.limits import BodySizeLimit
from foodtrace.api.problems import PROBLEM_MEDIA_TYPE, problem_type
from foodtrace.config import Settings

LIMIT = 1000


class Note(BaseModel):
    text: str


class Calls:
    def __init__(self) -> None:
        self.handled = 0
        self.streamed = 0


@pytest.fixture
def calls() -> Calls:
    return Calls()


@pytest.fixture
def app(tmp_path: Path, calls: Calls) -> FastAPI:
    def router(_: Settings) -> APIRouter:
        r = APIRouter()

        @r.post("/notes")
        def post_note(note: Note) -> dict[str, int]:
            calls.handled += 1
            return {"length": len(note.text)}

        @r.post("/upload")
        async def upload(request: Request) -> dict[str, int]:
            async for chunk in request.stream():
                calls.streamed += len(chunk)
            calls.handled += 1
            return {"bytes": calls.streamed}

        return r

    return create_app(Settings(data_dir=tmp_path), routers=[router], max_request_bytes=LIMIT)


def note(size: int) -> bytes:
    body = json.dumps({"text": "x" * size}).encode()
    return body


def assert_413(status: int, headers: dict[str, str], body: bytes) -> None:
    assert status == 413
    assert headers["content-type"] == PROBLEM_MEDIA_TYPE
    problem = json.loads(body)
    assert problem["type"] == problem_type("too-large")
    assert problem["status"] == 413
    assert problem["errors"] == [{"pointer": "/body", "detail": f"expected at most {LIMIT} bytes"}]


def test_under_the_limit_passes(app: FastAPI, calls: Calls) -> None:
    body = note(LIMIT - 20)
    assert len(body) <= LIMIT
    r = TestClient(app).post("/notes", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 200 and r.json() == {"length": LIMIT - 20}
    assert calls.handled == 1


def test_declared_length_over_the_limit_is_refused_before_the_app(
    app: FastAPI, calls: Calls
) -> None:
    body = note(LIMIT)
    r = TestClient(app).post("/notes", content=body, headers={"content-type": "application/json"})
    assert r.request.headers["content-length"] == str(len(body))
    assert_413(r.status_code, dict(r.headers), r.content)
    assert r.headers["connection"] == "close"
    assert calls.handled == 0


def test_chunked_body_over_the_limit_is_refused_and_the_handler_never_runs(
    app: FastAPI, calls: Calls
) -> None:
    def chunks() -> Iterator[bytes]:
        yield note(LIMIT)

    r = TestClient(app).post(
        "/notes", content=chunks(), headers={"content-type": "application/json"}
    )
    assert "content-length" not in r.request.headers
    assert r.request.headers["transfer-encoding"] == "chunked"
    assert_413(r.status_code, dict(r.headers), r.content)
    assert calls.handled == 0


def test_declared_length_is_refused_without_reading_the_body(app: FastAPI, calls: Calls) -> None:
    pulled: list[bytes] = []

    def body() -> Iterator[bytes]:
        pulled.append(b"{}")
        yield b"{}"

    headers = [(b"content-length", str(LIMIT + 1).encode()), (b"content-type", b"application/json")]
    status, hdrs, problem = run_asgi(app, headers, body())
    assert_413(status, hdrs, problem)
    assert pulled == [] and calls.handled == 0


def test_bad_content_length_is_a_400_problem(app: FastAPI) -> None:
    scope_headers = [(b"content-length", b"ten"), (b"content-type", b"application/json")]
    status, _, body = run_asgi(app, scope_headers, [b"{}"])
    assert status == 400
    assert json.loads(body)["errors"][0]["pointer"] == "/header/content-length"


def run_asgi(
    app: ASGIApp, headers: list[tuple[bytes, bytes]], chunks: list[bytes] | Iterator[bytes]
) -> tuple[int, dict[str, str], bytes]:
    """Drive an ASGI app directly with a body arriving in ``chunks``."""
    import anyio

    pending = iter(chunks)
    sent: list[Message] = []

    async def receive() -> Message:
        try:
            chunk = next(pending)
        except StopIteration:
            return {"type": "http.request", "body": b"", "more_body": False}
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def send(message: Message) -> None:
        sent.append(message)

    scope: Scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/notes",
        "raw_path": b"/notes",
        "root_path": "",
        "query_string": b"",
        "headers": headers,
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }

    async def main() -> None:
        await app(scope, receive, send)

    anyio.run(main)
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    hdrs = {k.decode(): v.decode() for k, v in start["headers"]}
    return start["status"], hdrs, body


def test_endless_stream_is_cut_off_after_the_limit() -> None:
    """The middleware stops pulling chunks as soon as the count passes the limit."""
    pulled = 0
    app_saw = 0

    def endless() -> Iterator[bytes]:
        nonlocal pulled
        while True:
            pulled += 100
            yield b"x" * 100

    async def greedy_app(scope: Scope, receive: Receive, send: Send) -> None:
        nonlocal app_saw
        while True:  # reads until told to stop, like a naive handler buffering everything
            message = await receive()
            app_saw += len(message.get("body", b""))

    status, headers, body = run_asgi(BodySizeLimit(greedy_app, LIMIT), [], endless())
    assert_413(status, headers, body)
    assert pulled == LIMIT + 100  # one chunk past the limit, then no more
    assert app_saw == LIMIT  # the chunk that crossed the limit was never handed on


def test_app_answer_to_a_truncated_body_is_replaced_by_413() -> None:
    """An app that catches the error and answers anyway does not get its answer through."""

    async def forgiving_app(scope: Scope, receive: Receive, send: Send) -> None:
        try:
            while (await receive()).get("more_body"):
                pass
        except Exception:
            pass
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    chunks = [b"x" * 600, b"x" * 600]
    status, headers, body = run_asgi(BodySizeLimit(forgiving_app, LIMIT), [], chunks)
    assert_413(status, headers, body)


@pytest.fixture
def server(app: FastAPI) -> Iterator[int]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port: int = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="off")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not srv.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    yield port
    srv.should_exit = True
    thread.join(10)
    sock.close()


def test_real_server_cuts_off_a_chunked_upload(server: int, calls: Calls) -> None:
    """Over a socket: chunked upload to a streaming handler, no Content-Length."""
    with socket.create_connection(("127.0.0.1", server), timeout=10) as conn:
        conn.sendall(
            b"POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Transfer-Encoding: chunked\r\nContent-Type: application/octet-stream\r\n\r\n"
        )
        sent = 0
        while sent < 20 * LIMIT:
            if select.select([conn], [], [], 0.02)[0]:
                break  # the server has answered
            conn.sendall(b"64\r\n" + b"y" * 100 + b"\r\n")
            sent += 100
        response = b""
        while chunk := conn.recv(65536):
            response += chunk
    head, _, body = response.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode().split("\r\n")
    headers = {k.lower(): v.strip() for k, v in (h.split(":", 1) for h in header_lines)}
    assert_413(int(status_line.split()[1]), headers, body)
    assert LIMIT < sent < 20 * LIMIT  # the server answered long before the client gave up
    assert calls.streamed <= LIMIT
    assert calls.handled == 0
