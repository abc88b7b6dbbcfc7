"""Cursor pagination for list endpoints, in the shape of the EPCIS 2.0 REST binding:
``perPage`` (bounded) and an opaque ``nextPageToken``; the next page's URL goes in
``Link: <…>; rel="next"`` and the token alone in ``Next-Page-Token``. Bodies stay lists.

A token is the base64url JSON of the last row's sort key plus the list it belongs to. It is
validated, not trusted: a token for another list, or one that does not decode to the key's
shape, is refused with 400 naming ``nextPageToken``; a hand-made key only moves the cursor
(the query still applies every filter and authorisation).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Query, Request, Response
from starlette.datastructures import URL

from foodtrace.api.problems import FieldProblem, Problem, problem_responses, problem_type
from foodtrace.config import LIST_DEFAULT_PER_PAGE, LIST_MAX_PER_PAGE

TOKEN_PARAM = "nextPageToken"
PER_PAGE_PARAM = "perPage"
TOKEN_HEADER = "Next-Page-Token"

Key = list[Any]  # the sort key of a row: JSON scalars
T = TypeVar("T")
Part = Callable[[Any], Any]  # one part of a token's key, checked and parsed


def _exact(kind: type) -> Part:
    def parse(value: Any) -> Any:
        if type(value) is not kind:
            raise ValueError(value)
        return value

    return parse


TEXT: Part = _exact(str)


def INT(value: Any) -> int:
    """An integer key part that a database column can compare with (64-bit)."""
    if type(value) is not int or not -(2**63) <= value < 2**63:
        raise ValueError(value)
    return value


def TIME(value: Any) -> datetime:
    """A time key part, naive or aware exactly as the row's column gave it."""
    return datetime.fromisoformat(TEXT(value))


def DAY(value: Any) -> date:
    return date.fromisoformat(TEXT(value))


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value  # datetime is a date


def bad_page(pointer: str, detail: str) -> Problem:
    return Problem(
        400,
        "Bad Request",
        "The paging parameters are not valid.",
        problem_type("bad-page"),
        [FieldProblem(pointer, detail)],
    )


