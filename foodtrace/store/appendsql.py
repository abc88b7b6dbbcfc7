"""The SQL of an append, per dialect: entries, tiles, and the tree's stored right edge.

Plain functions over the writer's connection, run inside its transaction. SQLite gets
multi-row ``VALUES`` statements of at most :data:`ROWS_PER_INSERT` rows; PostgreSQL one
statement of six arrays (:func:`_insert_columns`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection

from foodtrace.store.leaves import Leaves, Record, is_meta
from foodtrace.trace import layout

ROWS_PER_INSERT = 500


def paramstyle(sqlite: bool, text: str) -> str:
    """``text`` with the dialect's placeholders: ``?`` on SQLite, ``%s`` on PostgreSQL."""
    return text if sqlite else text.replace("?", "%s")


def insert_records(conn: Connection, sqlite: bool, records: Sequence[Record], start: int) -> None:
    if not records:
        return
    if not sqlite:
        columns = list(zip(*records, strict=True))
        del columns[1]  # the leaf hashes are not stored
        _insert_columns(conn, range(start, start + len(records)), *columns)
        return
    cur = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    one = "(?,?,?,?,?,?)"
    head = "INSERT INTO entries (leaf_index, data, type, author, key_id, issued_at) VALUES "
    full_sql = head + ",".join([one] * ROWS_PER_INSERT)
    for offset in range(0, len(records), ROWS_PER_INSERT):
        chunk = records[offset : offset + ROWS_PER_INSERT]
        params: list[Any] = []
        i = start + offset
        for r in chunk:
            params += (i, r.data, r.type, r.author, r.key, r.issued_at)
            i += 1
        sql = full_sql if len(chunk) == ROWS_PER_INSERT else head + ",".join([one] * len(chunk))
        cur.execute(sql, params)
    cur.close()


def insert_leaves(conn: Connection, sqlite: bool, leaves: Leaves, start: int) -> None:
    """Insert columns with multi-row statements whose parameters are built by slice
    assignment (C loops), not a Python loop per entry; on PostgreSQL one statement of
    six arrays."""
    n = len(leaves.datas)
    if not n:
        return
    shared = is_meta(leaves.metas)
    if not sqlite:
        meta = [[m] * n for m in leaves.metas] if shared else zip(*leaves.metas, strict=True)
        _insert_columns(conn, range(start, start + n), leaves.datas, *meta)
        return
    if not shared:
        columns = list(zip(*leaves.metas, strict=True))
    cur = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    one = "(?,?,?,?,?,?)"
    head = "INSERT INTO entries (leaf_index, data, type, author, key_id, issued_at) VALUES "
    full_sql = head + ",".join([one] * ROWS_PER_INSERT)
    for offset in range(0, n, ROWS_PER_INSERT):
        m = min(ROWS_PER_INSERT, n - offset)
        params: list[Any] = [None] * (6 * m)
        params[0::6] = range(start + offset, start + offset + m)
        params[1::6] = leaves.datas[offset : offset + m]
        for c in range(4):
            if shared:
                params[2 + c :: 6] = [leaves.metas[c]] * m
            else:
                params[2 + c :: 6] = columns[c][offset : offset + m]
        sql = full_sql if m == ROWS_PER_INSERT else head + ",".join([one] * m)
        cur.execute(sql, params)
    cur.close()


def write_tiles(conn: Connection, sqlite: bool, writes: list[layout.TileWrite]) -> None:
    if not writes:
        return
    sql = paramstyle(
        sqlite,
        "INSERT INTO tiles (level, idx, width, hashes) VALUES (?,?,?,?) "
        "ON CONFLICT (level, idx) DO UPDATE SET width = excluded.width, "
        "hashes = excluded.hashes",
    )
    cur = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    cur.executemany(sql, [(w.tile[0], w.tile[1], w.width, w.blob) for w in writes])
    cur.close()


def stored_size(conn: Connection) -> int:
    got = conn.exec_driver_sql("SELECT COALESCE(MAX(leaf_index) + 1, 0) FROM entries")
    return int(got.scalar_one())


def load_edge(conn: Connection, sqlite: bool, size: int) -> layout.Edge:
    wanted = layout.edge_tiles(size)
    partial: list[list[bytes]] = [[] for _ in range(layout.tile_levels(size))]
    for (tile_level, tile_index), width in wanted:
        row = conn.exec_driver_sql(
            paramstyle(sqlite, "SELECT width, hashes FROM tiles WHERE level = ? AND idx = ?"),
            (tile_level, tile_index),
        ).first()
        if row is None or row[0] < width:
            raise RuntimeError(
                f"tile ({tile_level}, {tile_index}) is missing or narrower than {width}: "
                "run `foodtrace audit`"
            )
        partial[tile_level] = layout.bottom_of(row[1], width)
    return layout.Edge(size, partial)


_INSERT_COLUMNS = (
    "INSERT INTO entries (leaf_index, data, type, author, key_id, issued_at) "
    "SELECT * FROM unnest(%s::bigint[], %s::bytea[], %s::text[], %s::text[], %s::text[], "
    "%s::text[])"
)


def _insert_columns(conn: Connection, indices: range, *columns: Sequence[Any]) -> None:
    """PostgreSQL: insert entries given in columns with one statement of six arrays (a
    multi-row VALUES of thousands of placeholders is re-parsed by the driver every time)."""
    cur = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    cur.execute(_INSERT_COLUMNS, [list(indices), *(list(c) for c in columns)])
    cur.close()
