"""Keyset pages in SQL: the rows after (or before) the previous page's last key, at most
``limit`` of them, so a list endpoint reads one page from the database, not the whole list.

The API side (tokens, ``perPage``, headers) is ``foodtrace.api.paging``; services take the
``after``/``limit`` it decodes and apply them here.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, and_, or_
from sqlalchemy.orm import InstrumentedAttribute

S = TypeVar("S", bound=Select[Any])
Column = ColumnElement[Any] | InstrumentedAttribute[Any]


def ascending(stmt: S, column: Column, after: Any | None, limit: int | None) -> S:
    """``stmt`` ordered by ``column`` (unique), from after ``after``."""
    stmt = stmt.order_by(column)
    if after is not None:
        stmt = stmt.where(column > after)
    return stmt if limit is None else stmt.limit(limit)


def descending(stmt: S, column: Column, before: Any | None, limit: int | None) -> S:
    """``stmt`` newest first by ``column`` (unique), from before ``before``."""
    stmt = stmt.order_by(column.desc())
    if before is not None:
        stmt = stmt.where(column < before)
    return stmt if limit is None else stmt.limit(limit)


def pair_after(
    first: Column, second: Column, key: tuple[Any, Any], *, desc: bool
) -> ColumnElement[bool]:
    """Rows after ``key`` in the order (``first``, ``second``) (``second`` unique), written
    as OR/AND so both databases use an index on the pair."""
    a, b = key
    if desc:
        return or_(first < a, and_(first == a, second < b))
    return or_(first > a, and_(first == a, second > b))
