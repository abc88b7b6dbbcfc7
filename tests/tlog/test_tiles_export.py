"""``foodtrace tlog export DIR``: a plain static server of DIR is a complete tiles log."""

from __future__ import annotations

import functools
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from tiles_client import prove_consistent, prove_entry, verify_checkpoint
from tileslog import Served, leaf
from typer.testing import CliRunner

from foodtrace.cli import app
from foodtrace.tlog.export import export


class _QuietHandler(SimpleHTTPRequestHandler):
    log_file: Path

    def log_message(self, format: str, *args: Any) -> None:
        with self.log_file.open("a") as f:
            f.write(format % args + "\n")


@pytest.fixture
def static(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """Python's http.server serving a directory on 127.0.0.1 (log to a file)."""
    root = tmp_path / "www"
    root.mkdir()
    handler = type("Handler", (_QuietHandler,), {"log_file": tmp_path / "http.log"})
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=root))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()
    thread.join()


def http_fetch(prefix: str) -> Any:
    def fetch(path: str) -> bytes:
        with urllib.request.urlopen(prefix + path, timeout=10) as r:
            body: bytes = r.read()
            return body

    return fetch


def test_verify_from_a_static_server_of_the_export(
    served: Served, static: tuple[Path, str]
) -> None:
    root, url = static
    served.append(1_000)
    first = export(served.log, root)
    assert first.size == 1_000 and first.kept == 0
    old_note = (root / "checkpoint").read_bytes()
    fetch = http_fetch(url)
    for index in (0, 511, 999):
        assert prove_entry(fetch, served.vkey, index) == leaf(index)

    served.append(2_000)
    second = export(served.log, root)
    # Kept: three full tiles and bundles, and the old partial level-1 tile (still partial).
    assert second.size == 3_000 and second.kept == 7
    for index in (0, 999, 1_000, 2_999):
        assert prove_entry(fetch, served.vkey, index) == leaf(index)
    assert prove_consistent(fetch, served.vkey, old_note) == (1_000, 3_000)
    # A client still holding the old checkpoint finds its partial tiles.
    assert prove_entry(lambda p: old_note if p == "checkpoint" else fetch(p), served.vkey, 999)
    with pytest.raises(urllib.error.HTTPError) as missing:
        fetch("tile/0/012")
    assert missing.value.code == 404


def test_the_export_holds_the_bytes_the_api_serves(served: Served, tmp_path: Path) -> None:
    served.append(700)
    served.log.issue_checkpoint()
    out = tmp_path / "tiles"
    export(served.log, out)
    files = [p for p in out.rglob("*") if p.is_file()]
    names = {p.relative_to(out).as_posix() for p in files}
    assert names == {
        "checkpoint",
        "tile/0/000",
        "tile/0/001",
        "tile/0/002.p/188",
        "tile/1/000.p/2",
        "tile/entries/000",
        "tile/entries/001",
        "tile/entries/002.p/188",
    }
    for path in files:
        name = path.relative_to(out).as_posix()
        assert served.fetch(name) == path.read_bytes(), name
    assert verify_checkpoint((out / "checkpoint").read_bytes(), served.vkey)[1] == 700


def test_export_command(served: Served, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    served.append(300)
    monkeypatch.setenv("FOODTRACE_DATA_DIR", str(served.settings.data_dir))
    monkeypatch.setenv("FOODTRACE_LOG_ORIGIN", served.settings.log_origin)
    url = served.log.url
    result = CliRunner().invoke(app, ["tlog", "export", str(tmp_path / "out"), "--db", url])
    assert result.exit_code == 0, result.output
    assert "checkpoint size 300: 5 files written" in result.output
    note = (tmp_path / "out" / "checkpoint").read_bytes()
    assert verify_checkpoint(note, served.vkey)[1] == 300
