"""Rendered workbench pages kept while nothing they show can have changed.

A page is kept under a key that names everything it is a function of: the template, the
party and role it was built for, the log's size and the day (China time) it was built on.
That is only correct for a page whose every input is a projection of the log (its rows are
written in the same transaction as the entries they come from, :mod:`foodtrace.record.service`)
or the day: the same reasoning as grading's own bookmark (:func:`foodtrace.grading.flows.dirty`,
"the log grew or the day changed"). A page that reads the clock finer than a day, or data
written outside the log (scan counts, complaints' contact data, ended sessions), must not be
kept here. The session check and the CSRF token are never cached: the token is rendered as a
per-process placeholder and put in at every request.

The log size is read before and after the page is built, and the page is kept only when both
agree, so a page is never kept under a size it was not built at.
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from datetime import date
from typing import Any, Final, Generic, TypeVar

from sqlalchemy.orm import Session

from foodtrace.grading.planning import schedule
from foodtrace.grading.schemas import ScheduleOut

MAX_PAGES: Final = 256
"""Pages kept (least recently used dropped): a few per logged-in inspector."""
CSRF_MARK: Final = "csrf-" + secrets.token_hex(16)
"""What stands for the CSRF token in a kept page: random per process, so no data matches it."""


T = TypeVar("T")


class PageCache(Generic[T]):
    """A bounded, thread-safe map of page keys to what was built for them: rendered HTML
    (with :data:`CSRF_MARK`), or a part of a page that is a function of the log and the day
    only (a grid's inspection schedule). What is kept is shared: never mutate it."""

    def __init__(self, max_pages: int = MAX_PAGES) -> None:
        self._pages: OrderedDict[Hashable, T] = OrderedDict()
        self._lock = threading.Lock()
        self._max = max_pages

    def page(
        self,
        key: Hashable,
        size: Callable[[], int],
        build: Callable[[], T],
    ) -> T:
        """The page under ``(key, log size)``, built (and kept if the log did not grow while
        it was built) when not kept."""
        before = size()
        with self._lock:
            kept = self._pages.get((key, before))
            if kept is not None:
                self._pages.move_to_end((key, before))
                return kept
        html = build()
        if size() == before:
            with self._lock:
                self._pages[(key, before)] = html
                while len(self._pages) > self._max:
                    self._pages.popitem(last=False)
        return html

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()


GridPart = Callable[[Session, date, list[str] | None], T]
"""A part of a page built from a session, the day and some businesses (a grid's)."""


def planned(db: Session, today: date, ids: list[str] | None) -> list[ScheduleOut]:
    """The inspection schedule of ``today`` for ``ids``' businesses."""
    return schedule(db, today, party_ids=ids)


def kept_part(
    cache: PageCache[Any], size: Callable[[], int], name: str, build: GridPart[T]
) -> GridPart[T]:
    """``build`` kept per (name, day, businesses, log size). Only for a part that is a
    function of the log and the day: the schedule and the inspection alerts read grades,
    visits, acknowledgements and names, all projected from the log in the append's
    transaction, and their only clock is the day."""

    def of(db: Session, today: date, ids: list[str] | None) -> T:
        key = (name, today, None if ids is None else tuple(ids))
        found: T = cache.page(key, size, lambda: build(db, today, ids))
        return found

    return of
