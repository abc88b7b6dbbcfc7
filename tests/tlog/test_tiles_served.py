"""``/tlog/``: an independent client verifies inclusion and consistency from tiles alone."""

from __future__ import annotations

import pytest
from tiles_client import Invalid, Tiles, prove_consistent, prove_entry, verify_checkpoint
from tileslog import Served, leaf

from foodtrace.trace.tlog_tiles import MAX_BUNDLED_ENTRY_BYTES

# Past 65,536 entries the tree has three tile levels (0, 1 and a partial 2).
OLD_SIZE = 300
NEW_SIZE = 65_536 + 700
INDICES = [0, 1, 255, 256, 299, 4_095, 65_535, 65_536, NEW_SIZE - 1]


def test_inclusion_and_consistency_from_tiles_alone(served: Served) -> None:
    served.append(OLD_SIZE)
    old_note = served.fetch("checkpoint")
    assert verify_checkpoint(old_note, served.vkey)[1] == OLD_SIZE
    for index in (0, 257, OLD_SIZE - 1):
        assert prove_entry(served.fetch, served.vkey, index) == leaf(index)

    served.append(NEW_SIZE - OLD_SIZE)
    for index in INDICES:
        assert prove_entry(served.fetch, served.vkey, index) == leaf(index)
    assert prove_consistent(served.fetch, served.vkey, old_note) == (OLD_SIZE, NEW_SIZE)

    # The proofs above needed all three tile levels, partial tiles included.
    tiles = Tiles(served.fetch, NEW_SIZE)
    tiles.inclusion(NEW_SIZE - 1)
    assert {p.split("/")[1] for p in tiles.fetched} == {"0", "1", "2"}
    assert "tile/2/000.p/1" in tiles.fetched and "tile/0/258.p/188" in tiles.fetched


def test_a_wrong_tile_or_key_does_not_verify(served: Served) -> None:
    served.append(600)
    note = served.fetch("checkpoint")

    def tampered(path: str) -> bytes:
        blob = served.fetch(path)
        if path in ("tile/0/001", "tile/1/000.p/2"):  # hash 1: leaf 257, and MTH(256..512)
            return blob[:40] + bytes([blob[40] ^ 1]) + blob[41:]
        return blob

    with pytest.raises(Invalid, match="does not reach the root"):
        prove_entry(tampered, served.vkey, 10)  # its audit path holds MTH(256..512)
    with pytest.raises(Invalid, match="does not hash to its leaf"):
        prove_entry(tampered, served.vkey, 300)  # its bundle no longer matches tile 0/001
    assert prove_entry(served.fetch, served.vkey, 300) == leaf(300)
    forged = note.replace(b"\n600\n", b"\n601\n")
    with pytest.raises(Invalid, match="signature does not verify"):
        verify_checkpoint(forged, served.vkey)
    other = "tiles.test/log+00000000+" + served.vkey.split("+", 2)[2]  # base64 may hold "+"
    with pytest.raises(Invalid, match="key id"):
        verify_checkpoint(note, other)


def test_headers_and_content_types(served: Served) -> None:
    served.append(300)
    r = served.client.get("/tlog/checkpoint")
    assert r.headers["content-type"] == "text/plain; charset=utf-8"
    assert r.headers["cache-control"] == "public, max-age=5"
    assert r.text.split("\n")[:2] == ["tiles.test/log", "300"]
    full = served.client.get("/tlog/tile/0/000")
    assert full.status_code == 200 and len(full.content) == 256 * 32
    assert full.headers["content-type"] == "application/octet-stream"
    assert full.headers["cache-control"] == "public, max-age=31536000, immutable"
    partial = served.client.get("/tlog/tile/0/001.p/44")
    assert partial.status_code == 200 and len(partial.content) == 44 * 32
    assert partial.headers["cache-control"] == "public, max-age=60"
    bundle = served.client.get("/tlog/tile/entries/000")
    assert bundle.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert bundle.content[:2] == len(leaf(0)).to_bytes(2, "big")
    assert served.client.get("/tlog/tile/1/000.p/1").content == served.log.root(256)


def test_nothing_beyond_the_latest_checkpoint_is_served(served: Served) -> None:
    assert served.client.get("/tlog/tile/0/000.p/1").status_code == 404  # no checkpoint yet
    served.append(200)
    served.fetch("checkpoint")  # signs size 200
    served.append(100)  # stored, not yet covered by a checkpoint
    for path in ("tile/0/000", "tile/0/000.p/201", "tile/entries/000", "tile/0/001.p/1"):
        r = served.client.get(f"/tlog/{path}")
        assert r.status_code == 404, path
        assert r.headers["content-type"] == "application/problem+json"
    assert served.client.get("/tlog/tile/0/000.p/200").status_code == 200
    assert served.client.get("/tlog/tile/0/000.p/17").status_code == 200  # a covered prefix
    assert served.fetch("checkpoint").split(b"\n")[1] == b"300"
    assert served.client.get("/tlog/tile/0/000").status_code == 200


@pytest.mark.parametrize("path", ["tile/0/1", "tile/0/x000/000", "tile/64/000", "tile/0/000.p/0"])
def test_malformed_paths_are_not_found(served: Served, path: str) -> None:
    served.append(10)
    served.fetch("checkpoint")
    r = served.client.get(f"/tlog/{path}")
    assert r.status_code == 404 and r.json()["title"] == "Not Found"


def test_the_entry_size_boundary_of_bundles(served: Served) -> None:
    """An entry bundle can carry 65,535 bytes per entry; the log accepts up to 64 KiB (and JCS
    may lengthen an entry). The largest that fits is served and verifies; one byte more is
    refused with a problem naming the entry, never truncated."""
    largest = b"a" * MAX_BUNDLED_ENTRY_BYTES
    served.log.append_leaves([b"small", largest, largest + b"a"], ("event", "a", "k", "t"))
    note = served.log.issue_checkpoint(2).note.encode()
    assert served.client.get("/tlog/tile/entries/000.p/2").status_code == 200

    def at_size_2(path: str) -> bytes:
        return note if path == "checkpoint" else served.fetch(path)

    assert prove_entry(at_size_2, served.vkey, 1) == largest
    served.fetch("checkpoint")  # now covers the oversized entry
    r = served.client.get("/tlog/tile/entries/000.p/3")
    assert r.status_code == 500 and "entry 2 is 65536 bytes" in r.json()["detail"]
    assert served.client.get("/tlog/tile/0/000.p/3").status_code == 200  # hashes are fine


def test_openapi_states_what_the_tiles_routes_return(served: Served) -> None:
    paths = served.client.get("/openapi.json").json()["paths"]
    tile = paths["/tlog/tile/{path}"]["get"]["responses"]
    assert set(tile["200"]["content"]) == {"application/octet-stream"}
    assert set(tile["404"]["content"]) == {"application/problem+json"}
    checkpoint = paths["/tlog/checkpoint"]["get"]["responses"]
    assert set(checkpoint["200"]["content"]) == {"text/plain; charset=utf-8"}