def encode_token(scope: str, key: Key) -> str:
    raw = json.dumps({"l": scope, "k": key}, separators=(",", ":"), ensure_ascii=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(scope: str, token: str, shape: Sequence[type] | None) -> Key:
    """The key a token names, each part of the type in ``shape`` (None: any key); refused
    otherwise."""
    pointer = f"/query/{TOKEN_PARAM}"
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        position = json.loads(raw)
        key = position["k"]
        if position["l"] != scope:
            raise bad_page(pointer, "this token belongs to another list")
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise bad_page(pointer, "expected a nextPageToken returned by this endpoint") from None
    if shape is None and isinstance(key, list):
        return key
    if (
        shape is None
        or not isinstance(key, list)
        or len(key) != len(shape)
        or not all(type(v) is t for v, t in zip(key, shape, strict=True))
    ):
        raise bad_page(pointer, "expected a nextPageToken returned by this endpoint")
    return key


@dataclass(frozen=True)
class PageRequest:
    per_page: int
    token: str | None
    url: URL

    def after(self, scope: str, shape: Sequence[type]) -> Key | None:
        """The previous page's last key, or None on the first page."""
        return None if self.token is None else decode_token(scope, self.token, shape)

    def after_time(self, scope: str) -> tuple[datetime, str] | None:
        """:meth:`after` for lists ordered newest first by (a time, an id)."""
        after = self.after(scope, (str, str))
        if after is None:
            return None
        try:
            at = datetime.fromisoformat(after[0])
        except ValueError:
            raise bad_page(
                f"/query/{TOKEN_PARAM}", "expected a nextPageToken returned by this endpoint"
            ) from None
        return (at if at.tzinfo else at.replace(tzinfo=UTC)), after[1]

    @property
    def fetch(self) -> int:
        """Rows to ask the database for: one more than a page, to tell whether more remain."""
        return self.per_page + 1

    def after_key(self, *parts: Part) -> Key | None:
        """For a list paged in SQL (a keyset on its order): the previous page's last key,
        each part checked and parsed by ``parts`` (``INT``, ``TEXT``, ``TIME``, ``DAY``), or
        None on the first page. Pair with :meth:`keyed`."""
        if self.token is None:
            return None
        key = decode_token(self.url.path, self.token, None)
        try:
            if len(key) != len(parts):
                raise ValueError(key)
            return [part(value) for part, value in zip(parts, key, strict=True)]
        except (ValueError, TypeError):
            raise bad_page(
                f"/query/{TOKEN_PARAM}", "expected a nextPageToken returned by this endpoint"
            ) from None

    def after_index(self) -> int | None:
        """:meth:`after_key` for lists in entry order: the previous page's last index."""
        after = self.after_key(INT)
        return None if after is None else int(after[0])

    def keyed(self, response: Response, rows: list[T], *parts: Callable[[T], Any]) -> list[T]:
        """One page of ``rows``, which the service fetched (:attr:`fetch` of them, after
        :meth:`after_key`'s key) in the order ``parts`` name; the next page's token holds
        the last row's parts."""
        return self.page(
            response, self.url.path, rows, lambda row: [_jsonable(part(row)) for part in parts]
        )

    def page(
        self, response: Response, scope: str, rows: list[T], key: Callable[[T], Key]
    ) -> list[T]:
        """The first ``per_page`` of ``rows`` (fetched as ``per_page + 1`` to tell whether
        more remain), with the next page's headers set on ``response`` when they do."""
        if len(rows) <= self.per_page:
            return rows
        rows = rows[: self.per_page]
        token = encode_token(scope, key(rows[-1]))
        response.headers["Link"] = f'<{self.next_url(token)}>; rel="next"'
        response.headers[TOKEN_HEADER] = token
        return rows

    def next_url(self, token: str) -> str:
        """This list's URL (on the public origin) continuing after ``token``."""
        return str(
            self.url.remove_query_params(TOKEN_PARAM).include_query_params(**{TOKEN_PARAM: token})
        )


def page_request(
    request: Request,
    per_page: Annotated[
        str | None,
        Query(
            alias=PER_PAGE_PARAM,
            description=f"Rows per page, 1 to {LIST_MAX_PER_PAGE} (default "
            f"{LIST_DEFAULT_PER_PAGE})",
        ),
    ] = None,
    token: Annotated[
        str | None,
        Query(alias=TOKEN_PARAM, description="From the previous page's Next-Page-Token"),
    ] = None,
) -> PageRequest:
    size = LIST_DEFAULT_PER_PAGE
    if per_page is not None:
        if not per_page.isdigit() or not 1 <= int(per_page) <= LIST_MAX_PER_PAGE:
            raise bad_page(
                f"/query/{PER_PAGE_PARAM}",
                f"expected an integer from 1 to {LIST_MAX_PER_PAGE}, got {per_page!r:.40}",
            )
        size = int(per_page)
    public = URL(request.app.state.settings.public_base_url)  # never the client's Host
    url = request.url.replace(scheme=public.scheme, netloc=public.netloc)
    return PageRequest(size, token or None, url)


PageDep = Annotated[PageRequest, Depends(page_request)]


def paged_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a paginated list: its paging headers and the 400 for bad ones."""
    return {
        200: {
            "description": "One page; when more remain, the next page's link and token",
            "headers": {
                "Link": {
                    "description": 'The next page: `<url>; rel="next"` (absent on the last)',
                    "schema": {"type": "string"},
                },
                TOKEN_HEADER: {
                    "description": "The next page's nextPageToken (absent on the last)",
                    "schema": {"type": "string"},
                },
            },
        },
        **problem_responses(400, *statuses),
    }
