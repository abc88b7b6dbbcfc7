"""Fast RFC 8785 (JCS): moved to the pure core (:mod:`foodtrace.trace.canonical`), where the
scanner and entry parsing use it too; kept here for the store's callers."""

from foodtrace.trace.canonical import MAX_SAFE_INT, DuplicateKeyError, dumps, loads

__all__ = ["MAX_SAFE_INT", "DuplicateKeyError", "dumps", "loads"]
