"""An independent tlog-tiles client, written from C2SP tlog-tiles, tlog-checkpoint,
signed-note and RFC 9162 alone.

It imports nothing from ``foodtrace``: its own SHA-256 RFC 6962 hashing, its own tile paths,
its own proof construction from tiles and its own RFC 9162 verification, so a test that
passes with it shows the served tiles are right, not merely consistent with our own code.
The only dependency is ``cryptography`` for the Ed25519 note signature.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

Fetch = Callable[[str], bytes]
"""Get a resource below the log prefix ("checkpoint", "tile/0/000"); raise if absent."""


class Invalid(Exception):
    """Something the client was served does not verify."""


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


# -- checkpoints (signed note) --------------------------------------------------------------


def verify_checkpoint(note: bytes, vkey: str) -> tuple[str, int, bytes]:
    """(origin, size, root) of a checkpoint note signed by the key ``name+hex+base64``."""
    name, key_id_hex, key_b64 = vkey.split("+", 2)
    raw = base64.b64decode(key_b64)
    if raw[0] != 0x01 or len(raw) != 33:
        raise Invalid("not an Ed25519 verifier key")
    key_id = hashlib.sha256(name.encode() + b"\n" + raw).digest()[:4]
    if key_id.hex() != key_id_hex:
        raise Invalid("verifier key id does not match the key")
    text = note.decode("utf-8")
    body, sep, sigs = text.rpartition("\n\n")
    if not sep:
        raise Invalid("no blank line in the note")
    body += "\n"
    for line in sigs.splitlines():
        prefix = "\u2014 " + name + " "
        if not line.startswith(prefix):
            continue
        blob = base64.b64decode(line[len(prefix) :])
        if blob[:4] != key_id:
            continue
        try:
            Ed25519PublicKey.from_public_bytes(raw[1:]).verify(blob[4:], body.encode())
        except Exception as exc:
            raise Invalid("checkpoint signature does not verify") from exc
        origin, size, root = body.split("\n")[:3]
        if origin != name:
            raise Invalid(f"checkpoint origin {origin!r} is not the key's name {name!r}")
        return origin, int(size), base64.b64decode(root)
    raise Invalid("no signature by the given key")


# -- tiles ----------------------------------------------------------------------------------


def index_path(n: int) -> str:
    digits = str(n)
    digits = "0" * (-len(digits) % 3) + digits
    groups = [digits[i : i + 3] for i in range(0, len(digits), 3)]
    return "/".join(["x" + g for g in groups[:-1]] + [groups[-1]])


def tile_path(level: int | None, n: int, width: int) -> str:
    head = "tile/entries" if level is None else f"tile/{level}"
    return f"{head}/{index_path(n)}" + (f".p/{width}" if width < 256 else "")


class Tiles:
    """Hashes of a tree of ``size`` leaves, read from tiles fetched on demand."""

    def __init__(self, fetch: Fetch, size: int) -> None:
        self.fetch = fetch
        self.size = size
        self.cache: dict[tuple[int, int], list[bytes]] = {}
        self.fetched: list[str] = []

    def width(self, level: int, n: int) -> int:
        return min(256, (self.size >> (8 * level)) - n * 256)

    def tile(self, level: int, n: int) -> list[bytes]:
        if (level, n) not in self.cache:
            width = self.width(level, n)
            if width <= 0:
                raise Invalid(f"tile {level}/{n} is beyond the tree")
            path = tile_path(level, n, width)
            blob = self.fetch(path)
            self.fetched.append(path)
            if len(blob) != 32 * width:
                raise Invalid(f"{path} is {len(blob)} bytes, expected {32 * width}")
            self.cache[(level, n)] = [blob[i : i + 32] for i in range(0, len(blob), 32)]
        return self.cache[(level, n)]

    def perfect(self, height: int, k: int) -> bytes:
        """MTH(D[k * 2**height : (k + 1) * 2**height]), hashed up from the tile below."""
        level, r = divmod(height, 8)
        first = k << r
        hashes = self.tile(level, first // 256)[first % 256 : first % 256 + (1 << r)]
        if len(hashes) != 1 << r:
            raise Invalid(f"tile {level}/{first // 256} lacks the node ({height}, {k})")
        while len(hashes) > 1:
            hashes = [node_hash(hashes[i], hashes[i + 1]) for i in range(0, len(hashes), 2)]
        return hashes[0]

    def mth(self, lo: int, hi: int) -> bytes:
        """MTH(D[lo:hi]) for a range RFC 9162's recursion produces (``lo`` aligned)."""
        n = hi - lo
        if n & (n - 1) == 0 and lo % n == 0:
            return self.perfect(n.bit_length() - 1, lo // n)
        k = 1 << ((n - 1).bit_length() - 1)
        return node_hash(self.mth(lo, lo + k), self.mth(lo + k, hi))

    def inclusion(self, m: int, lo: int = 0, hi: int | None = None) -> list[bytes]:
        """PATH(m, D[lo:hi]) of RFC 9162 section 2.1.3.1."""
        hi = self.size if hi is None else hi
        n = hi - lo
        if n == 1:
            return []
        k = 1 << ((n - 1).bit_length() - 1)
        if m < k:
            return [*self.inclusion(m, lo, lo + k), self.mth(lo + k, hi)]
        return [*self.inclusion(m - k, lo + k, hi), self.mth(lo, lo + k)]

    def consistency(self, m: int) -> list[bytes]:
        """PROOF(m, D[0:size]) of RFC 9162 section 2.1.4.1."""
        return self._subproof(m, 0, self.size, True)

    def _subproof(self, m: int, lo: int, hi: int, whole: bool) -> list[bytes]:
        n = hi - lo
        if m == n:
            return [] if whole else [self.mth(lo, hi)]
        k = 1 << ((n - 1).bit_length() - 1)
        if m <= k:
            return [*self._subproof(m, lo, lo + k, whole), self.mth(lo + k, hi)]
        return [*self._subproof(m - k, lo + k, hi, False), self.mth(lo, lo + k)]

    def entries(self, n: int) -> list[bytes]:
        """The entries of bundle ``n``, each checked against its leaf hash in tile 0/n."""
        width = self.width(0, n)
        blob = self.fetch(tile_path(None, n, width))
        out: list[bytes] = []
        pos = 0
        while pos < len(blob):
            length = int.from_bytes(blob[pos : pos + 2], "big")
            out.append(blob[pos + 2 : pos + 2 + length])
            pos += 2 + length
        if pos != len(blob) or len(out) != width:
            raise Invalid(f"bundle {n} holds {len(out)} entries, expected {width}")
        for i, (data, expected) in enumerate(zip(out, self.tile(0, n), strict=True)):
            if leaf_hash(data) != expected:
                raise Invalid(f"entry {n * 256 + i} does not hash to its leaf in tile 0/{n}")
        return out


# -- RFC 9162 verification (section 2.1.3.2 and 2.1.4.2) --------------------------------------


def verify_inclusion(index: int, size: int, leaf: bytes, proof: list[bytes], root: bytes) -> None:
    if index >= size:
        raise Invalid("index beyond the tree")
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise Invalid("inclusion proof too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0 or r != root:
        raise Invalid(f"inclusion of {index} in {size} does not reach the root")


def verify_consistency(
    size1: int, size2: int, root1: bytes, root2: bytes, proof: list[bytes]
) -> None:
    if size1 == size2:
        if proof or root1 != root2:
            raise Invalid("equal sizes need equal roots and an empty proof")
        return
    if not 0 < size1 < size2 or not proof:
        raise Invalid("bad sizes or empty proof")
    if size1 & (size1 - 1) == 0:
        proof = [root1, *proof]
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            raise Invalid("consistency proof too long")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0 or fr != root1 or sr != root2:
        raise Invalid(f"consistency from {size1} to {size2} does not verify")


def prove_entry(fetch: Fetch, vkey: str, index: int) -> bytes:
    """Fetch the checkpoint, the entry's bundle and the tiles of its audit path; verify it
    all against the signed root and return the entry's leaf data."""
    _, size, root = verify_checkpoint(fetch("checkpoint"), vkey)
    tiles = Tiles(fetch, size)
    data = tiles.entries(index // 256)[index % 256]
    verify_inclusion(index, size, leaf_hash(data), tiles.inclusion(index), root)
    return data


def prove_consistent(fetch: Fetch, vkey: str, old_note: bytes) -> tuple[int, int]:
    """Verify that the served checkpoint extends ``old_note``; return (old, new) sizes."""
    _, size1, root1 = verify_checkpoint(old_note, vkey)
    _, size2, root2 = verify_checkpoint(fetch("checkpoint"), vkey)
    tiles = Tiles(fetch, size2)
    verify_consistency(size1, size2, root1, root2, tiles.consistency(size1) if size1 else [])
    return size1, size2
