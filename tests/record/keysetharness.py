"""Checking a list that pages in SQL (a keyset, ``foodtrace/store/keyset.py``): walked page
by page it gives exactly the unpaged list, each row once, the last page has no token, a token
of another key shape is 400, and the SQL the app sends while serving a page."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from fastapi.testclient import TestClient
from recordharness import assert_problem, pointers
from sqlalchemy import event

from foodtrace.api.paging import TOKEN_HEADER, encode_token
from foodtrace.config import LIST_MAX_PER_PAGE


class Env(Protocol):
    """Anything with the app's test client (the record harness's Env, the EPCIS repository)."""

    @property
    def client(self) -> TestClient: ...


def walk(
    env: Env,
    path: str,
    per_page: int,
    *,
    params: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[list[Any], int]:
    """Every row of ``path`` followed page by page, and how many pages it took."""
    seen: list[Any] = []
    token: str | None = None
    pages = 0
    while True:
        paging = {"perPage": str(per_page)} | ({"nextPageToken": token} if token else {})
        r = env.client.get(path, params=(params or {}) | paging, headers=headers)
        assert r.status_code == 200, r.text
        rows = r.json()
        assert len(rows) <= per_page
        seen += rows
        pages += 1
        token = r.headers.get(TOKEN_HEADER)
        if token is None:
            assert "link" not in r.headers
            return seen, pages
        assert len(rows) == per_page


def check_list(
    env: Env,
    path: str,
    rows: int,
    wrong_shape: list[Any],
    *,
    params: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> list[Any]:
    """The whole list (at least ``rows``), after checking its walks and refusals."""
    query = params or {}
    whole = env.client.get(
        path, params=query | {"perPage": str(LIST_MAX_PER_PAGE)}, headers=headers
    )
    assert whole.status_code == 200 and TOKEN_HEADER not in whole.headers, whole.text
    everything = whole.json()
    assert len(everything) >= rows  # writes may add computed grades beside the typed ones
    rows = len(everything)
    first = env.client.get(path, params=query | {"perPage": "2"}, headers=headers)
    assert first.json() == everything[:2]  # the first page is the list's head, unchanged
    seen, pages = walk(env, path, 2, params=params, headers=headers)
    assert seen == everything and pages == (rows + 1) // 2
    for per_page in (1, rows - 1):  # pages of one, and N-1 then 1 (N+1 rows at the edge)
        assert walk(env, path, max(per_page, 1), params=params, headers=headers)[0] == everything
    token = encode_token(path, wrong_shape)
    refused = env.client.get(path, params=query | {"nextPageToken": token}, headers=headers)
    assert_problem(refused, 400)
    assert pointers(refused) == {"/query/nextPageToken"}
    one = env.client.get(path, params=query | {"perPage": "1"}, headers=headers)
    garbled = query | {"nextPageToken": one.headers[TOKEN_HEADER] + "x"}
    assert env.client.get(path, params=garbled, headers=headers).status_code == 400
    return everything


@contextmanager
def statements(env: Env, engine: Any = None) -> Iterator[list[str]]:
    """The SQL the app (or ``engine``) sends while the block runs (to check a list reads
    one page)."""
    seen: list[str] = []

    def record(*args: Any) -> None:
        seen.append(args[2])

    engine = engine if engine is not None else env.client.app.state.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)
