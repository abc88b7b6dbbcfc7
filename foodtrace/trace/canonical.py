"""Fast RFC 8785 (JCS) for the common case, falling back to the reference library.

JCS output equals ``json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False)``
when the value holds no floats (ES6 number formatting differs), every integer is exactly
representable as a double, and no object key has characters outside the Basic Multilingual
Plane (JCS sorts keys by UTF-16 code units, Python by code points). Bulk ingest and entry
parsing (:func:`foodtrace.trace.entry.loads`, hence the scanner) check that while parsing and
use the C encoder, 5x faster than the pure-Python reference; anything else goes through
:mod:`rfc8785`. Tests compare both on generated values.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import rfc8785

MAX_SAFE_INT = 2**53 - 1
_encode = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode


class DuplicateKeyError(ValueError):
    pass


class _Parse:
    """Parse hooks recording whether the fast encoder is exact for this value."""

    def __init__(self) -> None:
        self.simple = True

    def pairs(self, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, v in pairs:
            if k in out:
                raise DuplicateKeyError(f"duplicate key {k!r}")
            if self.simple and not k.isascii() and any(ord(c) > 0xFFFF for c in k):
                self.simple = False
            out[k] = v
        return out

    def float(self, text: str) -> float:
        self.simple = False
        return float(text)

    @staticmethod
    def constant(text: str) -> Any:
        raise ValueError(f"{text} is not a JSON number")

    def int(self, text: str) -> int:
        value = int(text)
        if self.simple and abs(value) > MAX_SAFE_INT:
            self.simple = False
        return value


_parsers = threading.local()


def _parser() -> tuple[_Parse, json.JSONDecoder]:
    """This thread's reusable decoder: building one (and its scanner) per call costs more
    than parsing a small entry."""
    got: tuple[_Parse, json.JSONDecoder] | None = getattr(_parsers, "got", None)
    if got is None:
        hooks = _Parse()
        decoder = json.JSONDecoder(
            object_pairs_hook=hooks.pairs,
            parse_float=hooks.float,
            parse_int=hooks.int,
            parse_constant=hooks.constant,
        )
        got = _parsers.got = (hooks, decoder)
    return got


def loads(raw: bytes | str) -> tuple[Any, bool]:
    """Parse strict JSON (duplicate keys refused); also say whether :func:`dumps` may take
    the fast path for the result."""
    if isinstance(raw, str):
        if raw.startswith("\ufeff"):
            raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", raw, 0)
        text = raw
    else:
        text = raw.decode(json.detect_encoding(raw), "surrogatepass")
    hooks, decoder = _parser()
    hooks.simple = True
    obj = decoder.decode(text)
    return obj, hooks.simple


def dumps(obj: Any, simple: bool) -> bytes:
    """JCS bytes of ``obj``; ``simple`` must come from :func:`loads` of that very value."""
    if simple:
        try:
            return _encode(obj).encode("utf-8")
        except UnicodeEncodeError as exc:
            raise rfc8785.CanonicalizationError(f"string is not valid Unicode: {exc}") from exc
    return rfc8785.dumps(obj)
